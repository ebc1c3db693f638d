import { describe, expect, it } from 'vitest';
import type { HistoryRecord, HistoryStore } from '../../../src/ports/history-store.port.ts';
import { createHistoryWriter } from '../../../src/runtime/conversations/history-writer.ts';

const row = (seq: number, correspondentId = 'c1'): HistoryRecord => ({
  botId: 'b', correspondentId, seq, providerMessageId: `p${seq}`, direction: 'inbound', source: 'user', sender: correspondentId,
  kind: 'text', content: `m${seq}`, status: 'final', mediaJobId: null, acceptedAt: new Date(0), finalizedAt: null,
});

/** A history store whose appends wait until the test releases them, in any order. */
function gatedHistory() {
  const appends: { records: readonly HistoryRecord[]; release: () => void }[] = [];
  const history = {
    append: (records: readonly HistoryRecord[]) =>
      new Promise<{ inserted: number; duplicates: number[] }>((resolve) => {
        appends.push({ records, release: () => resolve({ inserted: records.length, duplicates: [] }) });
      }),
  } as unknown as HistoryStore;
  return { history, appends };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('history group commit', () => {
  it('gathers rows that arrive while batches are in flight into one batch, with at most two batches writing at once', async () => {
    const { history, appends } = gatedHistory();
    const writer = createHistoryWriter({ history });
    const first = writer.write(row(1, 'a'));
    await tick();
    const second = writer.write(row(1, 'b'));
    await tick();
    const gathered = [writer.write(row(1, 'c')), writer.write(row(1, 'd'))];
    await tick();
    expect(appends.map((a) => a.records.map((r) => r.correspondentId))).toEqual([['a'], ['b']]);
    appends[1]!.release();
    await second;
    await tick();
    expect(appends.map((a) => a.records.map((r) => r.correspondentId))).toEqual([['a'], ['b'], ['c', 'd']]);
    appends[0]!.release();
    appends[2]!.release();
    expect(await Promise.all([first, ...gathered])).toEqual(['inserted', 'inserted', 'inserted']);
  });

  it('settles each row of a batch by its own outcome and flushes what is pending', async () => {
    const history = {
      append: async (records: readonly HistoryRecord[]) => ({ inserted: records.length - 1, duplicates: [1] }),
    } as unknown as HistoryStore;
    const writer = createHistoryWriter({ history, windowMs: 50 });
    const outcomes = [writer.write(row(1)), writer.write(row(2))];
    expect(await writer.flush(1000)).toBe(true);
    expect(await Promise.all(outcomes)).toEqual(['inserted', 'duplicate']);
  });
});
