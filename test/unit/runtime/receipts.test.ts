import { describe, expect, it } from 'vitest';
import type { WebhookEvent } from '../../../src/domain/webhook-events.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { HistoryRecord, Receipt } from '../../../src/ports/history-store.port.ts';
import { createReceipts } from '../../../src/runtime/outbox/receipts.ts';
import { eventually } from '../../support/runtime-harness.ts';

/** History rows by wamid; a row "appears" when the test says the send was recorded. */
function memory() {
  const rows = new Map<string, Receipt | null>();
  let lookups = 0;
  let writes = 0;
  return {
    rows,
    lookups: () => lookups,
    writes: () => writes,
    history: {
      recordReceipt: async (_bot: string, _to: string, wamid: string, receipt: Receipt) => {
        writes += 1;
        if (!rows.has(wamid)) return false;
        if (rows.get(wamid)?.status === receipt.status) return false;
        rows.set(wamid, receipt);
        return true;
      },
      findByProviderMessageId: async (_bot: string, _to: string, wamid: string) => {
        lookups += 1;
        return rows.has(wamid) ? sentRow(wamid) : null;
      },
    },
  };
}

const status = (wamid: string, s: 'delivered' | 'failed') => ({
  wamid, recipientId: '16315551234', status: s, at: 1_800_000_000_000,
  error: s === 'failed' ? { code: 131047, title: 'Re-engagement message', details: 'more than 24 hours have passed' } : null,
});

const sentRow = (wamid: string): HistoryRecord => ({
  botId: 'bot', correspondentId: '16315551234', seq: 1, providerMessageId: wamid, direction: 'outbound', source: 'bot', sender: 'bot',
  kind: 'text', content: 'hi', status: 'sent', mediaJobId: null, acceptedAt: new Date(0), finalizedAt: new Date(0),
});

describe('receipts', () => {
  it('records a receipt that arrived before its send was recorded, once the row is there', async () => {
    const m = memory();
    const published: WebhookEvent[] = [];
    const receipts = createReceipts({ history: m.history, webhooks: { publish: async (e) => (published.push(e), 1) }, clock: Date.now, logger: createLogger('silent'), lateRowDelaysMs: [20, 40, 80] });
    await receipts.record('bot', status('wamid.EARLY', 'delivered'));
    expect(m.rows.size).toBe(0);
    m.rows.set('wamid.EARLY', null);
    await eventually(() => m.rows.get('wamid.EARLY')?.status, (s) => s === 'delivered', 2000);
  });

  it('does not look again for the row of a receipt that changed nothing because the row said as much', async () => {
    const m = memory();
    m.rows.set('wamid.R', { status: 'delivered', at: new Date(0) });
    const receipts = createReceipts({ history: m.history, webhooks: { publish: async () => 1 }, clock: Date.now, logger: createLogger('silent'), lateRowDelaysMs: [10, 10, 10] });
    await receipts.record('bot', status('wamid.R', 'delivered'));
    await new Promise((r) => setTimeout(r, 80));
    expect(m.lookups()).toBe(1);
    expect(m.writes()).toBe(1);
  });

  it('announces a failed receipt as message.failed with Meta\'s code and title', async () => {
    const m = memory();
    m.rows.set('wamid.F', null);
    const published: WebhookEvent[] = [];
    const receipts = createReceipts({ history: m.history, webhooks: { publish: async (e) => (published.push(e), 1) }, clock: Date.now, logger: createLogger('silent') });
    await receipts.record('bot', status('wamid.F', 'failed'));
    expect(m.rows.get('wamid.F')).toMatchObject({ status: 'failed', error: '131047 Re-engagement message: more than 24 hours have passed' });
    expect(published).toEqual([expect.objectContaining({ type: 'message.failed', id: 'message.failed:receipt:bot:wamid.F', data: expect.objectContaining({ providerMessageId: 'wamid.F', error: expect.stringContaining('131047') }) })]);
  });
});
