import { assign, setup } from 'xstate';
import { effects } from './effect.ts';
import { discardParams, initialContext, recordFailedParams, recordSentParams } from './outbox-delivery.types.ts';
import type { OutboxDeliveryContext, OutboxDeliveryEffects, OutboxDeliveryEvent, OutboxDeliveryInput } from './outbox-delivery.types.ts';

/** The machine's input, context, events and effect parameter types. */
export type * from './outbox-delivery.types.ts';

/** Stored with every outbox-delivery snapshot; bump when a stored snapshot would no longer restore. */
export const OUTBOX_DELIVERY_MACHINE_VERSION = 1;

type Event = OutboxDeliveryEvent;
const isCurrent = (context: OutboxDeliveryContext, event: Event): boolean => 'attempt' in event && event.attempt === context.attempt;
const hasAttemptsLeft = (context: OutboxDeliveryContext): boolean => context.attempt < context.maxAttempts;
const isRetryable = (context: OutboxDeliveryContext, event: Event): boolean =>
  event.type === 'delivery.failed' && isCurrent(context, event) && event.transient && hasAttemptsLeft(context);
const canReclaim = (context: OutboxDeliveryContext, event: Event): boolean => isCurrent(context, event) && hasAttemptsLeft(context);

interface Args {
  readonly context: OutboxDeliveryContext;
}
const recordSent = { type: 'recordSent', params: ({ context }: Args) => recordSentParams(context) } as const;
const recordFailed = { type: 'recordFailed', params: ({ context }: Args) => recordFailedParams(context) } as const;

/**
 * The life of one outgoing message, as a pure decider. Worker reports (`delivery.sent`,
 * `delivery.failed`, `delivery.heartbeat`) are fenced by `attempt`: a report for another attempt,
 * or for a message with no live claim, changes nothing but `discardedReports` and asks for
 * `discardLateReport` (I5). Nothing is claimed while the bot is disconnected (`holding`), but a
 * send already in flight keeps its claim and reports its own outcome; only a retry it leads to
 * waits in `holding`. A lapsed lease puts the message back although the lapsed send may have gone
 * out: delivery is at least once. The sweeper's expiry loses to a heartbeat that extended the
 * lease after the sweeper listed the row (race k).
 */
export const outboxDeliveryMachine = setup({
  types: {} as { context: OutboxDeliveryContext; events: OutboxDeliveryEvent; input: OutboxDeliveryInput },
  guards: {
    isNextAttempt: ({ context, event }) =>
      event.type === 'delivery.claimed' && event.attempt === context.attempt + 1 && hasAttemptsLeft(context),
    isCurrentAttempt: ({ context, event }) => isCurrent(context, event),
    isLeaseHeld: ({ context, event }) =>
      event.type === 'delivery.lease-expired' && context.leaseUntil !== null && context.leaseUntil > event.now,
    // A retry goes to `holding` while the bot is down; these variants are tried first.
    isRetryableWhileDisconnected: ({ context, event }) => !context.botConnected && isRetryable(context, event),
    isRetryableFailure: ({ context, event }) => isRetryable(context, event),
    hasAttemptsLeftWhileDisconnected: ({ context, event }) => !context.botConnected && canReclaim(context, event),
    hasAttemptsLeft: ({ context, event }) => canReclaim(context, event),
    isBotConnected: ({ context }) => context.botConnected,
  },
  actions: {
    recordClaim: assign(({ event }) =>
      event.type === 'delivery.claimed' ? { attempt: event.attempt, owner: event.owner, leaseUntil: event.leaseUntil, notBefore: null } : {},
    ),
    extendLease: assign(({ event }) => (event.type === 'delivery.heartbeat' ? { leaseUntil: event.leaseUntil } : {})),
    storeSent: assign(({ event }) =>
      event.type === 'delivery.sent' ? { providerMessageId: event.providerMessageId, error: null, owner: null, leaseUntil: null } : {},
    ),
    recordFailure: assign(({ context, event }) => {
      if (event.type === 'delivery.failed') return { error: event.error, owner: null, leaseUntil: null, notBefore: event.retryAt };
      if (event.type === 'delivery.lease-expired') {
        return { error: `lease expired on attempt ${context.attempt} of ${context.maxAttempts}`, owner: null, leaseUntil: null };
      }
      return {};
    }),
    grantAttempts: assign(({ context }) => ({ maxAttempts: context.attempt + context.attemptBudget, error: null, notBefore: null })),
    countDiscard: assign(({ context }) => ({ discardedReports: context.discardedReports + 1 })),
    markDisconnected: assign({ botConnected: false }),
    markConnected: assign({ botConnected: true }),
    ...effects<OutboxDeliveryEffects>({ recordSent: true, recordFailed: true, discardLateReport: true }),
  },
}).createMachine({
  id: 'outboxDelivery',
  context: ({ input }) => initialContext(input),
  initial: 'pending',
  on: {
    'delivery.sent': { actions: ['countDiscard', { type: 'discardLateReport', params: ({ context, event }) => discardParams(context, event) }] },
    'delivery.failed': { actions: ['countDiscard', { type: 'discardLateReport', params: ({ context, event }) => discardParams(context, event) }] },
    'delivery.heartbeat': { actions: ['countDiscard', { type: 'discardLateReport', params: ({ context, event }) => discardParams(context, event) }] },
    'bot.connected': { actions: 'markConnected' },
    'bot.disconnected': { actions: 'markDisconnected' },
  },
  states: {
    pending: {
      on: {
        'delivery.claimed': { guard: 'isNextAttempt', target: 'sending', actions: 'recordClaim' },
        'bot.disconnected': { target: 'holding', actions: 'markDisconnected' },
      },
    },
    holding: {
      on: {
        'bot.connected': { target: 'pending', actions: 'markConnected' },
      },
    },
    sending: {
      on: {
        'delivery.heartbeat': { guard: 'isCurrentAttempt', actions: 'extendLease' },
        'delivery.sent': { guard: 'isCurrentAttempt', target: 'sent', actions: ['storeSent', recordSent] },
        'delivery.failed': [
          { guard: 'isRetryableWhileDisconnected', target: 'holding', actions: 'recordFailure' },
          { guard: 'isRetryableFailure', target: 'pending', actions: 'recordFailure' },
          { guard: 'isCurrentAttempt', target: 'failed', actions: ['recordFailure', recordFailed] },
        ],
        // A lease extended after the sweeper listed the row still holds: the expiry is ignored.
        'delivery.lease-expired': [
          { guard: 'isLeaseHeld' },
          { guard: 'hasAttemptsLeftWhileDisconnected', target: 'holding', actions: 'recordFailure' },
          { guard: 'hasAttemptsLeft', target: 'pending', actions: 'recordFailure' },
          { guard: 'isCurrentAttempt', target: 'failed', actions: ['recordFailure', recordFailed] },
        ],
      },
    },
    // Terminal, but not `final`: a late report must still be counted, and bot events recorded.
    sent: {},
    failed: {
      on: {
        'delivery.retry': [
          { guard: 'isBotConnected', target: 'pending', actions: 'grantAttempts' },
          { target: 'holding', actions: 'grantAttempts' },
        ],
      },
    },
  },
});
