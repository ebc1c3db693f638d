export type MediaJobState = 'pending' | 'processing' | 'completed' | 'delivered' | 'failed' | 'holding';

/** A media job as stored: the claimable queue entry behind one placeholder. */
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
  /** Number of claims so far; the fencing token for complete/fail/heartbeat. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly owner: string | null;
  readonly leaseUntil: Date | null;
  /** Earliest time a pending job may be claimed (retry backoff). */
  readonly notBefore: Date;
  /** Fair-queuing tag: interleaves bots so one busy bot cannot starve the others. */
  readonly fairSeq: number;
  readonly result: string | null;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type NewMediaJob = Pick<MediaJobRecord, 'id' | 'botId' | 'correspondentId' | 'messageId' | 'kind' | 'mimetype' | 'mediaPath' | 'maxAttempts'>;

export interface ClaimRequest {
  readonly owner: string;
  readonly leaseMs: number;
  readonly now: Date;
  /** Restrict to these kinds (a worker pool's routes); all kinds when absent. */
  readonly kinds?: readonly string[];
}

/** Media job queue. Every transition after a claim is fenced by `(id, attempt)`. */
export interface MediaJobStore {
  insert(job: NewMediaJob, now: Date): Promise<MediaJobRecord>;
  get(id: string): Promise<MediaJobRecord | null>;
  /** Atomically moves the fairest due pending job to processing; `null` when none is due. */
  claim(request: ClaimRequest): Promise<MediaJobRecord | null>;
  heartbeat(id: string, attempt: number, leaseUntil: Date): Promise<boolean>;
  /** Stores the result; `false` when the attempt is stale (the result must be discarded). */
  complete(id: string, attempt: number, result: string, now: Date): Promise<boolean>;
  /** Back to pending at `retryAt`, or to failed when `retryAt` is null. `false` when stale. */
  fail(id: string, attempt: number, error: string, retryAt: Date | null, now: Date): Promise<boolean>;
  markDelivered(id: string, now: Date): Promise<boolean>;
  list(filter: { botId?: string; states?: readonly MediaJobState[]; limit?: number }): Promise<MediaJobRecord[]>;
  countByState(botId?: string): Promise<Partial<Record<MediaJobState, number>>>;
}
