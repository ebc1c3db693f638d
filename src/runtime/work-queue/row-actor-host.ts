import { randomUUID } from 'node:crypto';
import type { AnyStateMachine, EventFromLogic, InputFrom, InspectionEvent, SnapshotFrom, StateValue } from 'xstate';
import { statePath, topLevelState } from '../../../machines/state-name.ts';
import { ParleyError } from '../../domain/errors.ts';
import type { WorkClaim, WorkItemContext } from '../../domain/work-item.ts';
import type { StoredEffect } from '../../ports/actor-snapshot-store.port.ts';
import type { ClaimRequest, NewWorkItem, WorkItem, WorkItemWrite, WorkQueueStore } from '../../ports/work-queue.port.ts';
import { createDecider } from '../actors/decider.ts';
import type { PersistedSnapshot } from '../actors/decider.ts';
import { createEffectRunner } from '../actors/effect-runner.ts';
import type { EffectRunnerOptions, RunnableEffect } from '../actors/effect-runner.ts';
import { isDurable } from '../actors/effect-table.ts';
import type { EffectTable } from '../actors/effect-table.ts';
import { retryDelay, sameData, sleep } from '../actors/retry.ts';
import type { RetryPolicy } from '../actors/retry.ts';
import { createEffectPlacement } from './effect-placement.ts';
import type { HostOnlyEffects } from './effect-placement.ts';

/** What a row actor's effect handler learns besides its params: the item as the decision left it. */
export interface RowScope<TItem> {
  readonly item: TItem;
  readonly recovered: boolean;
  /** A durable effect's stored id, the same on every run of it. */
  readonly effectId: string | null;
}

export interface RowActorHostOptions<TMachine extends AnyStateMachine, TMap, TData, TState extends string> {
  readonly machine: TMachine;
  readonly machineVersion: number;
  readonly store: WorkQueueStore<TData, TState>;
  readonly effects: EffectTable<TMap, RowScope<WorkItem<TData, TState>>>;
  /** The state a claim moves an item to, and the event that records a claim in the snapshot. */
  readonly claimedState: TState;
  readonly claimedEvent: (claim: WorkClaim) => EventFromLogic<TMachine>;
  readonly inspect?: (event: InspectionEvent) => void;
  readonly clock?: () => number;
  readonly effectRunner?: EffectRunnerOptions<TMap>;
  /** Effects that run only where the item's bot is hosted; every effect runs anywhere when absent. */
  readonly hostOnly?: HostOnlyEffects<TMap>;
}

/** Which items a claim may take: some kinds, some pools, some bots; any when absent. */
export type ClaimScope = Pick<ClaimRequest, 'kinds' | 'pools' | 'botIds'>;

export interface DispatchOptions<TItem> {
  /**
   * The item as the caller last saw it (the claim it holds, the item a write returned): the event
   * is decided on it and written with compare-and-set on its version, which only succeeds if the
   * row is still exactly that item. A lost race, or a decision that would write nothing, reads
   * the row and decides again, so the outcome is the one a fresh read would have had.
   */
  readonly held?: TItem;
  /**
   * Stored effects of this item that are done, removed in the same write as the transition: for
   * an effect handler whose last step is this dispatch (its work is done before the write). When
   * nothing is written, the caller's effect runner acknowledges them as usual.
   */
  readonly acknowledge?: readonly string[];
}

export interface RowActorHost<TMachine extends AnyStateMachine, TData, TState extends string> {
  create(input: InputFrom<TMachine>, row: Omit<NewWorkItem<TData>, 'machineVersion' | 'snapshot'>): Promise<WorkItem<TData, TState>>;
  /** Claims the fairest due item and records the claim in its snapshot; `null` when none is due. */
  claim(owner: string, leaseMs: number, only?: ClaimScope): Promise<WorkItem<TData, TState> | null>;
  /** Decides `event` for the item, stores the outcome and its durable effects with compare-and-set, then runs them. */
  dispatch(id: string, event: EventFromLogic<TMachine>, options?: DispatchOptions<WorkItem<TData, TState>>): Promise<WorkItem<TData, TState>>;
  get(id: string): Promise<WorkItem<TData, TState> | null>;
  /**
   * Runs the effects a crash left unacknowledged (host-only ones only for bots hosted here);
   * resolves with how many items had some.
   */
  recoverEffects(): Promise<number>;
  /**
   * Runs the host-only effects stored on an item, when its bot is hosted here and no run of them
   * is under way here; resolves with how many ran, rejects when one failed (it stays stored).
   */
  adoptEffects(item: WorkItem<TData, TState>): Promise<number>;
  /** Stops running effects (the process is going away). */
  halt(): void;
}

const MAX_DECISION_ROUNDS = 8;
// A transition is part of a worker's report or an operator's call: a few quick tries, then the caller hears of it.
const WRITE_RETRY: RetryPolicy = { attempts: 4, baseMs: 50, maxMs: 1000 };

