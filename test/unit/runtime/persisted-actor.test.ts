import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { CORRESPONDENT_QUEUE_MACHINE_VERSION, correspondentQueueMachine } from '../../../machines/correspondent-queue.machine.ts';
import type { ActorRecord, ActorSnapshotStore, ActorWrite } from '../../../src/ports/actor-snapshot-store.port.ts';
import { createPersistedActor, restorePersistedActor } from '../../../src/runtime/persisted-actor.ts';
import type { PersistenceStats } from '../../../src/runtime/persisted-actor.ts';

const limits = { maxMessages: 3, maxCharacters: 1000, maxAgeDays: 7, maxCharactersPerMessage: 100 };
const now = 1_800_000_000_000;

/** A store that keeps records by reference, as the snapshot a write hands over. */
function memoryStore() {
  const records = new Map<string, ActorRecord>();
  const writes: ActorWrite[] = [];
  const store: ActorSnapshotStore = {
    get: async (id) => records.get(id) ?? null,
    insert: async (r) => {
      const record = { ...r, version: 1, updatedAt: new Date(now) };
      records.set(r.id, record);
      return record;
    },
    compareAndSet: async (id, expected, next) => {
      const current = records.get(id);
      if (current?.version !== expected) return null;
      writes.push(next);
      const record = { ...current, ...next, version: expected + 1 };
      records.set(id, record);
      return record;
    },
    list: async () => [...records.values()],
    delete: async (id) => records.delete(id),
    deleteByBot: async () => 0,
  };
  return { store, records, writes };
}

const text = (content: string, providerMessageId: string) => ({
  type: 'message.text-received' as const,
  message: { content, sender: { id: 'c1', displayName: null }, source: 'user' as const, originatingAt: null, group: null, providerMessageId },
  now,
});

async function queueActor() {
  const mem = memoryStore();
  const stats: PersistenceStats = { writes: 0, conflicts: 0 };
  const options = { machine: correspondentQueueMachine, machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION, store: mem.store, stats };
  const actor = await createPersistedActor(options, { id: 'b|c1', kind: 'correspondent-queue', botId: 'b' }, { botId: 'b', correspondentId: 'c1', limits });
  return { ...mem, stats, options, actor };
}

describe('persisted actor writes', () => {
  it('stores exactly the snapshot XState itself would persist', async () => {
    const { actor, records } = await queueActor();
    for (let i = 0; i < 5; i++) await actor.send(text(`m${i}`, `p${i}`));
    const stored = records.get('b|c1')!.snapshot;
    const persistedByXState = (snapshot: unknown) => createActor(correspondentQueueMachine, { snapshot } as never).getPersistedSnapshot();
    expect(JSON.stringify(stored)).toBe(JSON.stringify(persistedByXState(stored)));
    expect(JSON.stringify(stored)).toBe(JSON.stringify(persistedByXState(actor.getSnapshot())));
    expect((stored as { context: { window: { nextId: number } } }).context.window.nextId).toBe(6);
  });

  it('writes a changed snapshot with compare-and-set and skips one whose data did not change', async () => {
    const { actor, writes, stats } = await queueActor();
    await actor.send(text('hello', 'p1'));
    expect(stats.writes).toBe(1);
    expect(actor.version()).toBe(2);
    // A limit pass that evicts nothing builds a new window object holding the same data.
    await actor.send({ type: 'queue.evict', now });
    await actor.send(text('hello again', 'p1'));
    expect(stats.writes).toBe(1);
    await actor.send({ type: 'queue.pop-ready' });
    expect(stats.writes).toBe(2);
    expect(writes.map((w) => (w.snapshot as { context: { window: { messages: unknown[] } } }).context.window.messages.length)).toEqual([1, 0]);
  });

  it('compares a restored actor against the stored snapshot', async () => {
    const { actor, records, options, stats } = await queueActor();
    await actor.send(text('hello', 'p1'));
    await actor.stop();
    const restored = restorePersistedActor(options, records.get('b|c1')!);
    await restored.send({ type: 'queue.evict', now });
    expect(stats.writes).toBe(1);
    await restored.send(text('more', 'p2'));
    expect(stats.writes).toBe(2);
    expect(restored.version()).toBe(3);
  });

  it('re-decides on top of the winner when another writer took the version', async () => {
    const { actor, records, options, stats } = await queueActor();
    const rival = restorePersistedActor(options, records.get('b|c1')!);
    await rival.send(text('from the rival', 'r1'));
    await actor.send(text('from us', 'u1'));
    expect(stats.conflicts).toBe(1);
    const window = actor.getSnapshot().context.window;
    expect(window.messages.map((m) => m.content)).toEqual(['from the rival', 'from us']);
    expect(records.get('b|c1')!.version).toBe(3);
  });
});
