import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { ParleyError } from '../domain/errors.ts';
import { appendRouteHook } from './route-hooks.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers with a long-lived event stream: it counts against the stream limits. */
    eventStream?: boolean;
  }
}

export interface StreamLimits {
  /** Streams open at once, over all clients. */
  readonly maxStreams: number;
  /** Streams open at once per client address. */
  readonly maxStreamsPerClient: number;
}

/**
 * Caps the event streams open at once, overall and per client address: each holds a connection,
 * a subscription and timers for as long as the client likes. Routes opt in with
 * `config: { eventStream: true }`; the check runs after the scope's own hooks (its key check), so
 * refused keys never count, and a stream over a limit gets 429 TOO_MANY_STREAMS. Register on the
 * root instance before any route.
 */
export function registerStreamLimits(app: FastifyInstance, limits: StreamLimits): void {
  let open = 0;
  const perClient = new Map<string, number>();
  const admit = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const client = request.ip;
    const mine = perClient.get(client) ?? 0;
    if (open >= limits.maxStreams) throw ParleyError.of('TOO_MANY_STREAMS', { scope: 'this server', limit: limits.maxStreams });
    if (mine >= limits.maxStreamsPerClient) throw ParleyError.of('TOO_MANY_STREAMS', { scope: 'one client address', limit: limits.maxStreamsPerClient });
    open++;
    perClient.set(client, mine + 1);
    // 'close' comes once whatever ends the stream: the client leaving, the server closing it, an error.
    reply.raw.once('close', () => {
      open--;
      const left = (perClient.get(client) ?? 1) - 1;
      if (left === 0) perClient.delete(client);
      else perClient.set(client, left);
    });
  };
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.config?.eventStream !== true) return;
    appendRouteHook(route, 'onRequest', admit);
  });
}
