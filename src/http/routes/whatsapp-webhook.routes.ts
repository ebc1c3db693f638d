import rateLimit from '@fastify/rate-limit';
import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { ParleyError } from '../../domain/errors.ts';
import { BotIdParams, errorResponses, ref } from '../schemas/common.schemas.ts';
import { CloudWebhookReceived } from '../../control-plane/dto/cloud-api.dto.ts';

/** Limits of Meta's webhook routes, apart from the API's: Meta's payloads are small and frequent. */
export interface WhatsAppWebhookLimits {
  /** Largest notification body taken (bytes). */
  readonly bodyLimit: number;
  /** Requests per client address and window. */
  readonly rateLimit: { readonly max: number; readonly timeWindow: number };
}

export const DEFAULT_WHATSAPP_WEBHOOK_LIMITS: WhatsAppWebhookLimits = { bodyLimit: 256 * 1024, rateLimit: { max: 6000, timeWindow: 60_000 } };

const VerifyQuery = Type.Object({
  'hub.mode': Type.Optional(Type.String({ maxLength: 32 })),
  'hub.verify_token': Type.Optional(Type.String({ maxLength: 512 })),
  'hub.challenge': Type.Optional(Type.String({ maxLength: 128 })),
});
type VerifyQuery = Static<typeof VerifyQuery>;

const tags = ['cloud-api'];

/**
 * Meta's webhook for Cloud API bots, outside `/v1` (Meta has no bearer token). The POST body is
 * read as raw bytes on these routes only, so the signature is checked over exactly the bytes Meta
 * signed, before any JSON parsing; they have their own body and rate limits.
 */
export function whatsappWebhookRoutes(cp: ControlPlane, limits: WhatsAppWebhookLimits = DEFAULT_WHATSAPP_WEBHOOK_LIMITS) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.bodyLimit }, (_request, body, done) => done(null, body));
    await app.register(rateLimit, {
      global: true,
      max: limits.rateLimit.max,
      timeWindow: limits.rateLimit.timeWindow,
      keyGenerator: (request) => `whatsapp-webhook:${request.ip}`,
      errorResponseBuilder: (_request, context) => ParleyError.of('RATE_LIMITED', { after: context.after }, { details: { limit: context.max, retryAfterMs: context.ttl } }),
    });

    app.get<{ Params: BotIdParams; Querystring: VerifyQuery }>(
      '/whatsapp/:id',
      {
        schema: {
          tags,
          summary: 'Meta\'s verification of the webhook URL: echoes hub.challenge when hub.verify_token is the bot\'s',
          params: BotIdParams,
          querystring: VerifyQuery,
          response: {
            200: { description: 'hub.challenge, echoed', content: { 'text/plain': { schema: { type: 'string', pattern: '^[0-9]{1,64}$' } } } },
            ...errorResponses(400, 403, 404, 409, 414, 429, 503),
          },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const challenge = await cp.verifyCloudWebhook(request.params.id, {
          ...(q['hub.mode'] === undefined ? {} : { mode: q['hub.mode'] }),
          ...(q['hub.verify_token'] === undefined ? {} : { token: q['hub.verify_token'] }),
          ...(q['hub.challenge'] === undefined ? {} : { challenge: q['hub.challenge'] }),
        });
        return reply.type('text/plain; charset=utf-8').send(challenge);
      },
    );

    app.post<{ Params: BotIdParams }>(
      '/whatsapp/:id',
      {
        schema: {
          tags,
          summary: 'A notification from Meta, signed with the app secret (X-Hub-Signature-256); answered once every message in it is stored',
          params: BotIdParams,
          response: { 200: ref(CloudWebhookReceived), ...errorResponses(400, 401, 404, 409, 413, 414, 429, 503) },
        },
      },
      async (request) => {
        const body = request.body;
        const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
        const header = request.headers['x-hub-signature-256'];
        return cp.receiveCloudWebhook(request.params.id, raw, typeof header === 'string' ? header : undefined);
      },
    );
  };
}
