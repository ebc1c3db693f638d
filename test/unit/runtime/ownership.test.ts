import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isParleyError } from '../../../src/domain/errors.ts';
import type { InboundMessage, ProviderFactory, ProviderHandlers } from '../../../src/ports/provider.port.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { eventually, startRuntime } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const LEASE = { leaseMs: 800, renewMs: 100, takeoverDelayMs: 100 };

/**
 * One fake WhatsApp shared by every instance: it records which instance holds a live session of
 * each bot, and every moment two did at once.
 */
function sharedWhatsApp() {
  const live = new Map<string, Set<string>>();
  const handlers = new Map<string, ProviderHandlers>();
  const overlaps: string[] = [];
  const startsOf = new Map<string, number>();
  const providerOf = (instance: string): ProviderFactory => (botId, _settings, h) => ({
    start: async () => {
      const holders = live.get(botId) ?? new Set<string>();
      if ([...holders].some((i) => i !== instance)) overlaps.push(`${botId}: ${instance} while ${[...holders].join(',')}`);
      holders.add(instance);
      live.set(botId, holders);
      handlers.set(`${instance}/${botId}`, h);
      startsOf.set(botId, (startsOf.get(botId) ?? 0) + 1);
      setImmediate(() => h.onEvent({ type: 'provider.connected' }));
    },
    stop: async () => {
      live.get(botId)?.delete(instance);
    },
    send: async () => ({ providerMessageId: randomUUID() }),
  });
  return {
    providerOf,
    overlaps,
    holders: (botId: string) => [...(live.get(botId) ?? [])],
    starts: (botId: string) => startsOf.get(botId) ?? 0,
    /** A message reaching the session `instance` holds (or held) for the bot. */
    async text(instance: string, botId: string, from: string, text: string, id: string = randomUUID()): Promise<void> {
      const h = handlers.get(`${instance}/${botId}`);
      if (h === undefined) throw new Error(`${instance} never opened a session of ${botId}`);
      const message: InboundMessage = { providerMessageId: id, correspondentId: from, sender: { id: from, displayName: null }, group: null, originatingAt: null, text, media: null };
      await h.onMessage(message);
    },
  };
}

let t: TestStore;
const running: Harness[] = [];

async function instance(store: Store, id: string, world: ReturnType<typeof sharedWhatsApp>, settings: Partial<typeof LEASE> = {}): Promise<Harness> {
  const h = await startRuntime(store, { instanceId: id, providers: { test: world.providerOf(id) }, ownership: { ...LEASE, ...settings } });
  running.push(h);
  return h;
}

async function createBots(h: Harness, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `bot-${String(i).padStart(2, '0')}`);
  for (const id of ids) {
    await h.runtime.bots.create({ id, provider: 'test', settings: {}, desiredState: 'running' });
  }
  return ids;
}

const hosted = (hs: readonly Harness[], botId: string) => hs.filter((h) => h.runtime.cluster.hostsLocally(botId)).map((h) => h.runtime.cluster.instanceId);
const connectedOn = (h: Harness, botId: string) => h.runtime.bots.has(botId) && h.runtime.bots.state(botId) === 'connected';

afterEach(async () => {
  for (const h of running.splice(0)) h.runtime.halt();
  await t?.dispose();
});

