import { describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { useTestStore } from '../support/test-store.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const LEASE = 10_000;

/** Per-bot ownership leases (I14) and the instance registry, on whichever backend the run selected. */
describe('bot ownership leases', () => {
  const t = useTestStore('parley_ownership');
  const leases = () => t.store.ownership;

  it('gives a free bot to its first taker at epoch 1', async () => {
    expect(await leases().get('free')).toBeNull();
    const lease = await leases().acquire('free', 'i1', T0, LEASE);
    expect(lease).toEqual({ botId: 'free', owner: 'i1', epoch: 1, leaseUntil: at(LEASE) });
    expect(await leases().get('free')).toEqual(lease);
    expect(await leases().holds('free', 'i1', 1, at(1))).toBe(true);
  });

  it('renews for the owner that takes it again, at the same epoch', async () => {
    await leases().acquire('again', 'i1', T0, LEASE);
    expect(await leases().acquire('again', 'i1', at(5_000), LEASE)).toEqual({ botId: 'again', owner: 'i1', epoch: 1, leaseUntil: at(5_000 + LEASE) });
  });

  it('refuses another owner while the lease is live, and leaves the lease untouched', async () => {
    const first = await leases().acquire('held', 'i1', T0, LEASE);
    expect(await leases().acquire('held', 'i2', at(LEASE - 1), LEASE)).toBeNull();
    expect(await leases().get('held')).toEqual(first);
  });

  it('hands an expired lease to another owner at the next epoch and fences the old one', async () => {
    await leases().acquire('lapsed', 'i1', T0, LEASE);
    expect(await leases().acquire('lapsed', 'i2', at(LEASE), LEASE)).toMatchObject({ owner: 'i2', epoch: 2 });
    expect(await leases().renew('lapsed', 'i1', 1, at(LEASE + 1), LEASE)).toBe(false);
    expect(await leases().holds('lapsed', 'i1', 1, at(LEASE + 1))).toBe(false);
    expect(await leases().holds('lapsed', 'i2', 2, at(LEASE + 1))).toBe(true);
    expect(await leases().get('lapsed')).toMatchObject({ owner: 'i2', epoch: 2 });
  });

  it('renews a live lease only for its owner at its epoch, and not once it lapsed', async () => {
    await leases().acquire('renew', 'i1', T0, LEASE);
    expect(await leases().renew('renew', 'i1', 2, at(1), LEASE)).toBe(false);
    expect(await leases().renew('renew', 'i2', 1, at(1), LEASE)).toBe(false);
    expect(await leases().renew('renew', 'i1', 1, at(5_000), LEASE)).toBe(true);
    expect((await leases().get('renew'))?.leaseUntil).toEqual(at(5_000 + LEASE));
    expect(await leases().holds('renew', 'i1', 1, at(5_000 + LEASE - 1))).toBe(true);
    expect(await leases().holds('renew', 'i1', 1, at(5_000 + LEASE))).toBe(false);
    expect(await leases().renew('renew', 'i1', 1, at(5_000 + LEASE), LEASE)).toBe(false);
  });

  it('lets another owner take a released bot at once, at the next epoch', async () => {
    await leases().acquire('released', 'i1', T0, LEASE);
    expect(await leases().release('released', 'i2', 1)).toBe(false);
    expect(await leases().release('released', 'i1', 1)).toBe(true);
    expect(await leases().release('released', 'i1', 1)).toBe(false);
    expect(await leases().holds('released', 'i1', 1, at(1))).toBe(false);
    expect(await leases().renew('released', 'i1', 1, at(1), LEASE)).toBe(false);
    expect(await leases().acquire('released', 'i2', at(1), LEASE)).toMatchObject({ owner: 'i2', epoch: 2 });
    expect(await leases().release('released', 'i1', 1)).toBe(false);
  });

  it('keeps the epoch when the same owner takes back its own lapsed or released lease', async () => {
    await leases().acquire('back', 'i1', T0, LEASE);
    expect(await leases().acquire('back', 'i1', at(LEASE + 1), LEASE)).toMatchObject({ owner: 'i1', epoch: 1 });
    await leases().release('back', 'i1', 1);
    expect(await leases().acquire('back', 'i1', at(LEASE + 2), LEASE)).toMatchObject({ owner: 'i1', epoch: 1 });
  });

  it('gives a free bot to exactly one of 20 concurrent takers', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => leases().acquire('race-free', `w${i}`, T0, LEASE)));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ epoch: 1 });
    expect(await leases().get('race-free')).toEqual(winners[0]);
  });

  it('gives an expired lease to exactly one of 20 concurrent takers', async () => {
    await leases().acquire('race-lapsed', 'old', T0, LEASE);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => leases().acquire('race-lapsed', `w${i}`, at(LEASE + 1), LEASE)));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ epoch: 2 });
    expect(await leases().get('race-lapsed')).toEqual(winners[0]);
  });

  it('forgets a deleted bot, whose next taker starts again at epoch 1', async () => {
    await leases().acquire('deleted', 'i1', T0, LEASE);
    await leases().delete('deleted');
    await leases().delete('deleted');
    expect(await leases().get('deleted')).toBeNull();
    expect(await leases().holds('deleted', 'i1', 1, at(1))).toBe(false);
    expect(await leases().acquire('deleted', 'i2', at(1), LEASE)).toMatchObject({ epoch: 1 });
  });

  it('lists every lease by bot id, live or not', async () => {
    await t.db.collection(COLLECTIONS.botLeases).deleteMany({});
    await leases().acquire('list-b', 'i1', T0, LEASE);
    await leases().acquire('list-a', 'i2', T0, 1);
    expect(await leases().list()).toEqual([
      { botId: 'list-a', owner: 'i2', epoch: 1, leaseUntil: at(1) },
      { botId: 'list-b', owner: 'i1', epoch: 1, leaseUntil: at(LEASE) },
    ]);
  });

  it('stores one plain document per bot', async () => {
    await leases().acquire('shape', 'i1', T0, LEASE);
    expect(await t.db.collection(COLLECTIONS.botLeases).findOne({ _id: 'shape' as never })).toEqual({ _id: 'shape', owner: 'i1', epoch: 1, leaseUntil: at(LEASE) });
  });
});

