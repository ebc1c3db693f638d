import { randomUUID } from 'node:crypto';
import type { AnyStateMachine, EventFromLogic, InputFrom, InspectionEvent, SnapshotFrom, StateValue } from 'xstate';
import { topLevelState } from '../../../machines/state-name.ts';
import { ParleyError } from '../../domain/errors.ts';
import type { ActorKind, ActorRecord, ActorSnapshotStore, StoredEffect } from '../../ports/actor-snapshot-store.port.ts';
import { decodeRecord, identityCodec } from './actor-codec.ts';
import type { ActorCodec, SnapshotMigrations } from './actor-codec.ts';
import type { ActorFence } from './actor-fence.ts';

export type { ActorFence } from './actor-fence.ts';
import { createDecider } from './decider.ts';
import type { Decider, InspectedActor, PersistedSnapshot } from './decider.ts';
import { createEffectRunner } from './effect-runner.ts';
import type { EffectRunnerOptions, RunnableEffect } from './effect-runner.ts';
import { isDurable } from './effect-table.ts';
import type { Effect, EffectTable } from './effect-table.ts';
import { retryDelay, sameData, sleep } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

/**
 * `sendAndSettle`'s answer when the decision is durable but one of its effects failed (its retries
 * spent), as opposed to the decision itself not being written.
 */
export class EffectsFailed extends Error {
  constructor(failure: unknown) {
    super(failure instanceof Error ? failure.message : String(failure), { cause: failure });
    this.name = 'EffectsFailed';
  }
}

/** Counters every persisted actor reports into. */
export interface PersistenceStats {
  writes: number;
  conflicts: number;
  /** Writes that failed and were decided again from the stored snapshot. */
  failedWrites: number;
}

/** What a durable effect's handler learns besides its params. */
export interface ActorScope {
  readonly actorId: string;
  readonly botId: string;
  /** The effect is running again after a restart: its decision was durable, its acknowledgement was not. */
  readonly recovered: boolean;
  /** A durable effect's stored id, the same on every run of it: what consumers dedupe by. */
  readonly effectId: string | null;
}

export interface PersistedActorOptions<TMachine extends AnyStateMachine, TMap> {
  readonly machine: TMachine;
  readonly machineVersion: number;
  readonly store: ActorSnapshotStore;
  readonly effects: EffectTable<TMap, ActorScope>;
  readonly inspect?: (event: InspectionEvent) => void;
  readonly stats?: PersistenceStats;
  /** How long a decision may wait for company before its snapshot is written. */
  readonly coalesceMs?: number;
  /**
   * How long acknowledgements wait for a decision's write to ride on before they are written on
   * their own. Until written, a crash runs those effects again (they are idempotent), so this
   * trades repeats after a crash for writes in a busy conversation. Default 1000 ms.
   */
  readonly ackDelayMs?: number;
  /** Failed writes are retried (reload, decide again, write); past `attempts` the events are refused. */
  readonly writeRetry?: RetryPolicy;
  readonly effectRunner?: EffectRunnerOptions<TMap>;
  /** How snapshots and durable effects are stored; as they are when absent. */
  readonly codec?: ActorCodec<TMap>;
  /** Readers of snapshots earlier machine versions stored; a version without one is refused. */
  readonly migrations?: SnapshotMigrations;
  /**
   * Ownership fencing (I14): the epoch under which this instance holds the bot, asked before every
   * write; it throws (LEASE_LOST) when the instance does not hold the bot. Writes carry the epoch,
   * and a write refused because a later owner fenced the actor is never decided again here: the
   * actor stops and `onFenced` hears of it. Unfenced when absent.
   */
  readonly fence?: ActorFence;
}


/**
 * An in-memory actor whose snapshot and pending effects live in the store. Events are decided at
 * once with the machine's pure transition; a decision and the durable effects it asked for are
 * written in one compare-and-set, and only then do its effects run, in decision order. Each
 * durable effect is acknowledged once done (the acknowledgement rides on the next write); one
 * left unacknowledged by a crash runs again when the actor is restored. A write that fails or
 * loses a race discards the in-memory decisions: the actor reloads the stored snapshot and
 * decides the unwritten events again, so no effect runs for a decision that is not durable.
 */
