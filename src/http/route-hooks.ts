import type { FastifyReply, FastifyRequest, RequestPayload, RouteOptions } from 'fastify';

/** A hook that only looks at the request and may refuse it by throwing. */
export type GuardHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * A `preParsing` hook that may answer the request itself, before its body is read: it then
 * resolves once the answer went out, with nothing; otherwise with the body stream to parse.
 */
export type PayloadHook = (request: FastifyRequest, reply: FastifyReply, payload: RequestPayload) => Promise<RequestPayload | undefined>;

/** Adds `hook` after the route's own hooks of that stage; call it from an `onRoute` hook. */
export function appendRouteHook(route: RouteOptions, stage: 'onRequest', hook: GuardHook): void;
export function appendRouteHook(route: RouteOptions, stage: 'preParsing', hook: GuardHook | PayloadHook): void;
export function appendRouteHook(route: RouteOptions, stage: 'onRequest' | 'preParsing', hook: GuardHook | PayloadHook): void {
  const current: unknown = route[stage];
  const hooks = current === undefined ? [] : Array.isArray(current) ? [...(current as unknown[])] : [current];
  (route as unknown as Record<string, unknown>)[stage] = [...hooks, hook];
}
