import { createHash, createHmac, randomBytes } from 'node:crypto';
import { WEBHOOK_SECRET_PREFIX } from '../../domain/webhook-events.ts';

/** Bytes of a secret Parley generates: 256 bits, as Standard Webhooks recommends. */
const GENERATED_SECRET_BYTES = 32;

/** A fresh signing secret, `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(GENERATED_SECRET_BYTES).toString('base64')}`;
}

/** A subscription's id: random, URL-safe. */
export function newSubscriptionId(): string {
  return `wh_${randomBytes(12).toString('hex')}`;
}

/**
 * The delivery id of an event for one subscription, the same every time it is computed: a source
 * that publishes one event twice (its effect re-run after a crash) names the same row, which the
 * store then holds once. Also the `webhook-id` receivers dedupe by.
 */
export function deliveryIdOf(subscriptionId: string, eventId: string): string {
  return `msg_${createHash('sha256').update(`${subscriptionId}|${eventId}`).digest('hex').slice(0, 32)}`;
}

/**
 * `v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`, keyed with the secret's decoded bytes
 * (the Standard Webhooks signature scheme).
 */
export function signature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The three Standard Webhooks headers of one attempt, signed at its own time. */
export function signedHeaders(secret: string, id: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signature(secret, id, timestampSeconds, body),
  };
}
