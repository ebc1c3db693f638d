/** One signed delivery attempt, ready to go out. */
export interface WebhookRequest {
  readonly url: string;
  /** The Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Aborted when the process goes away. */
  readonly signal: AbortSignal;
}

/**
 * How an attempt ended. `retry`: worth trying again (network error, timeout, 5xx, 429), at
 * `retryAfterMs` when the receiver said (`Retry-After`). `fail`: no attempt will help (another
 * 4xx, a redirect, an address refused by policy).
 */
export type WebhookSendResult =
  | { readonly outcome: 'delivered'; readonly status: number }
  | { readonly outcome: 'retry'; readonly status: number | null; readonly error: string; readonly retryAfterMs: number | null }
  | { readonly outcome: 'fail'; readonly status: number | null; readonly error: string };

/** Sends deliveries over HTTP. Never throws: every failure is a result. */
export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookSendResult>;
}

/**
 * Which receivers a subscription may name (`WEBHOOK_DENY_PRIVATE`). Rejects with
 * WEBHOOK_URL_REFUSED when the URL's host is, or resolves to, an address the policy refuses.
 */
export interface WebhookUrlPolicy {
  check(url: string): Promise<void>;
}
