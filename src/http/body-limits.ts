import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ParleyError } from '../domain/errors.ts';
import { appendRouteHook } from './route-hooks.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes media bytes in its body: it gets the media body limit instead of the small one. */
    carriesMedia?: boolean;
  }
}

export interface BodyLimits {
  /** The limit of every route that does not carry media. */
  readonly bodyLimit: number;
  readonly mediaBodyLimit: number;
  /** Bodies over `bodyLimit` taken in at once. */
  readonly maxConcurrentLargeBodies: number;
}

/**
 * Gives routes marked `config: { carriesMedia: true }` the media body limit and caps how many
 * bodies over the small limit are received at once: each is buffered whole and decoded, so sixteen
 * 25 MB uploads at once would take over a gigabyte. The cap is checked in `preParsing`, after
 * authentication and the rate limit and before a byte of the body is read; a request over it gets
 * 429 TOO_MANY_LARGE_BODIES. A body of unknown length (chunked) counts as large. Register on the
 * root instance before any route.
 */
export function registerBodyLimits(app: FastifyInstance, limits: BodyLimits): void {
  let receiving = 0;
  const admitLarge = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!mayBeLarge(request, limits.bodyLimit)) return;
    if (receiving >= limits.maxConcurrentLargeBodies) throw ParleyError.of('TOO_MANY_LARGE_BODIES', { limit: limits.maxConcurrentLargeBodies });
    receiving++;
    // 'close' comes once whatever ends the exchange: the answer, an error or the client leaving.
    reply.raw.once('close', () => receiving--);
  };
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.config?.carriesMedia !== true) return;
    route.bodyLimit ??= limits.mediaBodyLimit;
    appendRouteHook(route, 'preParsing', admitLarge);
  });
}

function mayBeLarge(request: FastifyRequest, smallLimit: number): boolean {
  const length = request.headers['content-length'];
  if (length === undefined) return request.headers['transfer-encoding'] !== undefined;
  return !(Number(length) <= smallLimit);
}
