import { describe, expect, it } from 'vitest';
import { CORRESPONDENT_QUEUE_MACHINE_VERSION, correspondentQueueMachine } from '../../../machines/correspondent-queue.machine.ts';
import type { CorrespondentQueueEffects, NotifyListenersParams } from '../../../machines/correspondent-queue.machine.ts';
import type { ActorRecord, ActorSnapshotStore, ActorWrite } from '../../../src/ports/actor-snapshot-store.port.ts';
import type { EffectTable } from '../../../src/runtime/actors/effect-table.ts';
import { createPersistedActor, restorePersistedActor } from '../../../src/runtime/actors/persisted-actor.ts';
import type { ActorScope, PersistedActorOptions, PersistenceStats } from '../../../src/runtime/actors/persisted-actor.ts';

const limits = { maxMessages: 3, maxCharacters: 1000, maxAgeDays: 7, maxCharactersPerMessage: 100 };
const now = 1_800_000_000_000;
const fast = { attempts: Number.POSITIVE_INFINITY, baseMs: 1, maxMs: 2 };

/**
 * A store that keeps records by reference. `failNext(n)` makes the next n compare-and-sets throw
 * before writing; `landThenFail(n)` makes them write and then throw, as a lost reply would.
 */
function memoryStore() {
  const records = new Map<string, ActorRecord>();
  const writes: ActorWrite[] = [];
  let failing = 0;
  let landing = 0;
  const store: ActorSnapshotStore = {
    get: async (id) => records.get(id) ?? null,
    markResident: async () => {},
    pageQueues: async () => [],
    fenceBot: async () => 0,
    insert: async (r) => {
      const record = { ...r, effects: r.effects ?? [], version: 1, updatedAt: new Date(now) };
      records.set(r.id, record);
      return record;
    },
    compareAndSet: async (id, expected, next) => {
      if (failing > 0) {
        failing -= 1;
        throw new Error('connection reset');
      }
      const current = records.get(id);
      if (current?.version !== expected) return null;
      writes.push(next);
      const record = { ...current, ...next, effects: next.effects ?? [], version: expected + 1 };
      records.set(id, record);
      if (landing > 0) {
        landing -= 1;
        throw new Error('reply lost');
      }
      return record;
    },
    list: async () => [...records.values()],
    delete: async (id) => records.delete(id),
    deleteByBot: async () => 0,
  };
  return {
    store,
    records,
    writes,
    failNext: (n: number) => void (failing = n),
    landThenFail: (n: number) => void (landing = n),
  };
}

const text = (content: string, providerMessageId: string) => ({
  type: 'message.text-received' as const,
  message: { content, sender: { id: 'c1', displayName: null }, source: 'user' as const, originatingAt: null, group: null, providerMessageId },
  now,
});

function recordingEffects(notified: { id: number; recovered: boolean }[], delayMs = 0): EffectTable<CorrespondentQueueEffects, ActorScope> {
  const quiet = { durable: false, run: () => undefined };
  return {
    notifyListeners: {
      durable: true,
      async run({ message }: NotifyListenersParams, { recovered }: ActorScope) {
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        notified.push({ id: message.id, recovered });
      },
    },
    messagesEvicted: quiet, logOverLimit: quiet, duplicateIgnored: quiet, finalizeMissed: quiet, messagePopped: quiet, limitsRejected: quiet,
  };
}

async function queueActor(delayMs = 0) {
  const mem = memoryStore();
  const notified: { id: number; recovered: boolean }[] = [];
  const stats: PersistenceStats = { writes: 0, conflicts: 0, failedWrites: 0 };
  const options: PersistedActorOptions<typeof correspondentQueueMachine, CorrespondentQueueEffects> = {
    machine: correspondentQueueMachine, machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION, store: mem.store, stats,
    effects: recordingEffects(notified, delayMs), writeRetry: fast,
  };
  const actor = await createPersistedActor(options, { id: 'b|c1', kind: 'correspondent-queue', botId: 'b' }, { botId: 'b', correspondentId: 'c1', limits });
  return { ...mem, stats, options, actor, notified };
}

const stored = (records: Map<string, ActorRecord>) => records.get('b|c1')!;
const windowOf = (record: ActorRecord) => (record.snapshot as { context: { window: { messages: { content: string }[]; nextId: number } } }).context.window;

