import type { FastifyInstance } from 'fastify';
import { AiPauseBody, AiStatus } from '../../control-plane/dto/ai.dto.ts';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { CorrespondentParams, errorResponses, ref } from '../schemas/common.schemas.ts';

const tags = ['ai'];

/** A conversation's AI replies: their state, and an operator's pause and resume. */
export function aiRoutes(cp: ControlPlane) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.get<{ Params: CorrespondentParams }>(
      '/bots/:id/correspondents/:cid/ai',
      {
        schema: {
          tags,
          summary: 'The AI reply of a conversation: its state, pause, reply in flight, counts and last error',
          params: CorrespondentParams,
          response: { 200: ref(AiStatus), ...errorResponses(400, 401, 404, 414, 429, 503) },
        },
      },
      async (request) => cp.aiStatus(request.params.id, request.params.cid),
    );

    app.post<{ Params: CorrespondentParams; Body: AiPauseBody }>(
      '/bots/:id/correspondents/:cid/ai/pause',
      {
        // The body is optional: a pause without one lasts until resumed.
        preValidation: async (request) => {
          request.body ??= {};
        },
        schema: {
          tags,
          summary: 'Pause AI replies in a conversation (a reply being made is dropped), for a time or until resumed',
          params: CorrespondentParams,
          body: ref(AiPauseBody),
          response: { 200: ref(AiStatus), ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503) },
        },
      },
      async (request) => cp.pauseAi(request.params.id, request.params.cid, request.body.durationMs ?? null),
    );

    app.post<{ Params: CorrespondentParams }>(
      '/bots/:id/correspondents/:cid/ai/resume',
      {
        schema: {
          tags,
          summary: 'Resume AI replies in a conversation; messages written during the pause stay unanswered',
          params: CorrespondentParams,
          response: { 200: ref(AiStatus), ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503) },
        },
      },
      async (request) => cp.resumeAi(request.params.id, request.params.cid),
    );
  };
}
