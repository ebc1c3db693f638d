import { assign, setup } from 'xstate';
import { effects } from './effect.ts';
import { finalizeParams, initialContext, reopenParams, resultContent } from './media-job.types.ts';
import type { DeadLetterParams, DiscardLateResultParams, MediaJobContext, MediaJobEffects, MediaJobEvent, MediaJobInput } from './media-job.types.ts';

/** The machine's input, context, events and effect parameter types. */
export type * from './media-job.types.ts';

/** Stored with every media-job snapshot; bump when a stored snapshot would no longer restore. */
export const MEDIA_JOB_MACHINE_VERSION = 1;

const reported = (event: MediaJobEvent): number | null => ('attempt' in event ? event.attempt : null);
const isCurrent = (context: MediaJobContext, event: MediaJobEvent): boolean => reported(event) === context.attempt;
const hasAttemptsLeft = (context: MediaJobContext): boolean => context.attempt < context.maxAttempts;

interface Args {
  readonly context: MediaJobContext;
  readonly event: MediaJobEvent;
}
const finalize = { type: 'finalizePlaceholder', params: ({ context }: Args) => finalizeParams(context) } as const;
const deadLetter = { type: 'deadLetter', params: ({ context }: Args) => deadLetterParams(context) } as const;
const reopen = { type: 'reopenPlaceholder', params: ({ context }: Args) => reopenParams(context) } as const;
const release = { type: 'releaseMedia', params: ({ context }: Args) => ({ jobId: context.jobId }) } as const;
const discard = { type: 'discardLateResult', params: ({ context, event }: Args) => discardParams(context, event) } as const;

/**
 * The life of one media job, as a pure decider. Worker reports (`job.completed`, `job.failed`,
 * `job.heartbeat`) are fenced by `attempt`: a report for another attempt, or for a job with no
 * live claim, changes nothing but the `discardedResults` count and the `discardLateResult`
 * effect (I5). While its bot is stopped a job sits in `holding`; a claim taken before the stop
 * stays live there (`holding.claimed`), so the worker's result is still accepted and is
 * delivered when the bot starts (I6). Media that could not be read (`unreadable`) ends `failed`
 * with its note, like a dead-letter, so it never passes for a success. The result is stored in the same snapshot that asks for
 * `finalizePlaceholder`, so it is durable before the placeholder changes (I4).
 */
