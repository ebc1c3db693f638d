/**
 * What every work-queue row actor (media job, outbox delivery, webhook delivery) keeps in its
 * machine context about its claim. The runtime mirrors these fields onto the stored row so claims
 * and sweeps can query them; deadlines are epoch ms.
 */
export interface WorkItemContext {
  /** Number of claims so far; the fencing token every worker report must carry. */
  readonly attempt: number;
  /** Claims granted per budget; an operator retry grants as many again. */
  readonly attemptBudget: number;
  /** Claims allowed before the item is dead-lettered. */
  readonly maxAttempts: number;
  /** Worker holding the current claim, `null` when unclaimed. */
  readonly owner: string | null;
  readonly leaseUntil: number | null;
  /** Earliest time the item may be claimed again after a transient failure. */
  readonly notBefore: number | null;
  readonly error: string | null;
}

/** A worker's claim, as the store grants it atomically and the machine then records it. */
export interface WorkClaim {
  readonly owner: string;
  readonly leaseUntil: number;
  readonly attempt: number;
}

/** The claim fields of a fresh item: unclaimed, with `maxAttempts` claims to spend. */
export function unclaimed(maxAttempts: number): WorkItemContext {
  return { attempt: 0, attemptBudget: maxAttempts, maxAttempts, owner: null, leaseUntil: null, notBefore: null, error: null };
}
