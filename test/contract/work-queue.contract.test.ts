import { describe, expect, it } from 'vitest';
import type { NewWorkItem } from '../../src/ports/work-queue.port.ts';
import { useTestStore } from '../support/test-store.ts';
import { LEASE, QUEUES, T0, at, write } from './work-queues-under-test.ts';

/**
 * The work-queue port, held to one suite on every queue the store has (media jobs, outbox) and
 * on whichever backend the run selected (MongoDB or the bundled store).
 */
describe.each(QUEUES)('work queue: $name', (q) => {
  const t = useTestStore(`parley_wq_${q.claimedState}`);
  const queue = () => q.of(t.store);
  const item = (id: string, botId: string, over: Partial<NewWorkItem<object>> = {}): NewWorkItem<object> => ({
    id, botId, kind: 'voice', line: null, lineSeq: null, machineVersion: 1, snapshot: { value: 'pending' }, ...q.data(id), ...over,
  });

  it('inserts a pending row and reads it back with the queue fields and its own data', async () => {
    const created = await queue().insert(item('ins-1', 'b-ins'), T0);
    expect(created).toMatchObject({ id: 'ins-1', botId: 'b-ins', state: 'pending', attempt: 0, owner: null, leaseUntil: null, version: 1, effects: [], ...q.data('ins-1') });
    expect(await queue().get('ins-1')).toEqual(created);
  });

  it('claims each due row once across concurrent claimers, with owner, lease and the next attempt', async () => {
    for (let i = 0; i < 24; i++) await queue().insert(item(`cc-${i}`, `cc-bot-${i % 4}`), at(i));
    const seen = new Set<string>();
    await Promise.all(Array.from({ length: 6 }, async (_, w) => {
      for (;;) {
        const claimed = await queue().claim({ owner: `w${w}`, leaseMs: LEASE, now: at(1000) });
        if (claimed === null) return;
        expect(claimed).toMatchObject({ state: q.claimedState, owner: `w${w}`, attempt: 1, leaseUntil: at(1000 + LEASE), version: 2 });
        expect(seen.has(claimed.id)).toBe(false);
        seen.add(claimed.id);
      }
    }));
    expect([...seen].filter((id) => id.startsWith('cc-'))).toHaveLength(24);
  });

  it('interleaves bots: a bot that queued many rows does not starve one that queued later', async () => {
    for (let i = 0; i < 6; i++) await queue().insert(item(`busy-${i}`, 'fair-busy'), at(i));
    await queue().insert(item('late-1', 'fair-late'), at(10));
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push((await queue().claim({ owner: 'w', leaseMs: LEASE, now: at(100) }))!.botId);
    expect(order).toContain('fair-late');
  });

  it('claims only due rows of the asked kinds', async () => {
    await queue().insert(item('kind-img', 'b-kind', { kind: 'image' }), T0);
    await queue().compareAndSet('kind-img', 1, write({ notBefore: at(500) }), T0);
    expect(await queue().claim({ owner: 'w', leaseMs: LEASE, now: at(100), kinds: ['image'] })).toBeNull();
    expect(await queue().claim({ owner: 'w', leaseMs: LEASE, now: at(600), kinds: ['sticker'] })).toBeNull();
    expect((await queue().claim({ owner: 'w', leaseMs: LEASE, now: at(600), kinds: ['image'] }))?.id).toBe('kind-img');
  });

  it('claims only rows of the named bots, fairly among them, and nothing for an empty list', async () => {
    for (let i = 0; i < 4; i++) await queue().insert(item(`only-busy-${i}`, 'only-busy'), at(i));
    await queue().insert(item('only-late', 'only-late'), at(10));
    await queue().insert(item('only-other', 'only-other'), at(0));
    const claim = (botIds: readonly string[]) => queue().claim({ owner: 'w', leaseMs: LEASE, now: at(100), botIds });
    expect(await claim([])).toBeNull();
    expect(await claim(['only-nobody'])).toBeNull();
    const order: string[] = [];
    for (let row = await claim(['only-busy', 'only-late']); row !== null; row = await claim(['only-busy', 'only-late'])) order.push(row.botId);
    expect(order).toHaveLength(5);
    // The bot that queued later is not kept waiting behind every row of the busy one.
    expect(order.indexOf('only-late')).toBeLessThan(3);
    expect(await queue().get('only-other')).toMatchObject({ state: 'pending', attempt: 0 });
    expect((await claim(['only-other']))?.id).toBe('only-other');
  });

  it('lists rows by a set of bots and by the types of their unacknowledged effects', async () => {
    await queue().insert(item('set-1', 'set-a'), T0);
    await queue().insert(item('set-2', 'set-b'), at(1));
    await queue().insert(item('set-3', 'set-c'), at(2));
    await queue().compareAndSet('set-1', 1, write({ effects: [{ id: 'set-1@2#0', type: 'finalizePlaceholder', params: {} }] }), at(3));
    await queue().compareAndSet('set-2', 1, write({ effects: [{ id: 'set-2@2#0', type: 'releaseMedia', params: {} }] }), at(3));
    const ids = async (filter: Parameters<ReturnType<typeof queue>['list']>[0]) => (await queue().list(filter)).map((r) => r.id);
    expect(await ids({ botIds: ['set-a', 'set-c'] })).toEqual(['set-1', 'set-3']);
    expect(await ids({ botIds: ['set-a', 'set-c'], botId: 'set-c' })).toEqual(['set-3']);
    expect(await ids({ botIds: ['set-a'], botId: 'set-b' })).toEqual([]);
    expect(await ids({ botIds: [] })).toEqual([]);
    expect(await ids({ botIds: ['set-a', 'set-b', 'set-c'], effectTypes: ['finalizePlaceholder', 'reopenPlaceholder'] })).toEqual(['set-1']);
    await queue().acknowledgeEffects('set-1', ['set-1@2#0']);
    expect(await ids({ botIds: ['set-a', 'set-b', 'set-c'], effectTypes: ['finalizePlaceholder'] })).toEqual([]);
  });

  it('writes a transition only at the expected version and lets exactly one concurrent writer win', async () => {
    await queue().insert(item('cas-1', 'b-cas'), T0);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => queue().compareAndSet('cas-1', 1, write({ error: `w${i}` }), at(1))));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect((await queue().get('cas-1'))?.version).toBe(2);
  });

  it('appends effects with a transition and removes acknowledged ones without touching the version', async () => {
    await queue().insert(item('fx-1', 'b-fx'), T0);
    const effect = (n: number) => ({ id: `fx-1@2#${n}`, type: 'recordSent', params: { n } });
    await queue().compareAndSet('fx-1', 1, write({ effects: [effect(0), effect(1)] }), at(1));
    await queue().compareAndSet('fx-1', 2, write({ error: 'next', effects: [] }), at(2));
    expect((await queue().list({ withEffects: true })).map((r) => r.id)).toContain('fx-1');
    await queue().acknowledgeEffects('fx-1', ['fx-1@2#0']);
    const after = await queue().get('fx-1');
    expect(after).toMatchObject({ version: 3, effects: [effect(1)] });
    await queue().acknowledgeEffects('fx-1', ['fx-1@2#1']);
    expect((await queue().list({ withEffects: true })).map((r) => r.id)).not.toContain('fx-1');
  });

  it('lists oldest first in pages, by bot, state and lapsed lease, and counts by state', async () => {
    for (let i = 0; i < 5; i++) await queue().insert(item(`page-${i}`, 'b-page', { kind: 'page' }), at(i));
    const first = await queue().list({ botId: 'b-page', limit: 2 });
    const second = await queue().list({ botId: 'b-page', limit: 2, after: { createdAt: first[1]!.createdAt, id: first[1]!.id } });
    expect([...first, ...second].map((r) => r.id)).toEqual(['page-0', 'page-1', 'page-2', 'page-3']);
    await queue().claim({ owner: 'w', leaseMs: 10, now: at(5), kinds: ['page'] });
    expect(await queue().countByState('b-page')).toEqual({ pending: 4, [q.claimedState]: 1 });
    expect((await queue().list({ states: [q.claimedState], leaseBefore: at(100) })).map((r) => r.botId)).toContain('b-page');
  });

  it('deletes one row, or every row of a bot', async () => {
    await queue().insert(item('del-1', 'b-del'), T0);
    await queue().insert(item('del-2', 'b-del'), T0);
    await queue().insert(item('del-3', 'b-kept'), T0);
    expect(await queue().delete('del-1')).toBe(true);
    expect(await queue().delete('del-1')).toBe(false);
    expect(await queue().deleteByBot('b-del')).toBe(1);
    expect(await queue().get('del-3')).not.toBeNull();
  });

  it.runIf(q.lines)('claims the rows of a line one at a time, in line order, while an earlier one is unfinished', async () => {
    const line = (n: number) => item(`line-${n}`, 'b-line', { kind: 'text', line: 'b-line|c1', lineSeq: n });
    const claim = (now: Date) => queue().claim({ owner: 'w', leaseMs: LEASE, now, kinds: ['text'] });
    await queue().insert(line(2), T0);
    await queue().insert(line(1), at(1));
    await queue().insert(item('other-line', 'b-line', { kind: 'text', line: 'b-line|c2', lineSeq: 1 }), at(2));
    const first = await claim(at(10));
    expect(first?.id).toBe('line-1');
    // line-2 waits for line-1; the other conversation's row is free to go.
    expect((await claim(at(10)))?.id).toBe('other-line');
    expect(await claim(at(10))).toBeNull();
    // A retry puts line-1 back with a backoff: line-2 still waits behind it.
    await queue().compareAndSet('line-1', first!.version, write({ attempt: 1, notBefore: at(50) }), at(11));
    expect(await claim(at(20))).toBeNull();
    const again = await claim(at(60));
    expect(again?.id).toBe('line-1');
    await queue().compareAndSet('line-1', again!.version, write({ state: 'sent', statePath: 'sent', attempt: 2 }), at(61));
    expect((await claim(at(62)))?.id).toBe('line-2');
  });

  it.runIf(q.lines)('keeps line order when claiming for some bots: a later row of a named bot waits for the earlier one', async () => {
    const row = (id: string, botId: string, n: number) => item(id, botId, { kind: 'text', line: `${botId}|c1`, lineSeq: n });
    const claim = (now: Date) => queue().claim({ owner: 'w', leaseMs: LEASE, now, botIds: ['lb-named'] });
    await queue().insert(row('lb-2', 'lb-named', 2), T0);
    await queue().insert(row('lb-1', 'lb-named', 1), at(1));
    await queue().insert(row('lb-other', 'lb-other', 1), T0);
    const first = await claim(at(10));
    expect(first?.id).toBe('lb-1');
    // lb-2 waits for lb-1; the other bot's due row is not the named bots' to take.
    expect(await claim(at(10))).toBeNull();
    await queue().compareAndSet('lb-1', first!.version, write({ state: 'sent', statePath: 'sent', attempt: 1 }), at(11));
    expect((await claim(at(12)))?.id).toBe('lb-2');
    expect(await queue().get('lb-other')).toMatchObject({ state: 'pending' });
  });

  it.runIf(q.lines)('lets exactly one of many concurrent claimers take the head of a line', async () => {
    for (let n = 1; n <= 3; n++) await queue().insert(item(`race-${n}`, 'b-race', { kind: 'race', line: 'b-race|c1', lineSeq: n }), at(n));
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => queue().claim({ owner: `s${i}`, leaseMs: LEASE, now: at(10), kinds: ['race'] })));
    expect(claims.filter((c) => c !== null).map((c) => c!.id)).toEqual(['race-1']);
  });
});