describe('bot ownership across instances (I14)', () => {
  it('(n) two instances starting at once over the same bots host each bot exactly once, spread evenly', async () => {
    t = await openTestStore('parley_own_start');
    const seed = await instance(t.store, 'seed', sharedWhatsApp());
    const bots = await createBots(seed, 6);
    seed.runtime.halt();
    await t.store.ownership.list().then((leases) => Promise.all(leases.map((l) => t.store.ownership.release(l.botId, l.owner, l.epoch))));
    await t.store.instances.leave('seed');
    running.splice(0);

    const world = sharedWhatsApp();
    const [a, b] = await Promise.all([instance(t.store, 'a', world), instance(t.store, 'b', world)]);
    await eventually(() => bots.map((id) => hosted([a, b], id).length), (n) => n.every((c) => c === 1), 5000);
    await eventually(() => bots.filter((id) => connectedOn(a, id) || connectedOn(b, id)).length, (n) => n === bots.length, 5000);
    // Balanced by count: the later joiner gets its share handed over.
    await eventually(() => bots.filter((id) => a.runtime.cluster.hostsLocally(id)).length, (n) => n === 3, 5000);
    // Once the handovers are done every bot has exactly one session, on its host.
    await eventually(() => bots.map((id) => world.holders(id).join(',') === hosted([a, b], id).join(',') && connectedOn(a, id) !== connectedOn(b, id)), (ok) => ok.every(Boolean), 5000);
    expect(world.overlaps).toEqual([]);
    const instances = await a.runtime.cluster.instances();
    expect(instances.map((i) => [i.id, i.bots.length]).sort()).toEqual([['a', 3], ['b', 3]]);
  });

  it('takes over the bots of an instance that died once its leases lapse, and stores messages once', async () => {
    t = await openTestStore('parley_own_takeover');
    const world = sharedWhatsApp();
    const a = await instance(t.store, 'a', world);
    const bots = await createBots(a, 4);
    await eventually(() => bots.every((id) => connectedOn(a, id)), Boolean);
    await world.text('a', 'bot-00', '4915550001', 'before', 'm-1');
    const b = await instance(t.store, 'b', world);
    const taken = bots.filter((id) => !b.runtime.cluster.hostsLocally(id));

    const died = performance.now();
    a.runtime.halt();
    // Its sessions died with it: the fake WhatsApp sees them go.
    for (const id of bots) if (world.holders(id).includes('a')) await world.providerOf('a')(id, {}, { onEvent: () => undefined, onMessage: async () => undefined }).stop();
    await eventually(() => taken.every((id) => connectedOn(b, id)), Boolean, 5000);
    expect(performance.now() - died).toBeLessThan(LEASE.leaseMs + LEASE.takeoverDelayMs + 4 * LEASE.renewMs + 500);

    await world.text('b', 'bot-00', '4915550001', 'before', 'm-1');
    await world.text('b', 'bot-00', '4915550001', 'after', 'm-2');
    const rows = await t.store.history.list('bot-00', '4915550001');
    expect(rows.map((r) => [r.seq, r.content])).toEqual([[1, 'before'], [2, 'after']]);
    expect(world.overlaps).toEqual([]);
  });

  it('refuses the writes of an owner paused past its lease, which then stops the bot; nothing is doubled', async () => {
    t = await openTestStore('parley_own_paused');
    const world = sharedWhatsApp();
    const a = await instance(t.store, 'a', world);
    const [bot] = await createBots(a, 1);
    if (bot === undefined) throw new Error('no bot');
    await eventually(() => connectedOn(a, bot), Boolean);
    await world.text('a', bot, '4915550002', 'one', 'p-1');
    // A paused process renews nothing: its lease lapses while it still believes it hosts the bot.
    a.runtime.ownership.halt();
    const b = await instance(t.store, 'b', world);
    await eventually(() => connectedOn(b, bot), Boolean, 5000);
    await world.text('b', bot, '4915550002', 'two', 'p-2');

    // The paused owner wakes and its session delivers messages: every write is refused, even of a
    // conversation the new owner never touched (no stored actor or row to collide with).
    const stranger = await world.text('a', bot, '4915550099', 'new here', 'p-9').then(() => null, (err: unknown) => err);
    expect(isParleyError(stranger, 'LEASE_LOST')).toBe(true);
    expect(await t.store.history.list(bot, '4915550099')).toEqual([]);
    const late = await world.text('a', bot, '4915550002', 'late', 'p-3').then(() => null, (err: unknown) => err);
    expect(isParleyError(late, 'LEASE_LOST')).toBe(true);
    await eventually(() => a.runtime.bots.has(bot), (has) => !has, 3000);
    expect(world.holders(bot)).toEqual(['b']);
    const rows = await t.store.history.list(bot, '4915550002');
    expect(rows.map((r) => r.content)).toEqual(['one', 'two']);
    // The message the paused owner could not store reaches the new owner when WhatsApp delivers it again.
    await world.text('b', bot, '4915550002', 'late', 'p-3');
    expect((await t.store.history.list(bot, '4915550002')).map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('refuses at the store the writes of an owner that still believes its lease live (its clock lags): it drops the bot', async () => {
    t = await openTestStore('parley_own_skew');
    const world = sharedWhatsApp();
    // A long lease: by its own clock the old owner may write for a minute yet.
    const a = await instance(t.store, 'a', world, { leaseMs: 60_000 });
    const [bot] = await createBots(a, 1);
    if (bot === undefined) throw new Error('no bot');
    await eventually(() => connectedOn(a, bot), Boolean);
    await world.text('a', bot, '4915550003', 'one', 's-1');
    a.runtime.ownership.halt();
    // The store sees the lease lapse (another clock ran ahead): another instance takes the bot.
    const lease = await t.store.ownership.get(bot);
    if (lease === null) throw new Error('no lease');
    await t.store.ownership.release(bot, 'a', lease.epoch);
    await t.store.instances.leave('a');
    const b = await instance(t.store, 'b', world);
    await eventually(() => connectedOn(b, bot), Boolean, 5000);
    expect((await t.store.ownership.get(bot))?.epoch).toBe(lease.epoch + 1);

    // The old owner's queue decision is refused by the store, and it lets the bot go.
    await world.text('a', bot, '4915550003', 'two', 's-2').catch(() => undefined);
    await eventually(() => a.runtime.bots.has(bot), (has) => !has, 3000);
    const queue = await t.store.actors.get(`${bot}|4915550003`);
    expect(queue?.epoch).toBe(lease.epoch + 1);
    // What the row of that message left is taken up by the new owner with the next message.
    await world.text('b', bot, '4915550003', 'three', 's-3');
    const rows = await t.store.history.list(bot, '4915550003');
    expect(rows.map((r) => r.content).sort()).toEqual(['one', 'three', 'two']);
    expect(new Set(rows.map((r) => r.seq)).size).toBe(3);
    expect(world.overlaps.filter((o) => !o.includes(' a while') && !o.includes('while a'))).toEqual([]);
  });

  it('hands its bots over at once on a graceful stop instead of waiting for the leases to lapse', async () => {
    t = await openTestStore('parley_own_handover');
    const world = sharedWhatsApp();
    const slow = { leaseMs: 60_000, takeoverDelayMs: 1000 };
    const a = await instance(t.store, 'a', world, slow);
    const bots = await createBots(a, 3);
    await eventually(() => bots.every((id) => connectedOn(a, id)), Boolean);
    const b = await instance(t.store, 'b', world, slow);
    const stopped = performance.now();
    await a.runtime.shutdown(500);
    running.splice(running.indexOf(a), 1);
    await eventually(() => bots.every((id) => connectedOn(b, id)), Boolean, 5000);
    expect(performance.now() - stopped).toBeLessThan(3000);
    expect(world.overlaps).toEqual([]);
    const leases = await t.store.ownership.list();
    expect(leases.every((l) => l.owner === 'b')).toBe(true);
  });

  it('fences the actors of a bot taken over: a write under the earlier epoch is refused by the store', async () => {
    t = await openTestStore('parley_own_fence');
    await t.store.actors.insert({ id: 'x', kind: 'bot', botId: 'x', machineVersion: 1, state: 'stopped', snapshot: {}, epoch: 1 });
    expect(await t.store.actors.compareAndSet('x', 1, { machineVersion: 1, state: 'a', snapshot: {}, epoch: 1 })).not.toBeNull();
    expect(await t.store.actors.fenceBot('x', 2)).toBe(1);
    expect(await t.store.actors.compareAndSet('x', 2, { machineVersion: 1, state: 'stale', snapshot: {}, epoch: 1 })).toBeNull();
    const fresh = await t.store.actors.compareAndSet('x', 2, { machineVersion: 1, state: 'b', snapshot: {}, epoch: 2 });
    expect(fresh?.state).toBe('b');
    expect((await t.store.actors.get('x'))?.epoch).toBe(2);
    // Unfenced writes (a single instance) still go through.
    expect(await t.store.actors.compareAndSet('x', 3, { machineVersion: 1, state: 'c', snapshot: {} })).not.toBeNull();
  });
});

describe('an instance id', () => {
  it('is found shared by two live processes, and the one that finds out hears of it', async () => {
    t = await openTestStore('parley_own_twins');
    const world = sharedWhatsApp();
    const collisions: string[] = [];
    const twin = (label: string) =>
      startRuntime(t.store, { instanceId: 'twin', providers: { test: world.providerOf(label) }, ownership: { ...LEASE, onIdCollision: () => void collisions.push(label) } })
        .then((h) => (running.push(h), h));
    await twin('first');
    await eventually(() => collisions, (c) => c.length === 0, 50);
    await twin('second');
    await eventually(() => collisions.length, (n) => n > 0, 3000);
  });

  it('taken back by a restart under the same id finds no twin in its previous life', async () => {
    t = await openTestStore('parley_own_restart');
    const world = sharedWhatsApp();
    const collisions: string[] = [];
    const life = () => startRuntime(t.store, { instanceId: 'solo', providers: { test: world.providerOf('solo') }, ownership: { ...LEASE, onIdCollision: () => void collisions.push('solo') } });
    const first = await life();
    await createBots(first, 2);
    first.runtime.halt();
    const second = await life();
    running.push(second);
    // Its bots come back at once: a restart under the same id does not wait for its own leases.
    expect(['bot-00', 'bot-01'].every((id) => second.runtime.cluster.hostsLocally(id))).toBe(true);
    await new Promise((r) => setTimeout(r, 5 * LEASE.renewMs));
    expect(collisions).toEqual([]);
  });
});

describe('a bot created on an instance', () => {
  it('is hosted where it was created when that instance has room, so it can start at once', async () => {
    t = await openTestStore('parley_own_create');
    const world = sharedWhatsApp();
    const a = await instance(t.store, 'a', world);
    await a.runtime.bots.create({ id: 'fresh', provider: 'test', settings: {}, desiredState: 'stopped' });
    expect(a.runtime.cluster.hostsLocally('fresh')).toBe(true);
    await a.runtime.bots.start('fresh');
    await eventually(() => connectedOn(a, 'fresh'), Boolean);
    expect((await a.runtime.cluster.ownerOf('fresh'))?.instanceId).toBe('a');
    await a.runtime.bots.delete('fresh');
    expect(await t.store.ownership.get('fresh')).toBeNull();
    const refused = await a.runtime.bots.start('fresh').catch((err: unknown) => err);
    expect(isParleyError(refused, 'NOT_FOUND')).toBe(true);
  });
});
