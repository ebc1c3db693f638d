import { describe, expect, it } from 'vitest';
import type { NewWorkItem, WorkQueueStore } from '../../src/ports/work-queue.port.ts';
import { useTestStore } from '../support/test-store.ts';
import { LEASE, QUEUES, T0, at, write } from './work-queues-under-test.ts';

const effect = (id: string, n: number) => ({ id, type: 'recordSent', params: { n } });

/**
 * A transition that acknowledges effects in its own write (`WorkItemWrite.acknowledge`), and the
 * fair-queuing tag written in one update: the same behaviour on every queue and on whichever
 * backend the run selected (MongoDB or the bundled store).
 */
describe.each(QUEUES)('work queue writes: $name', (q) => {
  const t = useTestStore(`parley_wqw_${q.name.replace(' ', '_')}`);
  const queue = () => q.of(t.store);
  const item = (id: string, botId: string): NewWorkItem<object> => ({
    id, botId, kind: 'voice', line: null, lineSeq: null, machineVersion: 1, snapshot: { value: 'pending' }, ...q.data(id),
  });

  it('removes the acknowledged effects and appends the new ones in one compare-and-set', async () => {
    await queue().insert(item('ack-1', 'b-ack'), T0);
    await queue().compareAndSet('ack-1', 1, write({ effects: [effect('ack-1@2#0', 0), effect('ack-1@2#1', 1)] }), at(1));
    // Values are stored as given, also strings an update expression would read as field paths.
    const snapshot = { value: 'sending', context: { text: '$attempt', nested: { note: '$$ROOT', at: at(5) }, list: [1, { $x: 'y' }] } };
    const written = await queue().compareAndSet('ack-1', 2, write({
      state: 'sending', statePath: 'sending', attempt: 2, owner: 'w', leaseUntil: at(LEASE), error: 'e', snapshot,
      effects: [effect('ack-1@3#0', 2)], acknowledge: ['ack-1@2#0'],
    }), at(2));
    expect(written).toMatchObject({
      version: 3, state: 'sending', statePath: 'sending', attempt: 2, owner: 'w', leaseUntil: at(LEASE), notBefore: new Date(0), error: 'e', updatedAt: at(2),
      snapshot, effects: [effect('ack-1@2#1', 1), effect('ack-1@3#0', 2)], ...q.data('ack-1'),
    });
    expect(await queue().get('ack-1')).toEqual(written);
  });

  it('changes nothing at a stale version, acknowledged effects included', async () => {
    await queue().insert(item('ack-2', 'b-ack'), T0);
    await queue().compareAndSet('ack-2', 1, write({ effects: [effect('ack-2@2#0', 0)] }), at(1));
    const before = await queue().get('ack-2');
    expect(await queue().compareAndSet('ack-2', 1, write({ error: 'late', acknowledge: ['ack-2@2#0'] }), at(2))).toBeNull();
    expect(await queue().get('ack-2')).toEqual(before);
  });

  it('never brings back an effect acknowledged before, and leaves no effects when all are acknowledged', async () => {
    await queue().insert(item('ack-3', 'b-ack'), T0);
    await queue().compareAndSet('ack-3', 1, write({ effects: [effect('ack-3@2#0', 0), effect('ack-3@2#1', 1)] }), at(1));
    // Acknowledged on its own meanwhile (no version change): the transition's list names it again.
    await queue().acknowledgeEffects('ack-3', ['ack-3@2#0']);
    const written = await queue().compareAndSet('ack-3', 2, write({ error: 'done', acknowledge: ['ack-3@2#0', 'ack-3@2#1', 'unknown'] }), at(2));
    expect(written).toMatchObject({ version: 3, error: 'done', effects: [] });
    expect((await queue().list({ withEffects: true })).map((r) => r.id)).not.toContain('ack-3');
  });

  it('lets exactly one of several concurrent acknowledging writers win', async () => {
    await queue().insert(item('ack-4', 'b-ack'), T0);
    await queue().compareAndSet('ack-4', 1, write({ effects: [effect('ack-4@2#0', 0)] }), at(1));
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      queue().compareAndSet('ack-4', 2, write({ error: `w${i}`, effects: [effect(`ack-4@3.${i}#0`, i)], acknowledge: ['ack-4@2#0'] }), at(2))));
    const won = results.filter((r) => r !== null);
    expect(won).toHaveLength(1);
    expect(await queue().get('ack-4')).toMatchObject({ version: 3, effects: won[0]!.effects });
    expect(won[0]!.effects.map((e) => e.id)).toEqual([`ack-4@3.${won[0]!.error!.slice(1)}#0`]);
  });
});

describe('fair-queuing tags', () => {
  const t = useTestStore('parley_wqw_fair');
  const queue = (): WorkQueueStore<object> => t.store.mediaJobs;
  const item = (id: string, botId: string): NewWorkItem<object> => ({
    id, botId, kind: 'voice', line: null, lineSeq: null, machineVersion: 1, snapshot: { value: 'pending' }, ...QUEUES[0]!.data(id),
  });
  const tags = async (ids: string[]) => Promise.all(ids.map(async (id) => (await queue().get(id))!.fairSeq));

  it('gives each bot consecutive tags, also when inserted concurrently, and a newcomer one past the last claimed tag', async () => {
    const a = Array.from({ length: 6 }, (_, i) => `fair-a-${i}`);
    await Promise.all(a.map((id) => queue().insert(item(id, 'fair-a'), T0)));
    expect((await tags(a)).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 0; i < 3; i++) expect((await queue().claim({ owner: 'w', leaseMs: LEASE, now: at(10) }))?.fairSeq).toBe(i + 1);
    // Claimed up to tag 3: a bot that queues now starts there, not behind the six of fair-a.
    const b = ['fair-b-0', 'fair-b-1'];
    await Promise.all(b.map((id) => queue().insert(item(id, 'fair-b'), at(20))));
    expect((await tags(b)).sort((x, y) => x - y)).toEqual([4, 5]);
    await queue().insert(item('fair-a-6', 'fair-a'), at(30));
    await queue().insert(item('fair-c-0', 'fair-c'), at(30));
    expect(await tags(['fair-a-6', 'fair-c-0'])).toEqual([7, 4]);
  });
});
