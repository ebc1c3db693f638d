import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { useTestStore } from '../support/test-store.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const LEASE = 30_000;

describe('outbox claims are leases', () => {
  const t = useTestStore('parley_outbox_lease');

  it('sets the lease on claim and clears it when the message is sent', async () => {
    await t.store.outbox.enqueue({ id: 'l1', botId: 'lb1', to: 'c1', text: 'hi' }, T0);
    const claimed = await t.store.outbox.claimDue('lb1', 'a', at(10), LEASE);
    expect(claimed).toMatchObject({ state: 'sending', owner: 'a', attempt: 1, leaseUntil: at(10 + LEASE) });
    expect(await t.store.outbox.markSent('l1', 1, at(20))).toBe(true);
    expect((await t.store.outbox.list('lb1'))[0]).toMatchObject({ state: 'sent', owner: null, leaseUntil: null });
  });

  it('leaves a sending message alone while its lease runs', async () => {
    await t.store.outbox.enqueue({ id: 'l2', botId: 'lb2', to: 'c1', text: 'hi' }, T0);
    await t.store.outbox.claimDue('lb2', 'a', at(10), LEASE);
    expect(await t.store.outbox.claimDue('lb2', 'b', at(10 + LEASE - 1), LEASE)).toBeNull();
  });

  it('claims a sending message again once its lease lapsed, as the next attempt, and discards the old sender\'s reports', async () => {
    await t.store.outbox.enqueue({ id: 'l3', botId: 'lb3', to: 'c1', text: 'hi' }, T0);
    const first = await t.store.outbox.claimDue('lb3', 'dead', at(10), LEASE);
    const second = await t.store.outbox.claimDue('lb3', 'alive', at(10 + LEASE), LEASE);
    expect(second).toMatchObject({ id: 'l3', state: 'sending', owner: 'alive', attempt: first!.attempt + 1, leaseUntil: at(10 + 2 * LEASE) });

    expect(await t.store.outbox.markSent('l3', first!.attempt, at(10 + LEASE + 1))).toBe(false);
    expect(await t.store.outbox.markFailed('l3', first!.attempt, 'late', null, at(10 + LEASE + 1))).toBe(false);
    expect((await t.store.outbox.list('lb3'))[0]).toMatchObject({ state: 'sending', owner: 'alive', attempt: 2, lastError: null });
    expect(await t.store.outbox.markSent('l3', second!.attempt, at(10 + LEASE + 2))).toBe(true);
    expect(await t.store.outbox.claimDue('lb3', 'alive', at(10 + 10 * LEASE), LEASE)).toBeNull();
  });

  it('recovers a lapsed message before later ones, keeping the bot\'s order', async () => {
    await t.store.outbox.enqueue({ id: 'l4-first', botId: 'lb4', to: 'c1', text: 'one' }, T0);
    await t.store.outbox.enqueue({ id: 'l4-second', botId: 'lb4', to: 'c1', text: 'two' }, at(1));
    await t.store.outbox.claimDue('lb4', 'dead', at(10), LEASE);
    expect((await t.store.outbox.claimDue('lb4', 'alive', at(20), LEASE))?.id).toBe('l4-second');
    await t.store.outbox.markFailed('l4-second', 1, 'flaky', at(15), at(21));
    expect((await t.store.outbox.claimDue('lb4', 'alive', at(10 + LEASE), LEASE))?.id).toBe('l4-first');
  });

  it('treats a sending message that carries no lease at all as lapsed', async () => {
    await t.db.collection(COLLECTIONS.outbox).insertOne({
      _id: 'l5' as never, botId: 'lb5', to: 'c1', text: 'hi', state: 'sending', attempt: 1, nextAttemptAt: T0, owner: 'dead', lastError: null, createdAt: T0, updatedAt: T0,
    });
    expect(await t.store.outbox.claimDue('lb5', 'alive', at(1), LEASE)).toMatchObject({ id: 'l5', attempt: 2, owner: 'alive' });
  });

  it('lets exactly one of many concurrent senders claim a lapsed message', async () => {
    await t.store.outbox.enqueue({ id: 'l6', botId: 'lb6', to: 'c1', text: 'hi' }, T0);
    await t.store.outbox.claimDue('lb6', 'dead', at(10), LEASE);
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => t.store.outbox.claimDue('lb6', `s${i}`, at(10 + LEASE), LEASE)));
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
  });
});