/**
 * Work-queue items are not kept in memory: the stored row is the actor. A transition loads the
 * row, decides with the machine's pure transition, and writes the outcome back with
 * compare-and-set on `version`, together with the durable effects it asked for. A lost race (a
 * claim, a sweep, another worker) re-reads and re-decides, so fencing is the machine's `attempt`
 * guard applied to the freshest state (I5), and whatever the machine keeps in its snapshot is
 * durable before any effect of that decision runs (I4). Effects run after the write, inside the
 * call that decided them, and are acknowledged once done; unacknowledged ones run again after a
 * restart. A caller that holds the item at a known version (the claim it works on, the item an
 * effect ran for) saves the read: the decision is tried on that item and only a lost race reads.
 */
export function createRowActorHost<TMachine extends AnyStateMachine, TMap, TData, TState extends string>(
  options: RowActorHostOptions<TMachine, TMap, TData, TState>,
): RowActorHost<TMachine, TData, TState> {
  type Item = WorkItem<TData, TState>;
  type Event = EventFromLogic<TMachine>;
  const now = options.clock ?? Date.now;
  const decider = createDecider(options.machine, options.effects, options.inspect);
  const inspected = (id: string) => ({ id, sessionId: id, logic: options.machine });
  const runners = new Set<ReturnType<typeof createEffectRunner<TMap, RowScope<Item>>>>();
  // Stored effects a transition's write already removed (`DispatchOptions.acknowledge`): the run
  // that ran them has nothing left to acknowledge for them.
  const removedByWrite = new Set<string>();
  const placement = createEffectPlacement(options.effects, options.hostOnly);
  let halted = false;

  const claimOf = (snapshot: unknown): WorkItemContext => (snapshot as { context: WorkItemContext }).context;

  // A claim updates the row atomically but not the snapshot; the snapshot catches up here.
  function catchUp(record: Item): Event[] {
    const context = claimOf(record.snapshot);
    if (record.state !== options.claimedState || record.attempt <= context.attempt || record.owner === null || record.leaseUntil === null) return [];
    return [options.claimedEvent({ owner: record.owner, leaseUntil: record.leaseUntil.getTime(), attempt: record.attempt })];
  }

  // The effects come reserved (`effect-placement.ts`); every path releases them, and one that ran
  // only once its acknowledgement is stored, so no adoption lists it as still to do in between.
  async function run(item: Item, reserved: readonly RunnableEffect<TMap>[], recovered: boolean): Promise<number> {
    if (halted || reserved.length === 0) {
      placement.release(reserved);
      return 0;
    }
    const runs = placement.place(item, reserved);
    if (runs.length === 0) return 0;
    const runner = createEffectRunner<TMap, RowScope<Item>>({ ...options.effectRunner, effects: options.effects });
    runners.add(runner);
    const acknowledged: string[] = [];
    try {
      await runner.run(runs, (r) => ({ item, recovered, effectId: r.storedId }), (id) => acknowledged.push(id));
      return runs.length;
    } finally {
      runners.delete(runner);
      const left = acknowledged.filter((id) => !removedByWrite.has(id));
      for (const r of runs) if (r.storedId !== null) removedByWrite.delete(r.storedId);
      try {
        if (left.length > 0 && !halted) await options.store.acknowledgeEffects(item.id, left);
      } finally {
        placement.release(runs, acknowledged);
      }
    }
  }

  function toWrite(snapshot: SnapshotFrom<TMachine>, persisted: PersistedSnapshot, effects: readonly StoredEffect[]): WorkItemWrite<TState> {
    const value = (snapshot as { value: StateValue }).value;
    const c = claimOf(snapshot);
    return {
      // The machine's top-level states are the queue's states.
      state: topLevelState(value) as TState,
      statePath: statePath(value),
      attempt: c.attempt,
      owner: c.owner,
      leaseUntil: c.leaseUntil === null ? null : new Date(c.leaseUntil),
      notBefore: c.notBefore === null ? null : new Date(c.notBefore),
      error: c.error,
      machineVersion: options.machineVersion,
      snapshot: persisted,
      effects,
    };
  }

  /**
   * One compare-and-set, tried again after a transient failure. A write whose reply was lost but
   * which landed is recognized by what it stored (its effect ids, or its snapshot) and taken as
   * written, so its effects run now and the event is not decided twice.
   */
  async function writeOnce(current: Item, write: WorkItemWrite<TState>): Promise<Item | null> {
    for (let failures = 0; ; ) {
      try {
        return await options.store.compareAndSet(current.id, current.version, write, new Date(now()));
      } catch (err) {
        failures += 1;
        const fresh = await options.store.get(current.id).catch(() => undefined);
        const stored = write.effects ?? [];
        const landed = fresh !== undefined && fresh !== null && fresh.version === current.version + 1 &&
          (stored.length > 0 ? stored.every((e) => fresh.effects.some((f) => f.id === e.id)) : sameData(fresh.snapshot, write.snapshot));
        if (landed) return fresh;
        if (fresh !== undefined && fresh !== null && fresh.version !== current.version) return null;
        if (halted || failures >= WRITE_RETRY.attempts) throw err;
        await sleep(retryDelay(WRITE_RETRY, failures));
      }
    }
  }

  /**
   * Decides `event` (and any claim the snapshot lacks) on `record` and writes the outcome. A
   * record that is not `fresh` (held by the caller, maybe older than the row) is trusted only
   * through a successful compare-and-set on its version: a decision on it that writes nothing is
   * made again on the row as read.
   */
  async function apply(record: Item, event: Event | null, fresh: boolean, acknowledge: readonly string[] = []): Promise<Item> {
    let current = record;
    let trusted = fresh;
    const reread = async (): Promise<Item> => {
      const row = await options.store.get(current.id);
      if (row === null) throw new ParleyError('NOT_FOUND', `work item ${current.id} not found`);
      trusted = true;
      return row;
    };
    for (let round = 0; round < MAX_DECISION_ROUNDS; round++) {
      const events = [...catchUp(current), ...(event === null ? [] : [event])];
      if (events.length === 0) return current;
      const decided = decider.decide(decider.restore(current.snapshot), events, inspected(current.id));
      const persisted = decider.persist(decided.snapshot);
      // The decision's own tag: a rival writer's decision at the same version never shares its effect ids.
      const decision = `${current.id}@${current.version + 1}.${randomUUID().slice(0, 8)}`;
      const stored: StoredEffect[] = [];
      const runs = decided.effects.map((effect): RunnableEffect<TMap> => {
        if (!isDurable(options.effects, effect)) return { effect, storedId: null };
        const id = `${decision}#${stored.length}`;
        stored.push({ id, type: String(effect.type), params: effect.params });
        return { effect, storedId: id };
      });
      // An unchanged snapshot that asks for nothing durable is already as it should be, if it is the row's.
      if (stored.length === 0 && sameData(persisted, current.snapshot)) {
        if (!trusted) {
          current = await reread();
          continue;
        }
        await run(current, runs, false);
        return current;
      }
      const write = toWrite(decided.snapshot, persisted, stored);
      // Reserved before the write: a recovery or an adoption that lists the item once the write
      // landed leaves these effects to this call.
      placement.reserve(runs);
      let written: Item | null;
      try {
        written = await writeOnce(current, acknowledge.length === 0 ? write : { ...write, acknowledge });
      } catch (err) {
        placement.release(runs);
        throw err;
      }
      if (written !== null) {
        for (const id of acknowledge) removedByWrite.add(id);
        await run(written, runs, false);
        return written;
      }
      placement.release(runs);
      current = await reread();
    }
    throw new ParleyError('STORE_WRITE_CONFLICT', `work item ${record.id}: too many concurrent writers`);
  }

  return {
    async create(input, row) {
      const snapshot = decider.persist(decider.initial(input, inspected(row.id)));
      // The row's data and the work queue's fields, with the machine's first snapshot.
      const item = { ...row, machineVersion: options.machineVersion, snapshot } as NewWorkItem<TData>;
      try {
        return await options.store.insert(item, new Date(now()));
      } catch (err) {
        // An insert whose reply was lost may have landed: then the item exists, as created.
        const landed = await options.store.get(row.id).catch(() => null);
        if (landed !== null && landed.attempt === 0 && sameData(landed.snapshot, snapshot)) return landed;
        throw err;
      }
    },
    async claim(owner, leaseMs, only = {}) {
      let claimed: Item | null;
      try {
        claimed = await options.store.claim({ owner, leaseMs, now: new Date(now()), ...only });
      } catch (err) {
        // A claim whose reply was lost may have landed: an item claimed by this owner whose
        // snapshot has not recorded the claim is that one, and is taken up rather than left to
        // wait out its lease.
        const mine = await options.store.list({ states: [options.claimedState], owner }).catch(() => []);
        claimed = mine.find((item) => item.attempt > claimOf(item.snapshot).attempt) ?? null;
        if (claimed === null) throw err;
      }
      return claimed === null ? null : apply(claimed, null, true);
    },
    async dispatch(id, event, { held, acknowledge = [] } = {}) {
      const holding = held !== undefined && held.id === id;
      const record = holding ? held : await options.store.get(id);
      if (record === null) throw new ParleyError('NOT_FOUND', `work item ${id} not found`);
      if (record.machineVersion !== options.machineVersion) {
        throw new ParleyError('INCOMPATIBLE_SNAPSHOT', `work item ${id} was stored by machine version ${record.machineVersion}; this build runs version ${options.machineVersion}`);
      }
      return apply(record, event, !holding, acknowledge);
    },
    get: (id) => options.store.get(id),
    async recoverEffects() {
      const items = await options.store.list({ withEffects: true });
      for (const item of items) await run(item, placement.reserve(placement.storedOf(item)), true).catch(() => undefined);
      return items.length;
    },
    async adoptEffects(item) {
      if (options.hostOnly?.hosts(item.botId) !== true) return 0;
      return run(item, placement.reserve(placement.hostOnlyOf(item)), true);
    },
    halt() {
      halted = true;
      for (const runner of runners) runner.halt();
    },
  };
}
