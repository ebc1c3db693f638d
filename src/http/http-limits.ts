import type { FastifyServerOptions } from 'fastify';

/**
 * Time and size bounds of the HTTP server: no connection, body or stream may hold the process's
 * resources for longer or in greater number than these say.
 */
export interface HttpLimits {
  /** A request's headers and body must have arrived this long after it started; Node answers 408 otherwise. */
  readonly requestTimeoutMs: number;
  /** A request's headers must have arrived this long after it started (at most `requestTimeoutMs`). */
  readonly headersTimeoutMs: number;
  /**
   * A connection with no traffic either way for this long is closed: a client that stopped
   * reading, a peer that vanished. Longer than any wait a handler may have (the store's server
   * selection) and than the event streams' heartbeat, so neither a slow answer nor a quiet stream
   * is cut.
   */
  readonly connectionTimeoutMs: number;
  /** A kept-alive connection waiting for its next request is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Body limit of the routes that carry media bytes; every other route has the app's small limit. */
  readonly mediaBodyLimit: number;
  /** Bodies larger than the small limit received at once; more are refused before being read. */
  readonly maxConcurrentLargeBodies: number;
  /** Event streams (Server-Sent Events) open at once, over all clients and per client address. */
  readonly maxEventStreams: number;
  readonly maxEventStreamsPerClient: number;
  /**
   * A call forwarded to the instance hosting its bot is answered 503 OWNER_UNAVAILABLE when that
   * instance stays silent this long (no connection, no byte either way).
   */
  readonly ownerTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  connectionTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  mediaBodyLimit: 25 * 1024 * 1024,
  maxConcurrentLargeBodies: 4,
  maxEventStreams: 32,
  maxEventStreamsPerClient: 4,
  ownerTimeoutMs: 10_000,
};

/** The defaults with what `given` sets; a key present but undefined keeps its default. */
export function resolveHttpLimits(given: Partial<HttpLimits> = {}): HttpLimits {
  const defined = Object.entries(given).filter(([, value]) => value !== undefined);
  return { ...DEFAULT_HTTP_LIMITS, ...(Object.fromEntries(defined) as Partial<HttpLimits>) };
}

/**
 * Fastify's server options for the limits. Node enforces the request and headers timeouts on a
 * periodic sweep (every 30 s by default, which would let a trickling client stay up to twice its
 * bound); here it runs every quarter of the shorter timeout, and at least once a second.
 */
export function serverTimeouts(limits: HttpLimits): Pick<FastifyServerOptions, 'requestTimeout' | 'connectionTimeout' | 'keepAliveTimeout'> & {
  http: { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number };
} {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout,
      connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
  };
}
