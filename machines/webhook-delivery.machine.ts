import { assign, setup } from 'xstate';
import { effects } from './effect.ts';
import { discardParams, initialContext, outcomeParams } from './webhook-delivery.types.ts';
import type { DeliveryOutcome, WebhookDeliveryContext, WebhookDeliveryEffects, WebhookDeliveryEvent, WebhookDeliveryInput } from './webhook-delivery.types.ts';

/** The machine's input, context, events and effect parameter types. */
export type * from './webhook-delivery.types.ts';

/** Stored with every webhook-delivery snapshot; bump when a stored snapshot would no longer restore. */
export const WEBHOOK_DELIVERY_MACHINE_VERSION = 1;

type Event = WebhookDeliveryEvent;
const isCurrent = (context: WebhookDeliveryContext, event: Event): boolean => 'attempt' in event && event.attempt === context.attempt;
const hasAttemptsLeft = (context: WebhookDeliveryContext): boolean => context.attempt < context.maxAttempts;

interface Args {
  readonly context: WebhookDeliveryContext;
}
const recordOutcome = (outcome: DeliveryOutcome) => ({ type: 'recordOutcome', params: ({ context }: Args) => outcomeParams(context, outcome) }) as const;

/**
 * The life of one signed event delivery to one subscription, as a pure decider. Worker reports
 * (`delivery.delivered`, `delivery.failed`, `delivery.heartbeat`) are fenced by `attempt`: a
 * report for another attempt, or for a delivery with no live claim, changes nothing but
 * `discardedReports` and asks for `discardLateReport` (I5). A retryable failure goes back to
 * `pending`, due at the `retryAt` it brings, while attempts are left; otherwise the delivery is
 * dead-lettered in `failed`, from where an operator retry grants a fresh budget. A lapsed lease
 * puts the delivery back although the lapsed attempt may have reached the receiver: delivery is at
 * least once, and the receiver dedupes by the delivery id. The sweeper's expiry loses to a
 * heartbeat that extended the lease after the sweeper listed the row (race k).
 */
export const webhookDeliveryMachine = setup({
  types: {} as { context: WebhookDeliveryContext; events: WebhookDeliveryEvent; input: WebhookDeliveryInput },
  guards: {
    isNextAttempt: ({ context, event }) =>
      event.type === 'delivery.claimed' && event.attempt === context.attempt + 1 && hasAttemptsLeft(context),
    isCurrentAttempt: ({ context, event }) => isCurrent(context, event),
    isLeaseHeld: ({ context, event }) =>
      event.type === 'delivery.lease-expired' && context.leaseUntil !== null && context.leaseUntil > event.now,
    isRetryableFailure: ({ context, event }) =>
      event.type === 'delivery.failed' && isCurrent(context, event) && event.retryable && hasAttemptsLeft(context),
    hasAttemptsLeft: ({ context, event }) => isCurrent(context, event) && hasAttemptsLeft(context),
  },
  actions: {
    recordClaim: assign(({ event }) =>
      event.type === 'delivery.claimed' ? { attempt: event.attempt, owner: event.owner, leaseUntil: event.leaseUntil, notBefore: null } : {},
    ),
    extendLease: assign(({ event }) => (event.type === 'delivery.heartbeat' ? { leaseUntil: event.leaseUntil } : {})),
    storeDelivered: assign(({ event }) =>
      event.type === 'delivery.delivered' ? { lastStatus: event.status, error: null, owner: null, leaseUntil: null } : {},
    ),
    recordFailure: assign(({ context, event }) => {
      if (event.type === 'delivery.failed') {
        return { error: event.error, lastStatus: event.status, owner: null, leaseUntil: null, notBefore: event.retryable ? event.retryAt : null };
      }
      if (event.type === 'delivery.lease-expired') {
        return { error: `lease expired on attempt ${context.attempt} of ${context.maxAttempts}`, lastStatus: null, owner: null, leaseUntil: null };
      }
      return {};
    }),
    grantAttempts: assign(({ context }) => ({ maxAttempts: context.attempt + context.attemptBudget, error: null, notBefore: null })),
    countDiscard: assign(({ context }) => ({ discardedReports: context.discardedReports + 1 })),
    ...effects<WebhookDeliveryEffects>({ recordOutcome: true, discardLateReport: true }),
  },
}).createMachine({
  id: 'webhookDelivery',
  context: ({ input }) => initialContext(input),
  initial: 'pending',
  on: {
    'delivery.delivered': { actions: ['countDiscard', { type: 'discardLateReport', params: ({ context, event }) => discardParams(context, event) }] },
    'delivery.failed': { actions: ['countDiscard', { type: 'discardLateReport', params: ({ context, event }) => discardParams(context, event) }] },
    'delivery.heartbeat': { actions: ['countDiscard', { type: 'discardLateReport', params: ({ context, event }) => discardParams(context, event) }] },
  },
  states: {
    pending: {
      on: {
        'delivery.claimed': { guard: 'isNextAttempt', target: 'delivering', actions: 'recordClaim' },
      },
    },
    delivering: {
      on: {
        'delivery.heartbeat': { guard: 'isCurrentAttempt', actions: 'extendLease' },
        'delivery.delivered': { guard: 'isCurrentAttempt', target: 'delivered', actions: ['storeDelivered', recordOutcome('delivered')] },
        'delivery.failed': [
          { guard: 'isRetryableFailure', target: 'pending', actions: ['recordFailure', recordOutcome('retried')] },
          { guard: 'isCurrentAttempt', target: 'failed', actions: ['recordFailure', recordOutcome('failed')] },
        ],
        // A lease extended after the sweeper listed the row still holds: the expiry is ignored.
        'delivery.lease-expired': [
          { guard: 'isLeaseHeld' },
          { guard: 'hasAttemptsLeft', target: 'pending', actions: ['recordFailure', recordOutcome('retried')] },
          { guard: 'isCurrentAttempt', target: 'failed', actions: ['recordFailure', recordOutcome('failed')] },
        ],
      },
    },
    // Terminal, but not `final`: a late report must still be counted.
    delivered: {},
    failed: {
      on: {
        'delivery.retry': { target: 'pending', actions: 'grantAttempts' },
      },
    },
  },
});
