/** Exponential backoff with jitter. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Fraction of the delay that is randomized, 0 (none) to 1 (full jitter). */
  readonly jitter: number;
}

/**
 * Delay before retry number `attempt` (1-based): `baseMs · 2^(attempt-1)`, capped at `maxMs`,
 * with up to `jitter` of it replaced by `random · jitter · delay`. `random` is a value in
 * [0, 1) supplied by the caller, so the result is reproducible.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: number): number {
  const exponent = Math.max(0, attempt - 1);
  const raw = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  const spread = raw * jitter;
  return Math.round(raw - spread + spread * Math.min(Math.max(random, 0), 1));
}
