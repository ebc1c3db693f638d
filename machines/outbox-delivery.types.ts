import { unclaimed } from '../src/domain/work-item.ts';
import type { WorkItemContext } from '../src/domain/work-item.ts';
/** What the runtime supplies when an outgoing message is queued (its history row already written). */
export interface OutboxDeliveryInput {
  readonly deliveryId: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly text: string;
  /** History seq of this message's outbound row, the row `recordSent`/`recordFailed` update. */
  readonly seq: number;
  /** Claims allowed before the message is dead-lettered; an operator retry grants as many again. */
  readonly maxAttempts: number;
}

/** Serializable delivery state: its claim (a work item's), the provider's id once sent, its bot's connection. */
export interface OutboxDeliveryContext extends OutboxDeliveryInput, WorkItemContext {
  readonly providerMessageId: string | null;
  /** Worker reports rejected by fencing (stale attempt or no live claim). */
  readonly discardedReports: number;
  /** Whether the bot's provider session is up; nothing is claimed while it is down. */
  readonly botConnected: boolean;
}

/**
 * Worker reports (`delivery.claimed`, `delivery.heartbeat`, `delivery.sent`, `delivery.failed`)
 * carry the attempt they belong to; the sweeper's `delivery.lease-expired` the attempt it listed
 * and the time it decided at, so a lease extended meanwhile is seen to hold.
 */
export type OutboxDeliveryEvent =
  | { type: 'delivery.claimed'; owner: string; leaseUntil: number; attempt: number }
  | { type: 'delivery.heartbeat'; attempt: number; leaseUntil: number }
  | { type: 'delivery.sent'; attempt: number; providerMessageId: string }
  | { type: 'delivery.failed'; attempt: number; error: string; transient: boolean; retryAt: number | null }
  | { type: 'delivery.lease-expired'; attempt: number; now: number }
  | { type: 'delivery.retry' }
  | { type: 'bot.connected' }
  | { type: 'bot.disconnected' };

/** Worker reports that are fenced: a stale one is counted and logged, never applied. */
export type FencedReport = Extract<OutboxDeliveryEvent, { type: 'delivery.heartbeat' | 'delivery.sent' | 'delivery.failed' }>;

/** Mark the outbound history row sent, with the provider's id for it. */
export interface RecordSentParams {
  readonly deliveryId: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly seq: number;
  readonly providerMessageId: string;
}

/** Mark the outbound history row failed (dead-lettered), with the reason, for operators. */
export interface RecordFailedParams {
  readonly deliveryId: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly seq: number;
  readonly error: string;
}

/** A fenced-off worker report was dropped; count and log it. */
export interface DiscardLateReportParams {
  readonly deliveryId: string;
  readonly eventType: FencedReport['type'];
  readonly reportedAttempt: number;
  readonly currentAttempt: number;
}

/** Every effect of the outbox-delivery machine and its params. */
export interface OutboxDeliveryEffects {
  readonly recordSent: RecordSentParams;
  readonly recordFailed: RecordFailedParams;
  readonly discardLateReport: DiscardLateReportParams;
}

/** Context of a new delivery: unclaimed, its bot assumed connected until told otherwise. */
export function initialContext(input: OutboxDeliveryInput): OutboxDeliveryContext {
  return {
    ...input,
    ...unclaimed(input.maxAttempts),
    providerMessageId: null,
    discardedReports: 0,
    botConnected: true,
  };
}

export function recordSentParams(context: OutboxDeliveryContext): RecordSentParams {
  const { deliveryId, botId, correspondentId, seq } = context;
  return { deliveryId, botId, correspondentId, seq, providerMessageId: context.providerMessageId ?? '' };
}

export function recordFailedParams(context: OutboxDeliveryContext): RecordFailedParams {
  const { deliveryId, botId, correspondentId, seq } = context;
  return { deliveryId, botId, correspondentId, seq, error: context.error ?? 'unknown error' };
}

export function discardParams(context: OutboxDeliveryContext, event: FencedReport): DiscardLateReportParams {
  return { deliveryId: context.deliveryId, eventType: event.type, reportedAttempt: event.attempt, currentAttempt: context.attempt };
}