export const mediaJobMachine = setup({
  types: {} as { context: MediaJobContext; events: MediaJobEvent; input: MediaJobInput },
  guards: {
    isNextAttempt: ({ context, event }) =>
      event.type === 'job.claimed' && event.attempt === context.attempt + 1 && hasAttemptsLeft(context),
    isCurrentAttempt: ({ context, event }) => isCurrent(context, event),
    isProcessed: ({ context, event }) => event.type === 'job.completed' && isCurrent(context, event) && event.outcome.status === 'processed',
    isRetryableFailure: ({ context, event }) =>
      event.type === 'job.failed' && isCurrent(context, event) && event.transient && hasAttemptsLeft(context),
    hasAttemptsLeft: ({ context, event }) => isCurrent(context, event) && hasAttemptsLeft(context),
    isBotActive: ({ context }) => context.botActive,
    isLeaseHeld: ({ context, event }) => event.type === 'job.lease-expired' && context.leaseUntil !== null && context.leaseUntil > event.now,
  },
  actions: {
    recordClaim: assign(({ event }) =>
      event.type === 'job.claimed' ? { attempt: event.attempt, owner: event.owner, leaseUntil: event.leaseUntil, notBefore: null } : {},
    ),
    extendLease: assign(({ event }) => (event.type === 'job.heartbeat' ? { leaseUntil: event.leaseUntil } : {})),
    storeResult: assign(({ context, event }) =>
      event.type === 'job.completed' ? { result: resultContent(context, event.outcome), error: null, owner: null, leaseUntil: null } : {},
    ),
    recordFailure: assign(({ context, event }) => {
      if (event.type === 'job.failed') return { error: event.error, owner: null, leaseUntil: null, notBefore: event.retryAt };
      if (event.type === 'job.lease-expired') {
        return { error: `lease expired on attempt ${context.attempt} of ${context.maxAttempts}`, owner: null, leaseUntil: null };
      }
      if (event.type === 'job.dead-lettered') return { error: event.reason, owner: null, leaseUntil: null };
      if (event.type === 'job.completed' && event.outcome.status === 'unreadable') return { error: event.outcome.reason, owner: null, leaseUntil: null };
      return {};
    }),
    grantAttempts: assign(({ context }) => ({ maxAttempts: context.attempt + context.attemptBudget, error: null, notBefore: null })),
    countDiscard: assign(({ context }) => ({ discardedResults: context.discardedResults + 1 })),
    markBotStopped: assign({ botActive: false }),
    markBotStarted: assign({ botActive: true }),
    ...effects<MediaJobEffects>({
      finalizePlaceholder: true,
      deadLetter: true,
      reopenPlaceholder: true,
      releaseMedia: true,
      discardLateResult: true,
    }),
  },
}).createMachine({
  id: 'mediaJob',
  context: ({ input }) => initialContext(input),
  initial: 'pending',
  on: {
    'job.completed': { actions: ['countDiscard', discard] },
    'job.failed': { actions: ['countDiscard', discard] },
    'job.heartbeat': { actions: ['countDiscard', discard] },
    'bot.stopped': { actions: 'markBotStopped' },
    'bot.started': { actions: 'markBotStarted' },
  },
  states: {
    pending: {
      on: {
        'job.claimed': { guard: 'isNextAttempt', target: 'processing', actions: 'recordClaim' },
        'bot.stopped': { target: 'holding.idle', actions: 'markBotStopped' },
        'job.dead-lettered': { target: 'failed', actions: ['recordFailure', deadLetter, finalize] },
      },
    },
    processing: {
      on: {
        'job.heartbeat': { guard: 'isCurrentAttempt', actions: 'extendLease' },
        // Media that could not be read ends failed, its note shown in the conversation: visibly not
        // a success, and an operator may retry it once the cause is fixed (an OpenAI key configured).
        'job.completed': [
          { guard: 'isProcessed', target: 'completed', actions: ['storeResult', finalize] },
          { guard: 'isCurrentAttempt', target: 'failed', actions: ['recordFailure', finalize] },
        ],
        'job.failed': [
          { guard: 'isRetryableFailure', target: 'pending', actions: 'recordFailure' },
          { guard: 'isCurrentAttempt', target: 'failed', actions: ['recordFailure', deadLetter, finalize] },
        ],
        // A heartbeat that extended the lease after the sweeper listed the job wins (race k).
        'job.lease-expired': [
          { guard: 'isLeaseHeld' },
          { guard: 'hasAttemptsLeft', target: 'pending', actions: 'recordFailure' },
          { guard: 'isCurrentAttempt', target: 'failed', actions: ['recordFailure', deadLetter, finalize] },
        ],
        'job.dead-lettered': { target: 'failed', actions: ['recordFailure', deadLetter, finalize] },
        'bot.stopped': { target: 'holding.claimed', actions: 'markBotStopped' },
      },
    },
    holding: {
      initial: 'idle',
      on: {
        'job.dead-lettered': { target: 'failed', actions: ['recordFailure', deadLetter] },
      },
      states: {
        idle: {
          on: { 'bot.started': { target: '#mediaJob.pending', actions: 'markBotStarted' } },
        },
        claimed: {
          on: {
            'job.heartbeat': { guard: 'isCurrentAttempt', actions: 'extendLease' },
            'job.completed': [
              { guard: 'isProcessed', target: '#mediaJob.completed', actions: 'storeResult' },
              { guard: 'isCurrentAttempt', target: '#mediaJob.failed', actions: 'recordFailure' },
            ],
            'job.failed': [
              { guard: 'isRetryableFailure', target: 'idle', actions: 'recordFailure' },
              { guard: 'isCurrentAttempt', target: '#mediaJob.failed', actions: ['recordFailure', deadLetter] },
            ],
            'job.lease-expired': [
              { guard: 'isLeaseHeld' },
              { guard: 'hasAttemptsLeft', target: 'idle', actions: 'recordFailure' },
              { guard: 'isCurrentAttempt', target: '#mediaJob.failed', actions: ['recordFailure', deadLetter] },
            ],
            'bot.started': { target: '#mediaJob.processing', actions: 'markBotStarted' },
          },
        },
      },
    },
    completed: {
      on: {
        'bot.started': { actions: ['markBotStarted', finalize] },
        'job.delivered': { target: 'delivered', actions: release },
      },
    },
    delivered: {},
    failed: {
      initial: 'notifying',
      on: {
        'job.retry': [
          { guard: 'isBotActive', target: 'pending', actions: ['grantAttempts', reopen] },
          { target: 'holding.idle', actions: ['grantAttempts', reopen] },
        ],
        'job.discarded': { target: 'discarded', actions: release },
      },
      states: {
        notifying: {
          on: {
            'bot.started': { actions: ['markBotStarted', finalize] },
            'job.delivered': { target: 'notified' },
          },
        },
        notified: {},
      },
    },
    discarded: {},
  },
});

function deadLetterParams(context: MediaJobContext): DeadLetterParams {
  return { jobId: context.jobId, botId: context.botId, attempt: context.attempt, reason: context.error ?? 'unknown error' };
}

function discardParams(context: MediaJobContext, event: MediaJobEvent): DiscardLateResultParams {
  const eventType = event.type === 'job.failed' || event.type === 'job.heartbeat' ? event.type : 'job.completed';
  return { jobId: context.jobId, eventType, reportedAttempt: reported(event) ?? -1, currentAttempt: context.attempt };
}
