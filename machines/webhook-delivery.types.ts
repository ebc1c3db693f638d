import { unclaimed } from '../src/domain/work-item.ts';
import type { WorkItemContext } from '../src/domain/work-item.ts';

/** What the runtime supplies when an event is queued for one subscription. */
export interface WebhookDeliveryInput {
  /** The delivery's stable id, derived from subscription and event: the `webhook-id` header. */
  readonly deliveryId: string;
  readonly subscriptionId: string;
  /** Names the event at its source; one event yields one delivery per subscription. */
  readonly eventId: string;
  readonly eventType: string;
  /** Attempts allowed before the delivery is dead-lettered (the first send and its retries); an operator retry grants as many again. */
  readonly maxAttempts: number;
}

/** Serializable delivery state: its claim (a work item's) and what the receiver last answered. */
export interface WebhookDeliveryContext extends WebhookDeliveryInput, WorkItemContext {
  /** HTTP status of the last answer; `null` before the first one or when none came (network error, refusal). */
  readonly lastStatus: number | null;
  /** Worker reports rejected by fencing (stale attempt or no live claim). */
  readonly discardedReports: number;
}

/**
 * Worker reports (`delivery.claimed`, `delivery.heartbeat`, `delivery.delivered`,
 * `delivery.failed`) carry the attempt they belong to; the sweeper's `delivery.lease-expired` the
 * attempt it listed and the time it decided at, so a lease extended meanwhile is seen to hold.
 * `delivery.failed` says whether another attempt may help (`retryable`) and when it is due
 * (`retryAt`, from the retry schedule or the receiver's `Retry-After`).
 */
export type WebhookDeliveryEvent =
  | { type: 'delivery.claimed'; owner: string; leaseUntil: number; attempt: number }
  | { type: 'delivery.heartbeat'; attempt: number; leaseUntil: number }
  | { type: 'delivery.delivered'; attempt: number; status: number }
  | { type: 'delivery.failed'; attempt: number; error: string; status: number | null; retryable: boolean; retryAt: number | null }
  | { type: 'delivery.lease-expired'; attempt: number; now: number }
  | { type: 'delivery.retry' };

/** Worker reports that are fenced: a stale one is counted and logged, never applied. */
export type FencedReport = Extract<WebhookDeliveryEvent, { type: 'delivery.heartbeat' | 'delivery.delivered' | 'delivery.failed' }>;

/** How an attempt ended, as counted and logged. */
export type DeliveryOutcome = 'delivered' | 'retried' | 'failed';

/** An attempt ended: count it and log it. Not stored: the row's state is the durable record. */
export interface RecordOutcomeParams {
  readonly deliveryId: string;
  readonly subscriptionId: string;
  readonly eventType: string;
  readonly outcome: DeliveryOutcome;
  readonly attempt: number;
  readonly status: number | null;
  readonly error: string | null;
}

/** A fenced-off worker report was dropped; count and log it. */
export interface DiscardLateReportParams {
  readonly deliveryId: string;
  readonly eventType: FencedReport['type'];
  readonly reportedAttempt: number;
  readonly currentAttempt: number;
}

/** Every effect of the webhook-delivery machine and its params. */
export interface WebhookDeliveryEffects {
  readonly recordOutcome: RecordOutcomeParams;
  readonly discardLateReport: DiscardLateReportParams;
}

/** Context of a new delivery: unclaimed, never answered. */
export function initialContext(input: WebhookDeliveryInput): WebhookDeliveryContext {
  return { ...input, ...unclaimed(input.maxAttempts), lastStatus: null, discardedReports: 0 };
}

export function outcomeParams(context: WebhookDeliveryContext, outcome: DeliveryOutcome): RecordOutcomeParams {
  const { deliveryId, subscriptionId, eventType, attempt, lastStatus: status } = context;
  return { deliveryId, subscriptionId, eventType, outcome, attempt, status, error: outcome === 'delivered' ? null : context.error };
}

export function discardParams(context: WebhookDeliveryContext, event: FencedReport): DiscardLateReportParams {
  return { deliveryId: context.deliveryId, eventType: event.type, reportedAttempt: event.attempt, currentAttempt: context.attempt };
}
