import type { FastifyInstance } from 'fastify';
import {
  WebhookCreateBody, WebhookCreated, WebhookDeliveryList, WebhookDeliveryParams, WebhookDeliveryQuery, WebhookDeliveryView, WebhookIdParams, WebhookList, WebhookView,
} from '../../control-plane/dto/webhook.dto.ts';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { errorResponses, ref } from '../schemas/common.schemas.ts';

const tags = ['webhooks'];

/** Event subscriptions (signed the Standard Webhooks way) and their deliveries. */
export function webhookRoutes(cp: ControlPlane) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.post<{ Body: WebhookCreateBody }>(
      '/webhooks',
      {
        schema: {
          tags,
          summary: 'Subscribe a URL to events; the answer holds the signing secret, shown only this once',
          body: ref(WebhookCreateBody),
          response: { 201: ref(WebhookCreated), ...errorResponses(400, 401, 413, 415, 429, 503) },
        },
      },
      async (request, reply) => reply.status(201).send(await cp.createWebhook(request.body)),
    );

    app.get(
      '/webhooks',
      {
        schema: { tags, summary: 'Every subscription, oldest first, without secrets', response: { 200: ref(WebhookList), ...errorResponses(401, 429, 503) } },
      },
      async () => cp.listWebhooks(),
    );

    app.get<{ Params: WebhookIdParams }>(
      '/webhooks/:id',
      {
        schema: { tags, summary: 'One subscription, without its secret', params: WebhookIdParams, response: { 200: ref(WebhookView), ...errorResponses(400, 401, 404, 414, 429, 503) } },
      },
      async (request) => cp.getWebhook(request.params.id),
    );

    app.delete<{ Params: WebhookIdParams }>(
      '/webhooks/:id',
      {
        schema: {
          tags,
          summary: 'Remove a subscription and its deliveries, pending ones included',
          params: WebhookIdParams,
          response: { 204: { type: 'null', description: 'Removed' }, ...errorResponses(400, 401, 404, 413, 414, 415, 429, 503) },
        },
      },
      async (request, reply) => {
        await cp.deleteWebhook(request.params.id);
        return reply.status(204).send();
      },
    );

    app.get<{ Params: WebhookIdParams; Querystring: WebhookDeliveryQuery }>(
      '/webhooks/:id/deliveries',
      {
        schema: {
          tags,
          summary: 'Deliveries of a subscription, optionally in one state, a page at a time, oldest first',
          params: WebhookIdParams,
          querystring: WebhookDeliveryQuery,
          response: { 200: ref(WebhookDeliveryList), ...errorResponses(400, 401, 404, 414, 429, 503) },
        },
      },
      async (request) => cp.listDeliveries(request.params.id, request.query),
    );

    app.post<{ Params: WebhookDeliveryParams }>(
      '/webhooks/:id/deliveries/:did/retry',
      {
        schema: {
          tags,
          summary: 'Retry a failed delivery with a fresh budget of attempts',
          params: WebhookDeliveryParams,
          response: { 202: ref(WebhookDeliveryView), ...errorResponses(400, 401, 404, 409, 413, 414, 415, 429, 503) },
        },
      },
      async (request, reply) => reply.status(202).send(await cp.retryDelivery(request.params.id, request.params.did)),
    );
  };
}
