import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '../domain/errors.ts';
import { bearerToken, tokenDigest } from './auth.plugin.ts';

export interface RateLimitOptions {
  /** Requests allowed per key and window. */
  readonly max: number;
  /** Window length in ms, or a duration such as `'1 minute'`. */
  readonly timeWindow: number | string;
}

/**
 * Keys on the bearer token's digest when one is presented, otherwise on the client address, so a
 * client keeps its budget across addresses and unauthenticated callers share theirs per address.
 */
export function rateLimitKey(request: FastifyRequest): string {
  const token = bearerToken(request);
  return token === null ? `ip:${request.ip}` : `token:${tokenDigest(token).toString('hex')}`;
}

/**
 * Limits every route of `scope` registered after this call. Call it after `registerBearerAuth` in
 * the same scope: the auth hook runs first, so requests with a wrong token are refused before they
 * count, and token keys only ever belong to the real key. Refusals are thrown as `RATE_LIMITED`
 * errors, which the shared error handler turns into 429 `{error:{code:'RATE_LIMITED',...}}`;
 * `Retry-After` and the `x-ratelimit-*` headers are set by the plugin.
 */
export async function registerRateLimit(scope: FastifyInstance, options: RateLimitOptions): Promise<void> {
  if (typeof options.max !== 'number' || !Number.isInteger(options.max) || options.max < 1) {
    throw ParleyError.of('CONFIG_INVALID', { problem: 'rate limit max must be a positive integer' });
  }
  await scope.register(rateLimit, {
    global: true,
    max: options.max,
    timeWindow: options.timeWindow,
    keyGenerator: rateLimitKey,
    errorResponseBuilder: (_request, context) =>
      ParleyError.of('RATE_LIMITED', { after: context.after }, { details: { limit: context.max, retryAfterMs: context.ttl } }),
  });
}
