import type { FastifyInstance } from 'fastify';
import { ParleyError } from '../domain/errors.ts';

/**
 * Answers a request for an unknown route with 404 as soon as its headers are in. Fastify runs its
 * not-found handler as a route like any other, so it would read and parse the body first: a 22 MB
 * JSON body sent to any path would be taken in before the 404. Register on the root instance.
 */
export function refuseUnknownRoutesEarly(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (request.is404) throw ParleyError.of('NOT_FOUND', { resource: `Route ${request.method} ${request.url.split('?', 1)[0] ?? ''}` });
  });
}

/**
 * Closes the connection after answers that leave nothing more to talk about, so the client cannot
 * keep it (and a file descriptor) for its next attempt: a refused key, an unknown route, and any
 * answer given before the request's body was read. Without the last, Node would keep reading and
 * discarding that body, however long, to reach the next request on the connection.
 */
export function closeAfterRefusals(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    // `complete` is false until the body has been read; an injected request has no such field.
    if (reply.statusCode === 401 || request.is404 || request.raw.complete === false) void reply.header('connection', 'close');
    return payload;
  });
}
