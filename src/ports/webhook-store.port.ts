import type { WorkItem, WorkQueueStore } from './work-queue.port.ts';

/**
 * An operator's subscription to Parley's events. The adapter keeps `secret` sealed at rest (the
 * secret box, bound to the subscription) and hands it back opened.
 */
export interface WebhookSubscription {
  readonly id: string;
  readonly url: string;
  /** Event types, or `*` for all. */
  readonly events: readonly string[];
  /**
   * `whsec_` + base64: signs every delivery. `null` when no configured key opens it (the key that
   * sealed it was retired too early): its deliveries fail, saying so.
   */
  readonly secret: string | null;
  readonly createdAt: Date;
}

export interface WebhookSubscriptionStore {
  /** Fails with STORE_DUPLICATE_KEY when the id exists. */
  create(subscription: WebhookSubscription): Promise<WebhookSubscription>;
  get(id: string): Promise<WebhookSubscription | null>;
  /** Oldest first. */
  list(): Promise<WebhookSubscription[]>;
  delete(id: string): Promise<boolean>;
  /** Seals again, with the current key, every secret sealed under an earlier one; those no configured key opens are counted. */
  reseal(): Promise<{ resealed: number; unreadable: number }>;
}

/** Top-level states of the webhook-delivery machine, as stored in the `state` field. */
export type WebhookDeliveryState = 'pending' | 'delivering' | 'delivered' | 'failed';

/**
 * What a webhook delivery stores beside the work queue's fields. Its `botId` field holds its
 * subscription's id: the queue interleaves subscriptions (a receiver with a backlog does not hold
 * back another), and a subscription's deliveries go with it (`deleteByBot`).
 */
export interface WebhookDeliveryData {
  readonly subscriptionId: string;
  readonly eventId: string;
  readonly eventType: string;
  /** The exact JSON body, sent byte for byte on every attempt so every signature covers the same bytes. */
  readonly body: string;
  /** When the event happened. */
  readonly eventAt: Date;
}

/** A webhook delivery as stored: a work item and the webhook-delivery actor's snapshot. */
export type WebhookDeliveryRecord = WorkItem<WebhookDeliveryData, WebhookDeliveryState>;

/** The work queue of webhook deliveries, one row per (subscription, event). */
export type WebhookDeliveryStore = WorkQueueStore<WebhookDeliveryData, WebhookDeliveryState>;
