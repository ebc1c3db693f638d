import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../src/ports/history-store.port.ts';
import { useTestStore } from '../support/test-store.ts';

const T0 = new Date('2026-01-01T00:00:00Z');

const row = (correspondentId: string, seq: number): HistoryRecord => ({
  botId: 'b1', correspondentId, seq, providerMessageId: `${correspondentId}-${seq}`, direction: 'inbound', source: 'user',
  sender: correspondentId, senderName: 'Ada', originatingAt: new Date(T0.getTime() - seq), group: null,
  kind: 'text', content: `text ${seq}`, status: 'final', mediaJobId: null, acceptedAt: T0, finalizedAt: null,
});

describe('history read by seq', () => {
  const t = useTestStore('parley_history_seq');

  it('reads the rows of one conversation in the given runs, oldest first, with every field the window shows', async () => {
    await t.store.history.append([...[1, 2, 3, 4, 5, 6, 7].map((seq) => row('c1', seq)), row('c2', 2)]);
    expect((await t.store.history.listBySeq('b1', 'c1', [[2, 3]])).map((r) => r.seq)).toEqual([2, 3]);
    const gapped = await t.store.history.listBySeq('b1', 'c1', [[1, 1], [4, 5], [7, 9]]);
    expect(gapped.map((r) => r.seq)).toEqual([1, 4, 5, 7]);
    expect(gapped[0]).toEqual(row('c1', 1));
    expect(await t.store.history.listBySeq('b1', 'c1', [])).toEqual([]);
  });
});
