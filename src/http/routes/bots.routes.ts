import type { FastifyInstance } from 'fastify';
import { BotCreateBody, BotList, BotPatchBody, BotView, PairingCodeBody, PairingCodeView, QrView } from '../../control-plane/dto/bot.dto.ts';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { BotIdParams, errorResponses, ref } from '../schemas/common.schemas.ts';

const tags = ['bots'];

/** Bot definitions and lifecycle. */
export function botRoutes(cp: ControlPlane) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.post<{ Body: BotCreateBody }>(
      '/bots',
      {
        schema: {
          tags,
          summary: 'Create a bot (stopped)',
          body: ref(BotCreateBody),
          response: { 201: ref(BotView), ...errorResponses(400, 401, 409, 413, 415, 429, 503) },
        },
      },
      async (request, reply) => reply.status(201).send(await cp.createBot(request.body)),
    );

    app.get('/bots', { schema: { tags, summary: 'List bots', response: { 200: ref(BotList), ...errorResponses(401, 429, 503) } } }, async () => cp.listBots());

    app.get<{ Params: BotIdParams }>(
      '/bots/:id',
      {
        // The store knows the bot too: without a live owner it is shown as its host last stored it.
        config: { answersWithoutOwner: true },
        schema: { tags, summary: 'One bot, with its state, queue counts and owner', params: BotIdParams, response: { 200: ref(BotView), ...errorResponses(400, 401, 404, 414, 429, 503) } },
      },
      async (request) => cp.getBot(request.params.id),
    );

    app.patch<{ Params: BotIdParams; Body: BotPatchBody }>(
      '/bots/:id',
      {
        // Without a live owner the settings are stored: the instance that takes the bot reads them.
        config: { answersWithoutOwner: true },
        schema: {
          tags,
          summary: 'Change queue limits, AI or media settings (JSON merge patch: null resets a field); applied live',
          params: BotIdParams,
          body: ref(BotPatchBody),
          response: { 200: ref(BotView), ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503) },
        },
      },
      async (request) => cp.updateBot(request.params.id, request.body),
    );

    app.post<{ Params: BotIdParams }>(
      '/bots/:id/start',
      {
        // Without a live owner the wish is stored: the instance that takes the bot acts on it.
        config: { answersWithoutOwner: true },
        schema: {
          tags,
          summary: 'Start a bot; it connects in the background and restarts with Parley until stopped',
          params: BotIdParams,
          response: { 202: ref(BotView), ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503) },
        },
      },
      async (request, reply) => reply.status(202).send(await cp.startBot(request.params.id)),
    );

    app.post<{ Params: BotIdParams }>(
      '/bots/:id/stop',
      {
        // Without a live owner the wish is stored: the instance that takes the bot acts on it.
        config: { answersWithoutOwner: true },
        schema: {
          tags,
          summary: 'Stop a bot; queues, placeholders and jobs are kept (jobs wait in holding)',
          params: BotIdParams,
          response: { 200: ref(BotView), ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503) },
        },
      },
      async (request) => cp.stopBot(request.params.id),
    );

    app.delete<{ Params: BotIdParams }>(
      '/bots/:id',
      {
        schema: {
          tags,
          summary: 'Delete a bot (stopping it first) with its conversations, history, media jobs, outbox and credentials',
          params: BotIdParams,
          response: { 204: { type: 'null', description: 'Deleted' }, ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503) },
        },
      },
      async (request, reply) => {
        await cp.deleteBot(request.params.id);
        return reply.status(204).send();
      },
    );

    app.get<{ Params: BotIdParams }>(
      '/bots/:id/qr',
      {
        schema: {
          tags,
          summary: 'The pairing QR code waiting to be scanned',
          params: BotIdParams,
          response: { 200: ref(QrView), ...errorResponses(400, 401, 404, 409, 414, 429, 503) },
        },
      },
      async (request) => cp.qr(request.params.id),
    );

    app.post<{ Params: BotIdParams; Body: PairingCodeBody }>(
      '/bots/:id/pairing-code',
      {
        schema: {
          tags,
          summary: 'Request a code to link the bot by phone number',
          params: BotIdParams,
          body: ref(PairingCodeBody),
          response: { 200: ref(PairingCodeView), ...errorResponses(400, 401, 404, 409, 413, 414, 415, 429, 503) },
        },
      },
      async (request) => cp.pairingCode(request.params.id, request.body.phoneNumber),
    );
  };
}
