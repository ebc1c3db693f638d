import { backoffDelay } from '../../domain/backoff.ts';

/** How often and how patiently a failed store call is tried again. */
export interface RetryPolicy {
  /** Tries in all, the first included; `Infinity` never gives up. */
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

/** Wait before try `failures + 1`, after `failures` failed ones. */
export function retryDelay(policy: RetryPolicy, failures: number): number {
  return backoffDelay(failures, { baseMs: policy.baseMs, maxMs: policy.maxMs, jitter: 0.2 }, Math.random());
}

/** A timer that never keeps a process alive on its own. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Whether two snapshots hold the same data. Anything it cannot vouch for (a class instance, NaN,
 * an `undefined` field on one side only) counts as a change: a needless write is harmless, a
 * skipped one is not.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameData(v, b[i]));
  }
  if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
