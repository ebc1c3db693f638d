import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

/** A hook that only looks at the request and may refuse it by throwing. */
export type GuardHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** Adds `hook` after the route's own hooks of that stage; call it from an `onRoute` hook. */
export function appendRouteHook(route: RouteOptions, stage: 'onRequest' | 'preParsing', hook: GuardHook): void {
  const current: unknown = route[stage];
  const hooks = current === undefined ? [] : Array.isArray(current) ? [...(current as unknown[])] : [current];
  (route as unknown as Record<string, unknown>)[stage] = [...hooks, hook];
}
