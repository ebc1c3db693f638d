import type { FastifyInstance } from 'fastify';
import { CorrespondentList, CorrespondentQuery, HistoryList, HistoryQuery, QueueMessageList } from '../../control-plane/dto/conversation.dto.ts';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { BotIdParams, CorrespondentParams, errorResponses, ref } from '../schemas/common.schemas.ts';

const tags = ['conversations'];

/** Correspondents, their live queues and their persisted history. */
export function conversationRoutes(cp: ControlPlane) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get<{ Params: BotIdParams; Querystring: CorrespondentQuery }>(
      '/bots/:id/correspondents',
      {
        schema: {
          tags,
          summary: 'Conversations of a bot, most recently active first, a page at a time',
          params: BotIdParams,
          querystring: CorrespondentQuery,
          response: { 200: ref(CorrespondentList), ...errorResponses(400, 401, 404, 414, 429, 503) },
        },
      },
      async (request) => cp.correspondents(request.params.id, request.query),
    );

    app.get<{ Params: CorrespondentParams }>(
      '/bots/:id/correspondents/:cid/messages',
      {
        schema: {
          tags,
          summary: 'The live queue window of a conversation, oldest first (placeholders carry their mediaJobId)',
          params: CorrespondentParams,
          response: { 200: ref(QueueMessageList), ...errorResponses(400, 401, 404, 414, 429, 503) },
        },
      },
      async (request) => cp.queueMessages(request.params.id, request.params.cid),
    );

    app.get<{ Params: CorrespondentParams; Querystring: HistoryQuery }>(
      '/bots/:id/correspondents/:cid/history',
      {
        schema: {
          tags,
          summary: 'Persisted history of a conversation, oldest first; page backwards with beforeSeq',
          params: CorrespondentParams,
          querystring: HistoryQuery,
          response: { 200: ref(HistoryList), ...errorResponses(400, 401, 404, 414, 429, 503) },
        },
      },
      async (request) => cp.history(request.params.id, request.params.cid, request.query),
    );
  };
}
