import type { StoredEffect } from './actor-snapshot-store.port.ts';

/** Top-level states of the media-job machine, as stored in the `state` field. */
export type MediaJobState = 'pending' | 'processing' | 'holding' | 'completed' | 'delivered' | 'failed' | 'discarded';

/**
 * A media job as stored: the claimable queue entry behind one placeholder, and the media-job
 * actor's snapshot. The top-level fields mirror the snapshot's context so claims and sweeps can
 * query them; `version` is the compare-and-set counter bumped by every write, claims included.
 */
export interface MediaJobRecord {
  readonly id: string;
  readonly botId: string;
  readonly correspondentId: string;
  /** Queue message id of the placeholder this job finalizes. */
  readonly messageId: number;
  readonly kind: string;
  readonly mimetype: string;
  readonly mediaPath: string | null;
  readonly state: MediaJobState;
  /** Full state path, e.g. `holding.claimed`. */
  readonly statePath: string;
  /** Number of claims so far; the fencing token of every worker report. */
  readonly attempt: number;
  readonly owner: string | null;
  readonly leaseUntil: Date | null;
  /** Earliest time a pending job may be claimed (retry backoff). */
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

export type NewMediaJob = Pick<
  MediaJobRecord,
  'id' | 'botId' | 'correspondentId' | 'messageId' | 'kind' | 'mimetype' | 'mediaPath' | 'machineVersion' | 'snapshot'
>;

/** What a machine transition writes back. */
export interface MediaJobWrite {
  readonly state: MediaJobState;
  readonly statePath: string;
  readonly attempt: number;
  readonly owner: string | null;
  readonly leaseUntil: Date | null;
  readonly notBefore: Date | null;
  readonly error: string | null;
  readonly machineVersion: number;
  readonly snapshot: unknown;
  /** Durable effects the transition decided, appended to the job's unacknowledged ones; none when absent. */
  readonly effects?: readonly StoredEffect[];
}

export interface ClaimRequest {
  readonly owner: string;
  readonly leaseMs: number;
  readonly now: Date;
  /** Restrict to these kinds (a worker pool's routes); all kinds when absent. */
  readonly kinds?: readonly string[];
}

/** A position in the listing order (`createdAt`, then id): the last job of the previous page. */
export interface MediaJobPosition {
  readonly createdAt: Date;
  readonly id: string;
}

export interface MediaJobListFilter {
  readonly botId?: string;
  readonly states?: readonly MediaJobState[];
  readonly leaseBefore?: Date;
  /** Only jobs with unacknowledged effects. */
  readonly withEffects?: boolean;
  /** Only jobs after this position; with `limit`, pages through the listing. */
  readonly after?: MediaJobPosition;
  readonly limit?: number;
}

/** Media job queue and media-job actor persistence. */
export interface MediaJobStore {
  insert(job: NewMediaJob, now: Date): Promise<MediaJobRecord>;
  get(id: string): Promise<MediaJobRecord | null>;
  /**
   * Atomically moves the fairest due pending job to processing (attempt + 1, owner, lease,
   * version + 1); `null` when none is due. The snapshot is brought up to date by the claimer.
   */
  claim(request: ClaimRequest): Promise<MediaJobRecord | null>;
  /** Writes a transition if `version` still matches; `null` when another writer won. */
  compareAndSet(id: string, expectedVersion: number, write: MediaJobWrite, now: Date): Promise<MediaJobRecord | null>;
  /**
   * Removes acknowledged effects. Not a transition: it leaves `version` alone, so it never makes a
   * concurrent compare-and-set fail, and appends never bring an acknowledged effect back.
   */
  acknowledgeEffects(id: string, effectIds: readonly string[]): Promise<void>;
  /** Oldest first (`createdAt`, then id): an order no transition changes, so pages stay stable. */
  list(filter: MediaJobListFilter): Promise<MediaJobRecord[]>;
  countByState(botId?: string): Promise<Partial<Record<MediaJobState, number>>>;
  delete(id: string): Promise<boolean>;
  /**
   * Removes every job of a bot, whatever its state, and the bot's fair-queuing tag. A worker still
   * processing one of them finds nothing to write its result to, and the result is dropped.
   */
  deleteByBot(botId: string): Promise<number>;
}