export interface PersistedActor<TMachine extends AnyStateMachine> {
  readonly id: string;
  readonly kind: ActorKind;
  readonly botId: string;
  /**
   * Decides the event now; resolves once the decision is durable (its effects run afterwards). An
   * urgent decision is written without waiting for company (someone is waiting on its effects).
   */
  send(event: EventFromLogic<TMachine>, options?: { urgent?: boolean }): Promise<void>;
  /** Like `send`, and resolves once the event's effects ran; rejects with `EffectsFailed` when one of them failed. */
  sendAndSettle(event: EventFromLogic<TMachine>): Promise<void>;
  getSnapshot(): SnapshotFrom<TMachine>;
  /** The stored version this actor last wrote or read. */
  version(): number;
  /** Resolves when every decision is durable, its effects ran and their acknowledgements are written. */
  flush(): Promise<void>;
  /** Durable effects stored and not acknowledged: ones still to run, or ones that failed. */
  unacknowledgedEffects(): number;
  /** Runs the unacknowledged durable effects again (they are idempotent); rejects with the first failure. */
  retryEffects(): Promise<void>;
  stop(): Promise<void>;
  /** Stops at once without writing or running anything more (the process is going away). */
  halt(): void;
}

interface Waiter<TEvent, TMap> {
  readonly event: TEvent;
  effects: Effect<TMap>[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly settle: { resolve: () => void; reject: (err: unknown) => void } | null;
}

type Identity = { id: string; kind: ActorKind; botId: string };

const DEFAULT_WRITE_RETRY: RetryPolicy = { attempts: Number.POSITIVE_INFINITY, baseMs: 50, maxMs: 5_000 };

/** Creates the actor from `input` and stores its first snapshot. */
export async function createPersistedActor<TMachine extends AnyStateMachine, TMap>(
  options: PersistedActorOptions<TMachine, TMap>,
  identity: Identity,
  input: InputFrom<TMachine>,
): Promise<PersistedActor<TMachine>> {
  const decider = createDecider(options.machine, options.effects);
  const snapshot = decider.persist(decider.initial(input));
  const epoch = options.fence?.epochOf(identity.botId);
  const record = await options.store.insert({
    ...identity,
    machineVersion: options.machineVersion,
    state: topLevelState(snapshot.value),
    snapshot: codecOf(options).encode(snapshot),
    effects: [],
    ...(epoch === undefined ? {} : { epoch }),
  });
  return hostActor(options, record, snapshot, []);
}

/**
 * Restores an actor from its stored record, decoding its snapshot and the effects a crash left
 * unacknowledged. A snapshot of an earlier machine version goes through its migration; one of any
 * other version is refused with INCOMPATIBLE_SNAPSHOT.
 */
export async function restorePersistedActor<TMachine extends AnyStateMachine, TMap>(
  options: PersistedActorOptions<TMachine, TMap>,
  record: ActorRecord,
): Promise<PersistedActor<TMachine>> {
  const codec = codecOf(options);
  const snapshot = await decodeRecord(codec, options.machineVersion, options.migrations ?? {}, record);
  const recovered = await Promise.all(record.effects.map((stored) => codec.decodeEffect(stored)));
  return hostActor(options, record, snapshot, recovered);
}

const codecOf = <TMachine extends AnyStateMachine, TMap>(options: PersistedActorOptions<TMachine, TMap>): ActorCodec<TMap> => options.codec ?? identityCodec<TMap>();

function hostActor<TMachine extends AnyStateMachine, TMap>(
  options: PersistedActorOptions<TMachine, TMap>,
  record: ActorRecord,
  decoded: PersistedSnapshot,
  recoveredEffects: readonly (StoredEffect | null)[],
): PersistedActor<TMachine> {
  type TEvent = EventFromLogic<TMachine>;
  const codec = codecOf(options);
  const decider: Decider<TMachine, TMap, ActorScope> = createDecider(options.machine, options.effects, options.inspect);
  const inspected: InspectedActor = { id: record.id, sessionId: record.id, logic: options.machine };
  const scope = (recovered: boolean) => (item: RunnableEffect<TMap>): ActorScope => ({ actorId: record.id, botId: record.botId, recovered, effectId: item.storedId });
  const writeRetry = options.writeRetry ?? DEFAULT_WRITE_RETRY;
  const runner = createEffectRunner<TMap, ActorScope>({ ...options.effectRunner, effects: options.effects });

  let version = record.version;
  // The epoch this instance last wrote under: a stored one above it means a later owner.
  let writtenEpoch = record.epoch ?? 0;
  // The stored form last written or read: a write that would store the same is skipped.
  let lastWritten: unknown = record.snapshot;
  let snapshot = decider.restore(decoded, inspected);
  // Durable effects not yet acknowledged in the store, and those acknowledged since the last write.
  let outstanding: readonly StoredEffect[] = record.effects;
  const acked = new Set<string>();
  let queue: Waiter<TEvent, TMap>[] = [];
  let writing: Promise<void> | null = null;
  let halted = false;

  // Acknowledgements ride on the next decision's write; only when none comes do they get their own.
  let acksDue = false;
  let ackTimer: NodeJS.Timeout | undefined;
  const acknowledge = (id: string) => {
    acked.add(id);
    ackTimer ??= setTimeout(() => {
      ackTimer = undefined;
      acksDue = true;
      void schedule();
    }, options.ackDelayMs ?? 1000).unref();
  };
  const pendingWrite = () => queue.length > 0 || (acksDue && acked.size > 0);

  // Effects a crash left unacknowledged run first, before anything decided from here on.
  const recovered: RunnableEffect<TMap>[] = [];
  for (const stored of recoveredEffects) {
    if (stored === null) continue;
    const effect = runner.restore(stored);
    if (effect !== null) recovered.push({ effect, storedId: stored.id });
  }
  if (recovered.length > 0) void runner.run(recovered, scope(true), acknowledge).catch(() => undefined);

  function decideOne(event: TEvent): Effect<TMap>[] {
    const decision = decider.decide(snapshot, [event], inspected);
    snapshot = decision.snapshot;
    return decision.effects;
  }

  /** Adopts the stored record and decides `pending` again on top of it. */
  async function reload(pending: Waiter<TEvent, TMap>[]): Promise<void> {
    const fresh = await options.store.get(record.id);
    if (fresh === null) {
      for (const w of new Set([...pending, ...queue])) w.reject(new ParleyError('NOT_FOUND', `${record.kind} ${record.id} disappeared from the store`));
      queue = [];
      halted = true;
      return;
    }
    if (options.fence !== undefined && fresh.epoch !== undefined && fresh.epoch > writtenEpoch) {
      // A later owner fenced the actor: this instance lost the bot, so nothing is decided again here.
      const lost = ParleyError.of('LEASE_LOST', { id: record.botId });
      for (const w of new Set([...pending, ...queue])) w.reject(lost);
      queue = [];
      halted = true;
      options.fence.onFenced(record.botId, fresh.epoch);
      return;
    }
    const decodedFresh = await decodeRecord(codec, options.machineVersion, options.migrations ?? {}, fresh);
    version = fresh.version;
    lastWritten = fresh.snapshot;
    snapshot = decider.restore(decodedFresh, inspected);
    outstanding = fresh.effects;
    for (const id of [...acked]) if (!fresh.effects.some((e) => e.id === id)) acked.delete(id);
    // Events sent while the record was read and decoded were decided on the discarded snapshot too.
    const all = [...pending, ...queue.filter((w) => !pending.includes(w))];
    for (const w of all) w.effects = decideOne(w.event);
    queue = all;
  }

  function durableOf(batch: readonly Waiter<TEvent, TMap>[], nextVersion: number) {
    // The write's own tag: a rival writer's decision at the same version never shares its effect ids.
    const decision = `${record.id}@${nextVersion}.${randomUUID().slice(0, 8)}`;
    const stored: StoredEffect[] = [];
    const runs = batch.map((w) =>
      w.effects.map((effect): RunnableEffect<TMap> => {
        if (!isDurable(options.effects, effect)) return { effect, storedId: null };
        const id = `${decision}#${stored.length}`;
        stored.push({ id, type: String(effect.type), params: codec.encodeEffect(effect) });
        return { effect, storedId: id };
      }),
    );
    return { stored, runs };
  }

  function release(batch: readonly Waiter<TEvent, TMap>[], runs: readonly RunnableEffect<TMap>[][]): void {
    batch.forEach((w, i) => {
      w.resolve();
      const done = runner.run(runs[i] ?? [], scope(false), acknowledge);
      if (w.settle !== null) done.then(w.settle.resolve, (err: unknown) => w.settle?.reject(new EffectsFailed(err)));
      else done.catch(() => undefined);
    });
  }

  async function writeOnce(batch: Waiter<TEvent, TMap>[]): Promise<'written' | 'conflict'> {
    const persisted = codec.encode(decider.persist(snapshot));
    const { stored, runs } = durableOf(batch, version + 1);
    const acknowledged = new Set(acked);
    if (stored.length === 0 && acknowledged.size === 0 && sameData(persisted, lastWritten)) {
      // Nothing changed (a duplicate, a stale timer): there is nothing to make durable.
      release(batch, runs);
      return 'written';
    }
    const effects = [...outstanding.filter((e) => !acknowledged.has(e.id)), ...stored];
    const epoch = options.fence?.epochOf(record.botId);
    if (epoch !== undefined) writtenEpoch = epoch;
    const write = {
      machineVersion: options.machineVersion, state: topLevelState((snapshot as { value: StateValue }).value), snapshot: persisted, effects,
      ...(epoch === undefined ? {} : { epoch }),
    };
    let written: ActorRecord | null;
    try {
      written = await options.store.compareAndSet(record.id, version, write);
    } catch (err) {
      // The write may have landed before the error reached us: then it is as good as written.
      const landed = await options.store.get(record.id).catch(() => null);
      if (landed === null || landed.version !== version + 1 || !sameData(landed.snapshot, persisted) || !sameData(landed.effects, effects)) throw err;
      written = landed;
    }
    if (written === null) return 'conflict';
    version = written.version;
    lastWritten = persisted;
    outstanding = effects;
    for (const id of acknowledged) acked.delete(id);
    if (options.stats !== undefined) options.stats.writes += 1;
    release(batch, runs);
    return 'written';
  }

  async function writeLoop(): Promise<void> {
    let failures = 0;
    while (!halted && pendingWrite()) {
      const batch = queue;
      queue = [];
      try {
        if ((await writeOnce(batch)) === 'conflict') {
          if (options.stats !== undefined) options.stats.conflicts += 1;
          await reload([...batch, ...queue]);
        }
        failures = 0;
      } catch (err) {
        failures += 1;
        if (options.stats !== undefined) options.stats.failedWrites += 1;
        const refused = failures >= writeRetry.attempts;
        if (refused) for (const w of batch) w.reject(err);
        await sleep(retryDelay(writeRetry, failures));
        if (halted) return;
        // The decisions were not durable: decide again from what the store holds.
        queue = refused ? queue : [...batch, ...queue];
        await reload(queue).catch((reloadErr: unknown) => {
          if (refused) for (const w of queue.splice(0)) w.reject(reloadErr);
        });
        if (refused) failures = 0;
      }
    }
  }

  // Cuts the coalescing wait short when an urgent decision arrives during it.
  let cutWait: (() => void) | null = null;

  function coalesce(delay: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      timer.unref();
      cutWait = () => {
        clearTimeout(timer);
        resolve();
      };
    }).then(() => {
      cutWait = null;
    });
  }

  function schedule(urgent = false): Promise<void> {
    if (halted) return Promise.resolve();
    if (urgent) cutWait?.();
    const delay = urgent ? 0 : (options.coalesceMs ?? 0);
    writing ??= (delay > 0 ? coalesce(delay).then(writeLoop) : writeLoop()).finally(() => {
      writing = null;
      if (acked.size === 0) acksDue = false;
      if (!halted && pendingWrite()) void schedule();
    });
    return writing;
  }

  function enqueue(event: TEvent, settle: boolean, urgent = false): Promise<void> {
    if (halted) return Promise.reject(new ParleyError('STORE_UNAVAILABLE', `${record.kind} ${record.id} is stopped`));
    const effects = decideOne(event);
    let settled: Promise<void> = Promise.resolve();
    let settleHandle: Waiter<TEvent, TMap>['settle'] = null;
    if (settle) settled = new Promise<void>((resolve, reject) => (settleHandle = { resolve, reject }));
    const durable = new Promise<void>((resolve, reject) => queue.push({ event, effects, resolve, reject, settle: settleHandle }));
    void schedule(urgent);
    return settle ? durable.then(() => settled) : durable;
  }

  async function flush(): Promise<void> {
    do {
      await runner.idle();
      acksDue = true;
      while (!halted && (writing !== null || pendingWrite())) await schedule();
      await runner.idle();
    } while (!halted && (writing !== null || queue.length > 0 || acked.size > 0));
  }

  return {
    id: record.id,
    kind: record.kind,
    botId: record.botId,
    send: (event, options) => enqueue(event, false, options?.urgent === true),
    sendAndSettle: (event) => enqueue(event, true),
    getSnapshot: () => snapshot,
    version: () => version,
    flush,
    unacknowledgedEffects: () => outstanding.filter((e) => !acked.has(e.id)).length,
    retryEffects() {
      const runs = outstanding.flatMap((stored): RunnableEffect<TMap>[] => {
        const effect = acked.has(stored.id) ? null : runner.restore(stored);
        return effect === null ? [] : [{ effect, storedId: stored.id }];
      });
      return runner.run(runs, scope(false), acknowledge);
    },
    async stop() {
      await flush();
      halted = true;
      clearTimeout(ackTimer);
    },
    halt() {
      halted = true;
      clearTimeout(ackTimer);
      runner.halt();
    },
  };
}
