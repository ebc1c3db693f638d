import type { FastifyInstance } from 'fastify';
import { OutboxEntry, OutboxList, OutboxMessageParams, OutboxQuery, SendMessageAccepted, SendMessageBody } from '../../control-plane/dto/message.dto.ts';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { BotIdParams, errorResponses, ref } from '../schemas/common.schemas.ts';

const tags = ['messages'];

/** Outgoing messages through the persistent outbox. */
export function messageRoutes(cp: ControlPlane) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.post<{ Params: BotIdParams; Body: SendMessageBody }>(
      '/bots/:id/messages',
      {
        schema: {
          tags,
          summary: 'Queue a text for sending; it goes out (with retries) while the bot is connected',
          params: BotIdParams,
          body: ref(SendMessageBody),
          response: { 202: ref(SendMessageAccepted), ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503) },
        },
      },
      async (request, reply) => reply.status(202).send(await cp.sendMessage(request.params.id, request.body)),
    );

    app.get<{ Params: BotIdParams; Querystring: OutboxQuery }>(
      '/bots/:id/outbox',
      {
        schema: {
          tags,
          summary: 'Outbox entries of a bot and their delivery state, oldest first',
          params: BotIdParams,
          querystring: OutboxQuery,
          response: { 200: ref(OutboxList), ...errorResponses(400, 401, 404, 414, 429, 503) },
        },
      },
      async (request) => cp.outbox(request.params.id, request.query),
    );

    app.post<{ Params: OutboxMessageParams }>(
      '/bots/:id/outbox/:messageId/retry',
      {
        schema: {
          tags,
          summary: 'Send a message that failed for good once more; it keeps its place in its conversation',
          params: OutboxMessageParams,
          response: { 200: ref(OutboxEntry), ...errorResponses(400, 401, 404, 409, 413, 414, 415, 429, 503) },
        },
      },
      async (request) => cp.retryMessage(request.params.id, request.params.messageId),
    );
  };
}
