import { createWebhookUrlPolicy } from './adapters/webhooks/address-policy.ts';
import type { Resolve } from './adapters/webhooks/address-policy.ts';
import { createHttpWebhookSender } from './adapters/webhooks/http-webhook-sender.ts';
import type { WebhookSetup } from './runtime/parley-runtime.ts';

/**
 * Event webhooks as configured (WEBHOOK_*), with what tests replace: DNS, or the sender itself. The
 * timing (`retryDelaysMs`, `leaseMs` from WEBHOOK_LEASE_MS, ...) goes through to the runtime as is.
 */
export interface WebhookOptions extends WebhookSetup {
  /** WEBHOOK_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** WEBHOOK_DENY_PRIVATE. */
  readonly denyPrivate?: boolean;
  /** Host name resolution for the address policy and the sender; the system's when absent. */
  readonly resolve?: Resolve;
}

/** The HTTP sender and the address policy, both holding WEBHOOK_DENY_PRIVATE to the same resolver. */
export function createWebhookSetup(options: WebhookOptions = {}): WebhookSetup {
  const { timeoutMs = 10_000, denyPrivate = false, resolve, sender, policy, ...timing } = options;
  const lookup = resolve === undefined ? {} : { resolve };
  return {
    ...timing,
    sender: sender ?? createHttpWebhookSender({ timeoutMs, denyPrivate, ...lookup }),
    policy: policy ?? createWebhookUrlPolicy({ denyPrivate, ...lookup }),
  };
}