describe('persisted actor writes', () => {
  it('stores the state value and context and nothing of XState\'s bookkeeping', async () => {
    const { actor, records } = await queueActor();
    for (let i = 0; i < 5; i++) await actor.send(text(`m${i}`, `p${i}`));
    await actor.flush();
    expect(Object.keys(stored(records).snapshot as object).sort()).toEqual(['context', 'status', 'value']);
    expect(windowOf(stored(records)).nextId).toBe(6);
  });

  it('writes a changed snapshot with compare-and-set and skips one whose data did not change', async () => {
    const { actor, stats } = await queueActor();
    await actor.sendAndSettle(text('hello', 'p1'));
    await actor.flush();
    const afterFirst = stats.writes;
    // A limit pass that evicts nothing builds a new window object holding the same data; a replay changes nothing.
    await actor.send({ type: 'queue.evict', now });
    await actor.send(text('hello again', 'p1'));
    await actor.flush();
    expect(stats.writes).toBe(afterFirst);
    await actor.send({ type: 'queue.pop-ready' });
    expect(stats.writes).toBe(afterFirst + 1);
  });

  it('re-decides on top of the winner when another writer took the version', async () => {
    const { actor, records, options, stats } = await queueActor();
    const rival = await restorePersistedActor(options, stored(records));
    await rival.send(text('from the rival', 'r1'));
    await actor.send(text('from us', 'u1'));
    expect(stats.conflicts).toBeGreaterThanOrEqual(1);
    expect(actor.getSnapshot().context.window.messages.map((m) => m.content)).toEqual(['from the rival', 'from us']);
  });

  it('keeps an event sent while it reloads after a lost race, decided on the winner\'s record', async () => {
    const { actor, records, options, stats, store } = await queueActor();
    const rival = await restorePersistedActor(options, stored(records));
    await rival.send(text('from the rival', 'r1'));
    const reading = Promise.withResolvers<void>();
    const get = store.get;
    store.get = async (id) => {
      await reading.promise;
      return get(id);
    };
    const first = actor.send(text('from us', 'u1'));
    while (stats.conflicts === 0) await new Promise((r) => setTimeout(r, 1));
    const second = actor.send(text('sent during the read', 'u2'));
    reading.resolve();
    await Promise.all([first, second]);
    await actor.flush();
    expect(windowOf(stored(records)).messages.map((m) => m.content)).toEqual(['from the rival', 'from us', 'sent during the read']);
  });
});

describe('durable effects', () => {
  it('writes a decision and its durable effects in one compare-and-set, runs them after it, and acknowledges them on a later write', async () => {
    const { actor, writes, records, notified } = await queueActor();
    await actor.sendAndSettle(text('hello', 'p1'));
    expect(writes[0]?.effects?.map((e) => e.type)).toEqual(['notifyListeners']);
    expect(windowOf({ snapshot: writes[0]?.snapshot } as ActorRecord).messages).toHaveLength(1);
    expect(notified).toEqual([{ id: 1, recovered: false }]);
    await actor.flush();
    expect(stored(records).effects).toEqual([]);
  });

  it('runs an effect once when the write carrying it failed once: the decision is discarded and decided again', async () => {
    const { actor, records, notified, failNext, stats } = await queueActor();
    failNext(1);
    await actor.sendAndSettle(text('hello', 'p1'));
    await actor.flush();
    expect(stats.failedWrites).toBe(1);
    expect(notified).toEqual([{ id: 1, recovered: false }]);
    expect(windowOf(stored(records)).messages.map((m) => m.content)).toEqual(['hello']);
  });

  it('runs no effect while the write keeps failing, and exactly once when the store answers again', async () => {
    const { actor, notified, failNext } = await queueActor();
    failNext(5);
    const durable = actor.send(text('hello', 'p1'));
    await new Promise((r) => setTimeout(r, 5));
    expect(notified).toEqual([]);
    await durable;
    await actor.flush();
    expect(notified).toEqual([{ id: 1, recovered: false }]);
  });

  it('takes a write whose reply was lost but which landed as written, without deciding it twice', async () => {
    const { actor, records, notified, landThenFail } = await queueActor();
    landThenFail(1);
    await actor.sendAndSettle(text('hello', 'p1'));
    await actor.flush();
    expect(windowOf(stored(records)).messages.map((m) => m.content)).toEqual(['hello']);
    expect(notified).toEqual([{ id: 1, recovered: false }]);
  });

  it('runs an effect left unacknowledged by a crash after restore, once, marked recovered', async () => {
    const { actor, records, options, notified } = await queueActor(50);
    await actor.send(text('hello', 'p1'));
    // The process dies after the write, before the listener returned.
    actor.halt();
    expect(stored(records).effects.map((e) => e.type)).toEqual(['notifyListeners']);
    const restored = await restorePersistedActor(options, stored(records));
    await restored.flush();
    expect(notified).toEqual([{ id: 1, recovered: true }]);
    expect(stored(records).effects).toEqual([]);
  });

  it('makes the next decision durable without waiting for a slow effect of an earlier one', async () => {
    const { actor, notified } = await queueActor(300);
    await actor.send(text('first', 'p1'));
    const started = performance.now();
    await actor.send(text('second', 'p2'));
    expect(performance.now() - started).toBeLessThan(200);
    await actor.flush();
    expect(notified.map((n) => n.id)).toEqual([1, 2]);
  });

  it('refuses the events of a write that fails past its attempts and keeps the stored snapshot', async () => {
    const mem = memoryStore();
    const notified: { id: number; recovered: boolean }[] = [];
    const options: PersistedActorOptions<typeof correspondentQueueMachine, CorrespondentQueueEffects> = {
      machine: correspondentQueueMachine, machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION, store: mem.store,
      effects: recordingEffects(notified), writeRetry: { attempts: 2, baseMs: 1, maxMs: 1 },
    };
    const actor = await createPersistedActor(options, { id: 'b|c1', kind: 'correspondent-queue', botId: 'b' }, { botId: 'b', correspondentId: 'c1', limits });
    mem.failNext(2);
    await expect(actor.send(text('lost', 'p1'))).rejects.toThrow('connection reset');
    await actor.flush();
    expect(actor.getSnapshot().context.window.messages).toEqual([]);
    expect(notified).toEqual([]);
    await actor.sendAndSettle(text('kept', 'p2'));
    expect(notified.map((n) => n.id)).toEqual([1]);
  });
});
