/**
 * Events a webhook subscription can ask for, and the rules a subscription's URL and secret follow
 * (Standard Webhooks: `whsec_` followed by the base64 of the key's bytes).
 */
export const WEBHOOK_EVENT_TYPES = ['message.received', 'message.sent', 'message.failed', 'bot.state', 'media.failed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a subscription lists: event types, or `*` for every one (those added later included). */
export const WEBHOOK_EVENT_FILTERS = [...WEBHOOK_EVENT_TYPES, '*'] as const;
export type WebhookEventFilter = (typeof WEBHOOK_EVENT_FILTERS)[number];

/** One event as a source publishes it; `id` is stable across the source's re-runs after a crash. */
export interface WebhookEvent {
  readonly id: string;
  readonly type: WebhookEventType;
  /** When it happened (epoch ms). */
  readonly at: number;
  readonly data: Readonly<Record<string, unknown>>;
}

export function wantsEvent(filters: readonly string[], type: WebhookEventType): boolean {
  return filters.includes('*') || filters.includes(type);
}

/**
 * The body every delivery of `event` sends, byte for byte on every attempt:
 * `{"type", "timestamp" (ISO 8601), "data"}`.
 */
export function eventBody(event: WebhookEvent): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(event.at).toISOString(), data: event.data });
}

/** The retry schedule of a delivery: five retries over about an hour and a quarter. */
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 600_000, 3_600_000];

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
export const WEBHOOK_SECRET_MIN_BYTES = 24;
export const WEBHOOK_SECRET_MAX_BYTES = 64;

/** Bytes that standard base64 `text` decodes to, or `null` when it is not canonical padded base64. */
function base64Length(text: string): number | null {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/** Why `secret` is not a webhook secret, or `null` when it is one. */
export function webhookSecretProblem(secret: string): string | null {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) return `must start with ${WEBHOOK_SECRET_PREFIX}`;
  const bytes = base64Length(secret.slice(WEBHOOK_SECRET_PREFIX.length));
  if (bytes === null) return `must be ${WEBHOOK_SECRET_PREFIX} followed by standard base64`;
  if (bytes < WEBHOOK_SECRET_MIN_BYTES || bytes > WEBHOOK_SECRET_MAX_BYTES) {
    return `must encode ${WEBHOOK_SECRET_MIN_BYTES} to ${WEBHOOK_SECRET_MAX_BYTES} bytes, not ${bytes}`;
  }
  return null;
}

/**
 * Why `url` cannot receive webhooks, or `null` when it can: an absolute http(s) URL without
 * credentials (they would be sent to whoever the host is, and stored in the clear).
 */
export function webhookUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http or https URL';
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials';
  if (parsed.hostname === '') return 'must name a host';
  return null;
}
