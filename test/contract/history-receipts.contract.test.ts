import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../src/ports/history-store.port.ts';
import { useTestStore } from '../support/test-store.ts';

const BOT = 'receipt-bot';
const TO = '16315551234';

function sentRow(seq: number, providerMessageId: string): HistoryRecord {
  const at = new Date('2026-11-30T04:00:00Z');
  return {
    botId: BOT, correspondentId: TO, seq, providerMessageId, direction: 'outbound', source: 'bot', sender: BOT,
    kind: 'text', content: `message ${seq}`, status: 'sent', mediaJobId: null, acceptedAt: at, finalizedAt: at,
  };
}

describe('receipts on sent messages in history', () => {
  const t = useTestStore('parley_receipts');
  const rowOf = async (wamid: string) => t.store.history.findByProviderMessageId(BOT, TO, wamid);
  const at = (s: number) => new Date(1_800_000_000_000 + s * 1000);

  it('moves a row forward only: sent, delivered, read; a late or repeated receipt changes nothing', async () => {
    await t.store.history.append([sentRow(1, 'wamid.A')]);
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.A', { status: 'sent', at: at(1) })).toBe(true);
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.A', { status: 'delivered', at: at(2) })).toBe(true);
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.A', { status: 'read', at: at(3) })).toBe(true);
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.A', { status: 'delivered', at: at(4) })).toBe(false);
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.A', { status: 'read', at: at(5) })).toBe(false);
    expect(await rowOf('wamid.A')).toMatchObject({ status: 'sent', receipt: { status: 'read', at: at(3) } });
  });

  it('marks the row failed with the provider\'s reason on a failed receipt, and nothing follows it', async () => {
    await t.store.history.append([sentRow(2, 'wamid.B')]);
    await t.store.history.recordReceipt(BOT, TO, 'wamid.B', { status: 'sent', at: at(1) });
    const error = '131047 Re-engagement message: more than 24 hours have passed';
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.B', { status: 'failed', at: at(2), error })).toBe(true);
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.B', { status: 'read', at: at(3) })).toBe(false);
    expect(await rowOf('wamid.B')).toMatchObject({ status: 'failed', error, receipt: { status: 'failed', error } });
  });

  it('touches no inbound row and reports a receipt for a message it does not know', async () => {
    const at0 = new Date();
    await t.store.history.append([{ ...sentRow(3, 'wamid.IN'), direction: 'inbound', source: 'user', status: 'final', acceptedAt: at0 }]);
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.IN', { status: 'read', at: at(1) })).toBe(false);
    expect(await t.store.history.recordReceipt(BOT, TO, 'wamid.NONE', { status: 'delivered', at: at(1) })).toBe(false);
    expect((await rowOf('wamid.IN'))?.receipt).toBeUndefined();
  });
});
