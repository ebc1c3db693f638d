import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { WEBHOOK_EVENT_FILTERS } from '../../domain/webhook-events.ts';
import type { WebhookDeliveryState } from '../../ports/webhook-store.port.ts';
import { Nullable, StringEnum, Timestamp } from './common.dto.ts';

/** Every webhook-delivery state; the compile-time check below fails when the port gains one. */
export const DELIVERY_STATES = ['pending', 'delivering', 'delivered', 'failed'] as const satisfies readonly WebhookDeliveryState[];
type MissingDeliveryState = Exclude<WebhookDeliveryState, (typeof DELIVERY_STATES)[number]>;
const _everyDeliveryStateListed: [MissingDeliveryState] extends [never] ? true : MissingDeliveryState = true;

const Events = Type.Array(StringEnum(WEBHOOK_EVENT_FILTERS), {
  minItems: 1,
  maxItems: WEBHOOK_EVENT_FILTERS.length,
  uniqueItems: true,
  description: 'Event types to receive; `*` for all, those added later included',
});

/** `POST /v1/webhooks`. */
export const WebhookCreateBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'An http or https URL without credentials; it receives a signed POST per event' }),
    events: Events,
    secret: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: '`whsec_` + base64 of 24 to 64 bytes; generated when absent' })),
  },
  { $id: 'WebhookCreateBody', additionalProperties: false },
);
export type WebhookCreateBody = Static<typeof WebhookCreateBody>;

const subscriptionFields = {
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  createdAt: Timestamp,
};

/** A subscription as listed: never its secret. */
export const WebhookView = Type.Object(subscriptionFields, { $id: 'WebhookView' });
export type WebhookView = Static<typeof WebhookView>;

/** The answer to `POST /v1/webhooks`: the only time the secret is shown. */
export const WebhookCreated = Type.Object(
  { ...subscriptionFields, secret: Type.String({ description: 'Verifies the signatures; shown only in this answer' }) },
  { $id: 'WebhookCreated' },
);
export type WebhookCreated = Static<typeof WebhookCreated>;

export const WebhookList = Type.Object({ webhooks: Type.Array(WebhookView) }, { $id: 'WebhookList' });
export type WebhookList = Static<typeof WebhookList>;

export const WebhookIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export type WebhookIdParams = Static<typeof WebhookIdParams>;

export const WebhookDeliveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), did: Type.String({ minLength: 1, maxLength: 128 }) });
export type WebhookDeliveryParams = Static<typeof WebhookDeliveryParams>;

/** `GET /v1/webhooks/:id/deliveries` filter and paging. */
export const WebhookDeliveryQuery = Type.Object(
  {
    state: Type.Optional(StringEnum(DELIVERY_STATES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Deliveries per page' })),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'The nextCursor of the previous page' })),
  },
  { additionalProperties: false },
);
export type WebhookDeliveryQuery = Static<typeof WebhookDeliveryQuery>;

/** One event on its way to one subscription. */
export const WebhookDeliveryView = Type.Object({
  id: Type.String({ description: 'The `webhook-id` header of every attempt' }),
  eventId: Type.String(),
  type: Type.String({ description: 'The event type' }),
  state: StringEnum(DELIVERY_STATES),
  attempt: Type.Integer({ minimum: 0, description: 'Attempts so far' }),
  error: Nullable(Type.String({ description: 'Why the last attempt failed' })),
  nextAttemptAt: Nullable(Timestamp),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}, { $id: 'WebhookDeliveryView' });
export type WebhookDeliveryView = Static<typeof WebhookDeliveryView>;

/** Oldest first (by creation, then id). */
export const WebhookDeliveryList = Type.Object({
  deliveries: Type.Array(WebhookDeliveryView),
  nextCursor: Nullable(Type.String({ description: 'Pass as `after` for the next page; null on the last page' })),
}, { $id: 'WebhookDeliveryList' });
export type WebhookDeliveryList = Static<typeof WebhookDeliveryList>;
