import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ParleyError } from '../domain/errors.ts';
import { refuseWhileThrottled } from './auth-throttle.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { bearerToken, tokenDigest } from './auth.plugin.ts';
import { INSPECT_COOKIE, cookieValue, sessionCookie } from './inspect-sessions.ts';
import type { InspectSessions } from './inspect-sessions.ts';

export interface InspectAuthOptions {
  /** Keys that open the inspector: the API key, and the read-only inspector key when set. */
  readonly keys: readonly string[];
  readonly sessions: InspectSessions;
  readonly throttle: AuthThrottle;
}

const PAGE_ROUTE = '/inspect';

/**
 * The `onRequest` hook of the `/inspect` scope. A key is taken in the query of the page only,
 * once: it is exchanged for a session cookie and the browser is sent (303) to the same URL
 * without it, so the key leaves the address bar and history at once. Everything else needs that
 * cookie or `Authorization: Bearer <key>`. Failures count towards the client's throttle, which is
 * consulted before any credential is.
 */
export function inspectAuthHook(options: InspectAuthOptions) {
  if (options.keys.length === 0 || options.keys.some((key) => key.length === 0)) {
    throw ParleyError.of('CONFIG_INVALID', { problem: '/inspect needs non-empty keys' });
  }
  const digests = options.keys.map(tokenDigest);
  // Every digest is compared, so timing does not tell which key (if any) was close.
  const isKey = (candidate: string): boolean => {
    const presented = tokenDigest(candidate);
    return digests.map((expected) => timingSafeEqual(presented, expected)).includes(true);
  };

  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    refuseWhileThrottled(options.throttle, request, reply);
    const query = (request.query ?? {}) as Record<string, unknown>;
    if (request.routeOptions.url === PAGE_ROUTE && query['key'] !== undefined) {
      const key = query['key'];
      if (typeof key === 'string' && isKey(key)) {
        const token = options.sessions.issue();
        return reply
          .code(303)
          .headers({ 'set-cookie': sessionCookie(token, options.sessions.ttlMs, request.protocol === 'https'), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
          // Built on the route's own path, so the Location can only ever point back here.
          .redirect(withoutKey(`${PAGE_ROUTE}${request.url.slice(request.url.indexOf('?'))}`), 303);
      }
      return refuse(request, reply, false);
    }
    const session = cookieValue(request.headers.cookie, INSPECT_COOKIE);
    if (session !== null && options.sessions.valid(session)) return undefined;
    const token = bearerToken(request);
    if (token !== null && isKey(token)) return undefined;
    return refuse(request, reply, session !== null);
  };

  function refuse(request: FastifyRequest, reply: FastifyReply, staleCookie: boolean): never {
    options.throttle.fail(request.ip);
    void reply.header('WWW-Authenticate', 'Bearer');
    // A browser keeps sending a cookie of a session that ended (a restart forgets all); drop it.
    if (staleCookie) void reply.header('set-cookie', sessionCookie('', 0, request.protocol === 'https'));
    throw ParleyError.of('UNAUTHORIZED', { credential: 'session or key (open /inspect?key=<key> once, or send Authorization: Bearer <key>)' });
  }
}

/** `url` without its `key` query parameters, every other parameter kept in order. */
export function withoutKey(url: string): string {
  const at = url.indexOf('?');
  if (at === -1) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  params.delete('key');
  const rest = params.toString();
  return rest === '' ? url.slice(0, at) : `${url.slice(0, at)}?${rest}`;
}
