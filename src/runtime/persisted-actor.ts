import { createActor } from 'xstate';
import type { Actor, AnyStateMachine, EventFromLogic, InspectionEvent, SnapshotFrom } from 'xstate';
import { topLevelState } from '../../machines/state-name.ts';
import { ParleyError } from '../domain/errors.ts';
import type { ActorKind, ActorRecord, ActorSnapshotStore } from '../ports/actor-snapshot-store.port.ts';
import { collectingLogic } from './effects.ts';
import type { Effect } from './effects.ts';

/** Counters every persisted actor reports into. */
export interface PersistenceStats {
  writes: number;
  conflicts: number;
}

export interface PersistedActorOptions<TMachine extends AnyStateMachine> {
  readonly machine: TMachine;
  readonly machineVersion: number;
  readonly store: ActorSnapshotStore;
  readonly inspect?: (event: InspectionEvent) => void;
  readonly stats?: PersistenceStats;
  /**
   * How long a decision may wait for company before its snapshot is written. Events arriving in
   * that time share one write; each event's effects still wait for the write that covers it.
   */
  readonly coalesceMs?: number;
}

interface Waiter<TEvent> {
  readonly event: TEvent;
  effects: Effect[];
  readonly resolve: (effects: Effect[]) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * An in-memory XState actor whose snapshot lives in the store. Events are decided at once; writes
 * are coalesced (while one compare-and-set is in flight, later events ride on the next write) and
 * each event's effects are released only when a write covering it is durable. When another writer
 * won the version, the actor reloads the stored snapshot and re-decides the unwritten events.
 */
export interface PersistedActor<TMachine extends AnyStateMachine> {
  readonly id: string;
  readonly kind: ActorKind;
  readonly botId: string;
  /** Decides the event now; resolves with its effects once the decision is durable. */
  send(event: EventFromLogic<TMachine>): Promise<Effect[]>;
  getSnapshot(): SnapshotFrom<TMachine>;
  /** The stored version this actor last wrote or read. */
  version(): number;
  /** Resolves when every decided event is durable. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

type Event<T extends AnyStateMachine> = EventFromLogic<T>;

/**
 * The actor's persisted snapshot. XState walks the whole context looking for actor references to
 * replace, which for a 100-message window costs more than the rest of a write. An actor with no
 * children cannot hold references (machines here never spawn, and events carry plain data), so
 * the context is stored as it is; XState persists the rest of the snapshot as usual.
 */
function persistedSnapshot(logic: AnyStateMachine, actor: Actor<AnyStateMachine>): unknown {
  const snapshot = actor.getSnapshot() as { children: Record<string, unknown>; context: unknown };
  if (Object.keys(snapshot.children).length > 0) return actor.getPersistedSnapshot();
  const persisted = logic.getPersistedSnapshot({ ...snapshot, context: {} } as never) as Record<string, unknown>;
  return { ...persisted, context: snapshot.context };
}

/**
 * Whether two snapshots hold the same data. Anything it cannot vouch for (a class instance, NaN,
 * an `undefined` field on one side only) counts as a change: a needless write is harmless, a
 * skipped one is not.
 */
function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameData(v, b[i]));
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Creates the actor from `input` and stores its first snapshot. */
export async function createPersistedActor<TMachine extends AnyStateMachine>(
  options: PersistedActorOptions<TMachine>,
  identity: { id: string; kind: ActorKind; botId: string },
  input: unknown,
): Promise<PersistedActor<TMachine>> {
  const probe = createActor(options.machine, { input } as never);
  const snapshot = probe.getPersistedSnapshot();
  const value = (probe.getSnapshot() as { value: Parameters<typeof topLevelState>[0] }).value;
  const record = await options.store.insert({
    ...identity,
    machineVersion: options.machineVersion,
    state: topLevelState(value),
    snapshot,
  });
  return hostActor(options, record);
}

/** Restores an actor from its stored record; a snapshot of another machine version is refused. */
export function restorePersistedActor<TMachine extends AnyStateMachine>(
  options: PersistedActorOptions<TMachine>,
  record: ActorRecord,
): PersistedActor<TMachine> {
  if (record.machineVersion !== options.machineVersion) {
    throw new ParleyError(
      'INCOMPATIBLE_SNAPSHOT',
      `${record.kind} ${record.id} was stored by machine version ${record.machineVersion}; this build runs version ${options.machineVersion} and has no migration for it`,
    );
  }
  return hostActor(options, record);
}

function hostActor<TMachine extends AnyStateMachine>(options: PersistedActorOptions<TMachine>, record: ActorRecord): PersistedActor<TMachine> {
  const { logic, collect } = collectingLogic(options.machine);
  let version = record.version;
  // The snapshot last written or read. Contexts are replaced, never mutated, so this shares the
  // live window instead of copying it, and comparing against it stops at the first shared object.
  let lastWritten: unknown = record.snapshot;
  let actor = start(record.snapshot);
  let queue: Waiter<Event<TMachine>>[] = [];
  let writing: Promise<void> | null = null;

  function start(snapshot: unknown): Actor<TMachine> {
    const a = createActor(logic, { snapshot, inspect: options.inspect, id: record.id } as never) as Actor<TMachine>;
    a.start();
    return a;
  }

  function decide(event: Event<TMachine>): Effect[] {
    return collect(() => actor.send(event));
  }

  async function writeLoop(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      const persisted = persistedSnapshot(logic, actor);
      const value = (actor.getSnapshot() as { value: Parameters<typeof topLevelState>[0] }).value;
      // Nothing changed (a duplicate, a stale timer): there is nothing to make durable.
      if (sameData(persisted, lastWritten)) {
        for (const w of batch) w.resolve(w.effects);
        continue;
      }
      try {
        const written = await options.store.compareAndSet(record.id, version, {
          machineVersion: options.machineVersion,
          state: topLevelState(value),
          snapshot: persisted,
        });
        if (written === null) {
          await redecide(batch);
          continue;
        }
        version = written.version;
        lastWritten = persisted;
        if (options.stats !== undefined) options.stats.writes += 1;
        for (const w of batch) w.resolve(w.effects);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  }

  // Another writer won: adopt its snapshot and decide every unwritten event again on top of it.
  async function redecide(batch: Waiter<Event<TMachine>>[]): Promise<void> {
    if (options.stats !== undefined) options.stats.conflicts += 1;
    const fresh = await options.store.get(record.id);
    if (fresh === null) throw new ParleyError('NOT_FOUND', `${record.kind} ${record.id} disappeared from the store`);
    const pending = [...batch, ...queue];
    actor.stop();
    actor = start(fresh.snapshot);
    version = fresh.version;
    lastWritten = fresh.snapshot;
    for (const w of pending) w.effects = decide(w.event);
    queue = pending;
  }

  function schedule(): Promise<void> {
    const delay = options.coalesceMs ?? 0;
    writing ??= (delay > 0 ? new Promise<void>((r) => setTimeout(r, delay)).then(writeLoop) : writeLoop()).finally(() => {
      writing = null;
      if (queue.length > 0) void schedule();
    });
    return writing;
  }

  return {
    id: record.id,
    kind: record.kind,
    botId: record.botId,
    send(event) {
      const effects = decide(event);
      const done = new Promise<Effect[]>((resolve, reject) => queue.push({ event, effects, resolve, reject }));
      void schedule();
      return done;
    },
    getSnapshot: () => actor.getSnapshot() as SnapshotFrom<TMachine>,
    version: () => version,
    async flush() {
      while (writing !== null || queue.length > 0) await schedule();
    },
    async stop() {
      while (writing !== null || queue.length > 0) await schedule();
      actor.stop();
    },
  };
}
