import type { StoredEffect } from './actor-snapshot-store.port.ts';

/**
 * One row of a work queue: a claimable unit of background work (a media job, an outgoing
 * message, a webhook delivery) that is also a row actor, its machine snapshot stored with it. The
 * claim fields mirror the snapshot's context so claims and sweeps can query them; `version` is the
 * compare-and-set counter every write bumps, claims included.
 */
export interface WorkItemFields<TState extends string = string> {
  readonly id: string;
  readonly botId: string;
  /** What the item is, for pools that take only some kinds (a media kind; `text` for a message). */
  readonly kind: string;
  /**
   * Items of one line are claimed one at a time, in `lineSeq` order: a later item waits while an
   * earlier one is not finished (an outgoing message waits for the one before it, retries
   * included). `null`: no order.
   */
  readonly line: string | null;
  readonly lineSeq: number | null;
  readonly state: TState;
  /** Full state path, e.g. `holding.claimed`. */
  readonly statePath: string;
  /** Number of claims so far; the fencing token of every worker report. */
  readonly attempt: number;
  readonly owner: string | null;
  readonly leaseUntil: Date | null;
  /** Earliest time a pending item may be claimed (retry backoff). */
  readonly notBefore: Date;
  /** Fair-queuing tag: interleaves bots so one busy bot cannot starve the others. */
  readonly fairSeq: number;
  readonly error: string | null;
  readonly version: number;
  readonly machineVersion: number;
  readonly snapshot: unknown;
  /** Durable effects decided but not yet acknowledged: run again after a restart. */
  readonly effects: readonly StoredEffect[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A stored item: the queue's fields plus the kind-specific data of its machine's input. */
export type WorkItem<TData, TState extends string = string> = WorkItemFields<TState> & TData;

export type NewWorkItem<TData> = Pick<WorkItemFields, 'id' | 'botId' | 'kind' | 'line' | 'lineSeq' | 'machineVersion' | 'snapshot'> & TData;

/** What a machine transition writes back. */
export interface WorkItemWrite<TState extends string = string> {
  readonly state: TState;
  readonly statePath: string;
  readonly attempt: number;
  readonly owner: string | null;
  readonly leaseUntil: Date | null;
  readonly notBefore: Date | null;
  readonly error: string | null;
  readonly machineVersion: number;
  readonly snapshot: unknown;
  /** Durable effects the transition decided, appended to the item's unacknowledged ones; none when absent. */
  readonly effects?: readonly StoredEffect[];
  /** Ids of stored effects that are done, removed in the same atomic write (as `acknowledgeEffects` would); none when absent. */
  readonly acknowledge?: readonly string[];
}

export interface ClaimRequest {
  readonly owner: string;
  readonly leaseMs: number;
  readonly now: Date;
  /** Restrict to these kinds (a worker pool's routes); all kinds when absent. */
  readonly kinds?: readonly string[];
  /** Restrict to items whose `pool` field is one of these (media jobs are routed to a pool when created). */
  readonly pools?: readonly string[];
  /** Restrict to items of these bots; all bots when absent. An empty list claims nothing. */
  readonly botIds?: readonly string[];
}

/** A position in the listing order (`createdAt`, then id): the last item of the previous page. */
export interface WorkItemPosition {
  readonly createdAt: Date;
  readonly id: string;
}

export interface WorkItemListFilter<TState extends string = string> {
  readonly botId?: string;
  /** Only items of one of these bots (with `botId` as well: only that bot, if it is one of these). */
  readonly botIds?: readonly string[];
  readonly states?: readonly TState[];
  /** Only items in one of these full state paths (`holding.idle`, `failed.notifying`). */
  readonly statePaths?: readonly string[];
  readonly leaseBefore?: Date;
  /** Only items with unacknowledged effects. */
  readonly withEffects?: boolean;
  /** Only items with an unacknowledged effect of one of these types. */
  readonly effectTypes?: readonly string[];
  /** Only items claimed by this owner. */
  readonly owner?: string;
  /** Only items whose `pool` is none of these (jobs of pools that no longer exist). */
  readonly outsidePools?: readonly string[];
  /** Only items after this position; with `limit`, pages through the listing. */
  readonly after?: WorkItemPosition;
  readonly limit?: number;
}

/** One work queue: row-actor persistence plus an atomic, fair, line-ordered claim. */
export interface WorkQueueStore<TData, TState extends string = string> {
  insert(item: NewWorkItem<TData>, now: Date): Promise<WorkItem<TData, TState>>;
  get(id: string): Promise<WorkItem<TData, TState> | null>;
  /**
   * Atomically moves the fairest due pending item whose line has nothing earlier unfinished to the
   * claimed state (attempt + 1, owner, lease, version + 1); `null` when none is due. The snapshot
   * is brought up to date by the claimer.
   */
  claim(request: ClaimRequest): Promise<WorkItem<TData, TState> | null>;
  /** Writes a transition if `version` still matches; `null` when another writer won. */
  compareAndSet(id: string, expectedVersion: number, write: WorkItemWrite<TState>, now: Date): Promise<WorkItem<TData, TState> | null>;
  /**
   * Removes acknowledged effects. Not a transition: it leaves `version` alone, so it never makes a
   * concurrent compare-and-set fail, and appends never bring an acknowledged effect back.
   */
  acknowledgeEffects(id: string, effectIds: readonly string[]): Promise<void>;
  /** Oldest first (`createdAt`, then id): an order no transition changes, so pages stay stable. */
  list(filter: WorkItemListFilter<TState>): Promise<WorkItem<TData, TState>[]>;
  countByState(botId?: string): Promise<Partial<Record<TState, number>>>;
  delete(id: string): Promise<boolean>;
  /**
   * Removes every item of a bot, whatever its state, and the bot's fair-queuing tag. A worker still
   * busy with one of them finds nothing to write its result to, and the result is dropped.
   */
  deleteByBot(botId: string): Promise<number>;
}
