import type { Db } from 'mongodb';
import type { WebhookDeliveryData, WebhookDeliveryState, WebhookDeliveryStore } from '../../ports/webhook-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { createWorkQueueRepository } from './work-queue.repository.ts';

/**
 * Webhook deliveries: one row per (subscription, event), claimed in fair order across
 * subscriptions (the rows' `botId`), in no order within one: receivers dedupe and order by the
 * event's timestamp, as Standard Webhooks leaves ordering to them.
 */
export function createWebhookDeliveryRepository(db: Db): WebhookDeliveryStore {
  return createWorkQueueRepository<WebhookDeliveryData, WebhookDeliveryState>(db, {
    collection: COLLECTIONS.webhookDeliveries,
    name: 'webhookDeliveries',
    claimedState: 'delivering',
    lines: null,
    fairScope: 'webhook:',
  });
}
