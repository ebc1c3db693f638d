import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParleyError } from '../domain/errors.ts';
import { createAuthThrottle, refuseWhileThrottled } from './auth-throttle.ts';
import type { AuthThrottle } from './auth-throttle.ts';

export interface BearerAuthOptions {
  /** The one key every request in the scope must present. */
  readonly apiKey: string;
  /** Where failed attempts are counted; share one across every door that takes a key. */
  readonly throttle?: AuthThrottle;
}

/** SHA-256 digest of a bearer token; the rate limiter keys on it too, so the raw token never becomes a map key. */
export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The token of an `Authorization: Bearer <token>` header, or `null` when there is none. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * Requires `Authorization: Bearer <apiKey>` on every route of `scope` (the `/v1` scope, or any
 * other the caller picks). Digests are compared instead of the tokens themselves, so neither the
 * content nor the length of the key leaks through response timing. Runs as an `onRequest` hook,
 * before body parsing, so unauthenticated callers cannot make the server parse large bodies;
 * instance hooks run before route-level ones, so it also precedes the rate limiter's hook.
 * Failures are counted per client address; an address past its limit is refused before its key
 * is compared, so guessing costs a window per few attempts.
 */
export function registerBearerAuth(scope: FastifyInstance, options: BearerAuthOptions): void {
  if (options.apiKey.length === 0) throw ParleyError.of('CONFIG_INVALID', { problem: 'bearer auth needs a non-empty API key' });
  const expected = tokenDigest(options.apiKey);
  const throttle = options.throttle ?? createAuthThrottle();
  scope.addHook('onRequest', async (request, reply) => {
    refuseWhileThrottled(throttle, request, reply);
    const token = bearerToken(request);
    const presented = tokenDigest(token ?? '');
    if (token !== null && timingSafeEqual(presented, expected)) return;
    throttle.fail(request.ip);
    void reply.header('WWW-Authenticate', 'Bearer');
    throw ParleyError.of('UNAUTHORIZED', { credential: 'bearer token' });
  });
}
