import { isIPv6 } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ParleyError } from '../domain/errors.ts';

/**
 * Counts failed authentications per client address. One instance guards every door that takes a
 * key (`/v1`, `/inspect`, the Stately bridge), so a guesser cannot spend a budget at each.
 */
export interface AuthThrottle {
  /** Milliseconds until `address` may try a key again; 0 when it may now. */
  retryAfterMs(address: string): number;
  /** Counts one failed authentication of `address`. */
  fail(address: string): void;
}

export interface AuthThrottleOptions {
  /** Failures an address may have per window; the next attempt is refused until the window ends. */
  readonly maxFailures?: number;
  readonly windowMs?: number;
  /** Addresses remembered at once; beyond it the oldest window is forgotten first. */
  readonly maxAddresses?: number;
  readonly clock?: () => number;
}

export const DEFAULT_AUTH_THROTTLE = { maxFailures: 20, windowMs: 60_000 } as const;

interface Window {
  failures: number;
  readonly endsAt: number;
}

export function createAuthThrottle(options: AuthThrottleOptions = {}): AuthThrottle {
  const maxFailures = options.maxFailures ?? DEFAULT_AUTH_THROTTLE.maxFailures;
  const windowMs = options.windowMs ?? DEFAULT_AUTH_THROTTLE.windowMs;
  const maxAddresses = options.maxAddresses ?? 100_000;
  const clock = options.clock ?? Date.now;
  if (!Number.isInteger(maxFailures) || maxFailures < 1) throw ParleyError.of('CONFIG_INVALID', { problem: 'the failed-authentication limit must be a positive integer' });
  // Windows are fixed and a new one is inserted last, so the first entry always ends first:
  // evicting it is O(1), and a flood of fresh addresses costs no scan.
  const windows = new Map<string, Window>();

  function current(bucket: string, now: number): Window | undefined {
    const window = windows.get(bucket);
    if (window !== undefined && window.endsAt <= now) {
      windows.delete(bucket);
      return undefined;
    }
    return window;
  }

  return {
    retryAfterMs(address) {
      const now = clock();
      const window = current(addressBucket(address), now);
      return window !== undefined && window.failures >= maxFailures ? window.endsAt - now : 0;
    },
    fail(address) {
      const now = clock();
      const bucket = addressBucket(address);
      const window = current(bucket, now);
      if (window !== undefined) {
        window.failures += 1;
        return;
      }
      windows.set(bucket, { failures: 1, endsAt: now + windowMs });
      while (windows.size > maxAddresses) windows.delete(windows.keys().next().value as string);
    },
  };
}

/**
 * The unit an address is counted under: an IPv4 address as it is (also when IPv4-mapped), an IPv6
 * address by its /64, since one host is commonly handed a whole /64 and could rotate through it.
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.toLowerCase().split('%', 1)[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Refuses a client that has spent its failures, before its key is even looked at: with 429
 * RATE_LIMITED and `Retry-After`, as the request rate limiter answers.
 */
export function refuseWhileThrottled(throttle: AuthThrottle, request: FastifyRequest, reply: FastifyReply): void {
  const waitMs = throttle.retryAfterMs(request.ip);
  if (waitMs <= 0) return;
  const seconds = Math.ceil(waitMs / 1000);
  void reply.header('retry-after', String(seconds));
  throw ParleyError.of('RATE_LIMITED', { after: `${seconds} seconds` }, { details: { reason: 'too many failed authentications', retryAfterMs: waitMs } });
}
