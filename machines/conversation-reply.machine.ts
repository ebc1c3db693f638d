import { and, assign, setup } from 'xstate';
import { effects } from './effect.ts';
import { debounceDeadline, initialContext, isNews, replyIdOf, waitsForMedia } from './conversation-reply.types.ts';
import type { ConversationReplyContext, ConversationReplyEffects, ConversationReplyEvent, ConversationReplyInput } from './conversation-reply.types.ts';

/** The machine's input, context, events and effect parameter types. */
export type * from './conversation-reply.types.ts';

/** Stored with every conversation-reply snapshot; bump when a stored snapshot would no longer restore. */
export const CONVERSATION_REPLY_MACHINE_VERSION = 1;

type Event = ConversationReplyEvent;
interface Args {
  readonly context: ConversationReplyContext;
  readonly event: Event;
}

const isNewMessage = (context: ConversationReplyContext, event: Event): boolean => event.type === 'message.finalized' && isNews(context, event.seq);
const isCurrentReply = (context: ConversationReplyContext, event: Event): boolean =>
  (event.type === 'reply.generated' || event.type === 'reply.failed') && context.reply !== null && event.replyId === context.reply.id;
const latestAfter = (context: ConversationReplyContext, event: Event): number => (event.type === 'message.finalized' ? Math.max(context.latestSeq, event.seq) : context.latestSeq);

const generate = {
  type: 'generateReply',
  params: ({ context }: Args) => {
    const reply = context.reply ?? { id: replyIdOf(context, context.claimed), throughSeq: context.latestSeq, attempt: 1 };
    return { botId: context.botId, correspondentId: context.correspondentId, replyId: reply.id, throughSeq: reply.throughSeq, attempt: reply.attempt };
  },
} as const;
const drop = (reason: string) =>
  ({
    type: 'dropReply',
    params: ({ context }: Args) => ({ botId: context.botId, correspondentId: context.correspondentId, replyId: context.reply?.id ?? '', reason }),
  }) as const;
const queueReply = {
  type: 'queueReply',
  params: ({ context, event }: Args) => ({
    botId: context.botId,
    correspondentId: context.correspondentId,
    replyId: context.reply?.id ?? '',
    throughSeq: context.reply?.throughSeq ?? context.latestSeq,
    text: event.type === 'reply.generated' ? event.text : (context.reply?.text ?? ''),
  }),
} as const;
const discard = {
  type: 'discardLateResult',
  params: ({ context, event }: Args) => ({
    botId: context.botId,
    correspondentId: context.correspondentId,
    replyId: 'replyId' in event ? event.replyId : '',
    eventType: event.type === 'reply.failed' ? ('reply.failed' as const) : ('reply.generated' as const),
  }),
} as const;
const reportFailure = (willRetry: boolean) =>
  ({
    type: 'reportFailure',
    params: ({ context, event }: Args) => ({
      botId: context.botId,
      correspondentId: context.correspondentId,
      replyId: context.reply?.id ?? '',
      attempt: context.reply?.attempt ?? 0,
      error: event.type === 'reply.failed' ? event.error : 'unknown error',
      willRetry,
    }),
  }) as const;
const reportAbandoned = {
  type: 'reportAbandoned',
  params: ({ context, event }: Args) => ({
    botId: context.botId,
    correspondentId: context.correspondentId,
    throughSeq: context.latestSeq,
    reason: event.type === 'reply.abandoned' ? event.reason : '',
  }),
} as const;

/**
 * One conversation's AI replies, as a pure decider. Finalized messages (never placeholders) open
 * or extend a burst, which is debounced; when it settles, a reply waits (bounded) for earlier
 * media of the burst still being processed (race m), then claims the range "every message up to
 * seq N" in the same snapshot that asks for the model's answer, so the claim is durable before
 * the call and no crash or retry ever answers one burst twice (I12). One reply is in flight per
 * conversation: messages arriving meanwhile wait for the next. The answer is typed (optionally)
 * and handed to the outbox once, keyed by the reply's id. A message the account owner writes
 * from the phone drops the reply being made and pauses the AI (race l); an operator can pause and
 * resume it too. Deadlines are data: the runtime's timer sends `reply.deadline`, and a deadline
 * that has not come is ignored.
 */
