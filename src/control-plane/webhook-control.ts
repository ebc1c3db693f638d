import { ParleyError } from '../domain/errors.ts';
import type { WebhookDeliveryRecord, WebhookSubscription } from '../ports/webhook-store.port.ts';
import type { Webhooks } from '../runtime/webhooks/webhooks.ts';
import type { WebhookCreateBody, WebhookCreated, WebhookDeliveryList, WebhookDeliveryQuery, WebhookDeliveryView, WebhookList, WebhookView } from './dto/webhook.dto.ts';
import { decodeJobCursor, encodeJobCursor } from './page-cursors.ts';

/** Deliveries on one page of `GET /v1/webhooks/:id/deliveries` unless the request asks for another number. */
export const DEFAULT_DELIVERY_PAGE = 100;

const view = ({ id, url, events, createdAt }: WebhookSubscription): WebhookView => ({ id, url, events: [...events], createdAt });

export function deliveryView(d: WebhookDeliveryRecord): WebhookDeliveryView {
  // A delivery never tried is due from its creation on (its `notBefore` is the epoch).
  const due = d.notBefore.getTime() > d.createdAt.getTime() ? d.notBefore : d.createdAt;
  return {
    id: d.id, eventId: d.eventId, type: d.eventType, state: d.state, attempt: d.attempt, error: d.error,
    nextAttemptAt: d.state === 'pending' ? due : null, createdAt: d.createdAt, updatedAt: d.updatedAt,
  };
}

/** The webhook routes' use cases: subscriptions (their secret shown once) and their deliveries. */
export function createWebhookControl(webhooks: Pick<Webhooks, 'subscribe' | 'list' | 'get' | 'remove' | 'deliveries' | 'retry'>) {
  async function subscription(id: string): Promise<WebhookSubscription> {
    const found = await webhooks.get(id);
    if (found === null) throw ParleyError.of('NOT_FOUND', { resource: `Webhook ${id}` });
    return found;
  }

  return {
    async createWebhook(body: WebhookCreateBody): Promise<WebhookCreated> {
      const created = await webhooks.subscribe({ url: body.url, events: body.events, ...(body.secret === undefined ? {} : { secret: body.secret }) });
      return { ...view(created), secret: created.secret };
    },
    async listWebhooks(): Promise<WebhookList> {
      return { webhooks: (await webhooks.list()).map(view) };
    },
    async getWebhook(id: string): Promise<WebhookView> {
      return view(await subscription(id));
    },
    /** Removes the subscription and its deliveries, pending ones included. */
    async deleteWebhook(id: string): Promise<void> {
      if (!(await webhooks.remove(id))) throw ParleyError.of('NOT_FOUND', { resource: `Webhook ${id}` });
    },
    async listDeliveries(id: string, query: WebhookDeliveryQuery): Promise<WebhookDeliveryList> {
      await subscription(id);
      const limit = query.limit ?? DEFAULT_DELIVERY_PAGE;
      const found = await webhooks.deliveries(id, {
        limit: limit + 1,
        ...(query.state === undefined ? {} : { state: query.state }),
        ...(query.after === undefined ? {} : { after: decodeJobCursor(query.after) }),
      });
      const page = found.slice(0, limit);
      const last = page.at(-1);
      return { deliveries: page.map(deliveryView), nextCursor: found.length > limit && last !== undefined ? encodeJobCursor(last) : null };
    },
    /** Sends a delivery that failed for good again, with a fresh budget of attempts. */
    async retryDelivery(id: string, deliveryId: string): Promise<WebhookDeliveryView> {
      await subscription(id);
      return deliveryView(await webhooks.retry(id, deliveryId));
    },
  };
}