describe('instance registry', () => {
  const t = useTestStore('parley_instances');
  const registry = () => t.store.instances;
  const instance = (id: string, startedAt: Date, incarnation = `${id}-life-1`) => ({ id, url: `http://${id}:3000`, capacity: null, startedAt, incarnation });

  it('lists instances alive at a time, oldest first, and drops those that stopped heartbeating', async () => {
    await registry().heartbeat(instance('late', at(50)), at(50), 100);
    await registry().heartbeat({ ...instance('early', T0), capacity: 8 }, T0, 100);
    expect(await registry().alive(at(60))).toEqual([
      { id: 'early', url: 'http://early:3000', capacity: 8, startedAt: T0, seenAt: T0, aliveUntil: at(100) },
      { id: 'late', url: 'http://late:3000', capacity: null, startedAt: at(50), seenAt: at(50), aliveUntil: at(150) },
    ]);
    expect((await registry().alive(at(100))).map((i) => i.id)).toEqual(['late']);
    await registry().heartbeat({ ...instance('early', T0), capacity: 8 }, at(120), 100);
    expect(await registry().alive(at(160))).toEqual([{ id: 'early', url: 'http://early:3000', capacity: 8, startedAt: T0, seenAt: at(120), aliveUntil: at(220) }]);
  });

  it('tells each heartbeat which process life announced the id before, so two live processes sharing an id find out', async () => {
    expect(await registry().heartbeat(instance('twin', T0, 'one'), T0, 1_000)).toBeNull();
    expect(await registry().heartbeat(instance('twin', T0, 'one'), at(10), 1_000)).toBe('one');
    expect(await registry().heartbeat(instance('twin', T0, 'two'), at(20), 1_000)).toBe('one');
    expect(await registry().heartbeat(instance('twin', T0, 'one'), at(30), 1_000)).toBe('two');
    // The life is not part of what others see.
    expect(Object.keys((await registry().alive(at(40))).find((i) => i.id === 'twin') ?? {})).not.toContain('incarnation');
  });

  it('forgets an instance that leaves', async () => {
    await registry().heartbeat(instance('leaving', T0), T0, 1_000);
    await registry().leave('leaving');
    await registry().leave('leaving');
    expect((await registry().alive(at(1))).map((i) => i.id)).not.toContain('leaving');
  });
});