export const conversationReplyMachine = setup({
  types: {} as { context: ConversationReplyContext; events: ConversationReplyEvent; input: ConversationReplyInput },
  guards: {
    isNewMessage: ({ context, event }) => isNewMessage(context, event),
    isDue: ({ context, event }) => 'now' in event && context.deadline !== null && event.now >= context.deadline,
    waitsForMedia: ({ context, event }) => 'pendingMedia' in event && waitsForMedia({ ...context, latestSeq: latestAfter(context, event) }, event.pendingMedia),
    isCurrentReply: ({ context, event }) => isCurrentReply(context, event),
    canRetry: ({ context, event }) =>
      event.type === 'reply.failed' && isCurrentReply(context, event) && event.retryAt !== null && (context.reply?.attempt ?? 0) < event.maxAttempts,
    typesFirst: ({ event }) => event.type === 'reply.generated' && event.typingMs > 0,
    hasUnanswered: ({ context }) => context.latestSeq > context.answeredThrough || context.lateDue,
    hasReply: ({ context }) => context.reply !== null,
  },
  actions: {
    noteMessage: assign(({ context, event }) => ({
      latestSeq: latestAfter(context, event),
      lateMedia: withoutFinalized(context, event),
      lateDue: context.lateDue || (context.reply !== null && event.type === 'message.finalized' && context.lateMedia.includes(event.seq)),
    })),
    openBurst: assign(({ context, event }) =>
      event.type === 'message.finalized'
        ? { ...reopened(context, event), burstStartedAt: event.now, deadline: debounceDeadline(event.now, event.now, event.timing) }
        : {},
    ),
    extendBurst: assign(({ context, event }) =>
      event.type === 'message.finalized'
        ? { ...reopened(context, event), deadline: debounceDeadline(context.burstStartedAt ?? event.now, event.now, event.timing) }
        : {},
    ),
    waitForMedia: assign(({ event }) => (event.type === 'reply.deadline' || event.type === 'message.finalized' ? { deadline: event.now + event.mediaWaitMs } : {})),
    claim: assign(({ context, event }) => ({
      lateMedia: 'pendingMedia' in event ? [...context.lateMedia, ...event.pendingMedia.filter((seq) => seq > context.answeredThrough && seq <= context.latestSeq)] : context.lateMedia,
      lateDue: false,
      claimed: context.claimed + 1,
      reply: { id: replyIdOf(context, context.claimed + 1), throughSeq: context.latestSeq, attempt: 1, text: null },
      deadline: null,
      burstStartedAt: null,
    })),
    backOff: assign(({ event }) => (event.type === 'reply.failed' ? { deadline: event.retryAt } : {})),
    // The retry reads the conversation again: late media final by now is in it.
    callAgain: assign(({ context }) => ({ deadline: null, lateDue: false, reply: context.reply === null ? null : { ...context.reply, attempt: context.reply.attempt + 1 } })),
    startTyping: assign(({ context, event }) =>
      event.type === 'reply.generated' && context.reply !== null ? { reply: { ...context.reply, text: event.text }, deadline: event.now + event.typingMs } : {},
    ),
    // The reply is queued: its range is answered, and what came meanwhile is due at once.
    finishReply: assign(({ context }) => ({
      answeredThrough: Math.max(context.answeredThrough, context.reply?.throughSeq ?? context.answeredThrough),
      reply: null,
      sent: context.sent + 1,
      lastError: null,
    })),
    giveUp: assign(({ context, event }) => ({
      answeredThrough: Math.max(context.answeredThrough, context.reply?.throughSeq ?? context.answeredThrough),
      reply: null,
      failed: context.failed + 1,
      lastError: event.type === 'reply.failed' ? event.error : context.lastError,
      deadline: null,
      burstStartedAt: null,
    })),
    letGo: assign(({ context }) => ({ answeredThrough: context.latestSeq, lateMedia: [], lateDue: false, reply: null, deadline: null, burstStartedAt: null })),
    dueNow: assign(({ event }) => ('now' in event ? { deadline: event.now, burstStartedAt: event.now, lateDue: false } : { lateDue: false })),
    countDrop: assign(({ context }) => ({ dropped: context.dropped + 1 })),
    pause: assign(({ context, event }) => {
      const base = { answeredThrough: context.latestSeq, lateMedia: [], lateDue: false, reply: null, burstStartedAt: null };
      if (event.type === 'owner.wrote') {
        // An operator's pause without end stays without end; a timed one lasts at least as long as the owner's.
        const owned = context.pausedBy !== null && context.deadline === null ? null : Math.max(context.deadline ?? 0, event.now + event.pauseMs);
        return { ...base, pausedBy: context.pausedBy ?? 'owner', deadline: owned };
      }
      if (event.type === 'ai.paused') return { ...base, pausedBy: 'operator' as const, deadline: event.durationMs === null ? null : event.now + event.durationMs };
      return base;
    }),
    // A message the human is handling is not answered by the AI later.
    skipMessage: assign(({ context, event }) => ({ latestSeq: latestAfter(context, event), answeredThrough: latestAfter(context, event), lateMedia: withoutFinalized(context, event) })),
    unpause: assign({ pausedBy: null, deadline: null }),
    ...effects<ConversationReplyEffects>({
      generateReply: true,
      dropReply: true,
      showTyping: true,
      queueReply: true,
      discardLateResult: true,
      reportFailure: true,
      reportAbandoned: true,
    }),
  },
}).createMachine({
  id: 'conversationReply',
  context: ({ input }) => initialContext(input),
  initial: 'idle',
  on: {
    // Answers for a reply that is no longer being made (dropped, given up, or another attempt's).
    'reply.generated': { actions: discard },
    'reply.failed': { actions: discard },
    'owner.wrote': [
      { guard: 'hasReply', target: '.paused', actions: [drop('the account owner wrote from the phone'), 'countDrop', 'pause'] },
      { target: '.paused', actions: 'pause' },
    ],
    'ai.paused': [
      { guard: 'hasReply', target: '.paused', actions: [drop('paused by an operator'), 'countDrop', 'pause'] },
      { target: '.paused', actions: 'pause' },
    ],
  },
  states: {
    idle: {
      on: {
        'message.finalized': { guard: 'isNewMessage', target: 'debouncing', actions: 'openBurst' },
      },
    },
    debouncing: {
      on: {
        'message.finalized': { guard: 'isNewMessage', actions: 'extendBurst' },
        'reply.deadline': [
          { guard: and(['isDue', 'waitsForMedia']), target: 'awaiting-media', actions: 'waitForMedia' },
          { guard: 'isDue', target: 'generating', actions: ['claim', generate] },
        ],
        'reply.abandoned': { target: 'idle', actions: [reportAbandoned, 'letGo'] },
      },
    },
    'awaiting-media': {
      on: {
        'message.finalized': [
          { guard: 'waitsForMedia', actions: 'noteMessage' },
          // The media waited for is final (or nothing the reply covers waits any more).
          { target: 'generating', actions: ['noteMessage', 'claim', generate] },
        ],
        // Waited long enough: the reply goes out with what is final, the rest shown as still processing.
        'reply.deadline': { guard: 'isDue', target: 'generating', actions: ['claim', generate] },
        'reply.abandoned': { target: 'idle', actions: [reportAbandoned, 'letGo'] },
      },
    },
    generating: {
      initial: 'calling',
      on: {
        'message.finalized': { guard: 'isNewMessage', actions: 'noteMessage' },
        'reply.abandoned': { target: 'idle', actions: [drop('abandoned'), reportAbandoned, 'letGo'] },
      },
      states: {
        calling: {
          on: {
            'reply.generated': [
              { guard: and(['isCurrentReply', 'typesFirst']), target: '#conversationReply.sending', actions: ['startTyping', { type: 'showTyping', params: typingParams }] },
              { guard: 'isCurrentReply', target: '#conversationReply.replied', actions: [queueReply, 'finishReply'] },
            ],
            'reply.failed': [
              { guard: 'canRetry', target: 'backoff', actions: [reportFailure(true), 'backOff'] },
              { guard: 'isCurrentReply', target: '#conversationReply.replied', actions: [reportFailure(false), 'giveUp'] },
            ],
          },
        },
        backoff: {
          on: {
            'reply.deadline': { guard: 'isDue', target: 'calling', actions: ['callAgain', generate] },
          },
        },
      },
    },
    sending: {
      on: {
        'message.finalized': { guard: 'isNewMessage', actions: 'noteMessage' },
        'reply.deadline': { guard: 'isDue', target: 'replied', actions: [queueReply, 'finishReply'] },
        'reply.abandoned': { target: 'idle', actions: [drop('abandoned'), reportAbandoned, 'letGo'] },
      },
    },
    // Transient: what came in while the reply was made is the next burst, due at once.
    replied: {
      always: [{ guard: 'hasUnanswered', target: 'debouncing', actions: 'dueNow' }, { target: 'idle', actions: assign({ deadline: null, burstStartedAt: null }) }],
    },
    paused: {
      on: {
        'message.finalized': { guard: 'isNewMessage', actions: 'skipMessage' },
        'owner.wrote': { actions: 'pause' },
        'ai.paused': { actions: 'pause' },
        'reply.deadline': { guard: 'isDue', target: 'idle', actions: 'unpause' },
        'ai.resumed': { target: 'idle', actions: 'unpause' },
      },
    },
  },
});

/** The latest seq and late media after a finalized message is heard. */
function reopened(context: ConversationReplyContext, event: Extract<Event, { type: 'message.finalized' }>) {
  return { latestSeq: Math.max(context.latestSeq, event.seq), lateMedia: withoutFinalized(context, event) };
}

function withoutFinalized(context: ConversationReplyContext, event: Event): readonly number[] {
  return event.type === 'message.finalized' && context.lateMedia.includes(event.seq) ? context.lateMedia.filter((seq) => seq !== event.seq) : context.lateMedia;
}

function typingParams({ context, event }: Args) {
  return { botId: context.botId, correspondentId: context.correspondentId, durationMs: event.type === 'reply.generated' ? event.typingMs : 0 };
}
