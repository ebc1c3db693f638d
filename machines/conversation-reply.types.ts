/** What the runtime supplies when it creates a conversation's reply actor. */
export interface ConversationReplyInput {
  readonly botId: string;
  readonly correspondentId: string;
  /**
   * Messages up to this seq are not answered by this actor: the conversation's history when the
   * actor was created (AI switched on in a running conversation answers only what comes next).
   */
  readonly answeredThrough: number;
}

/**
 * The reply being made: the range it answers (every finalized message up to `throughSeq`) is
 * claimed, and stored, before the model is asked, so no crash or retry answers it twice (I12).
 */
export interface ClaimedReply {
  /** `<botId>|<correspondentId>#<n>`: the reply's stable name, the outbox's key for it. */
  readonly id: string;
  readonly throughSeq: number;
  /** Calls to the model so far for this reply. */
  readonly attempt: number;
  /** The model's answer once it came; `null` while generating. */
  readonly text: string | null;
}

/** Why the AI is paused: the account owner wrote from the phone, or an operator paused it. */
export type PauseCause = 'owner' | 'operator';

/**
 * Serializable reply state. Every deadline is epoch ms in `deadline`, whose meaning is the
 * state's: the end of the debounce, of the wait for earlier media, of a retry's backoff, of the
 * typing indication, or of a pause (`null` in `paused`: until resumed).
 */
export interface ConversationReplyContext extends ConversationReplyInput {
  /** Highest seq of a finalized message this actor heard of. */
  readonly latestSeq: number;
  /** When the burst being debounced began (its first message), for the maximum wait. */
  readonly burstStartedAt: number | null;
  readonly deadline: number | null;
  readonly reply: ClaimedReply | null;
  /**
   * Media messages a claimed reply did not wait for any longer (still placeholders at the claim):
   * each is answered on its own once it is final, although its seq is already behind.
   */
  readonly lateMedia: readonly number[];
  /**
   * Late media became final while a reply was being made, too late for it: the next burst is due
   * once that reply is done, although no seq past its range came.
   */
  readonly lateDue: boolean;
  /** Replies claimed so far; names the next one. */
  readonly claimed: number;
  readonly pausedBy: PauseCause | null;
  /** Replies queued for sending, given up on, and dropped because a human took over. */
  readonly sent: number;
  readonly failed: number;
  readonly dropped: number;
  /** The last failure to generate a reply, for operators; cleared by the next reply sent. */
  readonly lastError: string | null;
}

/** How long a burst is debounced: `debounceMs` after its latest message, `maxWaitMs` after its first at most. */
export interface DebounceTiming {
  readonly debounceMs: number;
  readonly maxWaitMs: number;
}

/** Seqs of the conversation's messages still waiting for their media (placeholders), as the queue window holds them. */
export type PendingMedia = readonly number[];

/**
 * Events. Each carries `now` (the machine reads no clock) and the settings it needs, read from
 * the bot when the event is sent, so a changed setting applies to the next decision.
 */
export type ConversationReplyEvent =
  /** A message of the correspondent is final (text at arrival, media once processed): never a placeholder. */
  | { type: 'message.finalized'; seq: number; now: number; timing: DebounceTiming; pendingMedia: PendingMedia; mediaWaitMs: number }
  /** The state's deadline came (the runtime's timer); ignored when it has not. */
  | { type: 'reply.deadline'; now: number; pendingMedia: PendingMedia; mediaWaitMs: number; maxAttempts: number }
  | { type: 'reply.generated'; replyId: string; text: string; now: number; typingMs: number }
  | { type: 'reply.failed'; replyId: string; error: string; now: number; retryAt: number | null; maxAttempts: number }
  /** The runtime will not answer (AI switched off, no model configured, bot gone): the burst is let go. */
  | { type: 'reply.abandoned'; reason: string }
  /** The account owner wrote to the correspondent from the phone (not a message Parley sent). */
  | { type: 'owner.wrote'; now: number; pauseMs: number }
  | { type: 'ai.paused'; now: number; durationMs: number | null }
  | { type: 'ai.resumed'; now: number };

interface Conversation {
  readonly botId: string;
  readonly correspondentId: string;
}

/** Ask the model for the reply: the window up to `throughSeq`. The runtime restarts it from state after a restart. */
export interface GenerateReplyParams extends Conversation {
  readonly replyId: string;
  readonly throughSeq: number;
  readonly attempt: number;
}

/** A reply being generated or typed is dropped: its call is aborted, its answer will be discarded. */
export interface DropReplyParams extends Conversation {
  readonly replyId: string;
  readonly reason: string;
}

/** Show the correspondent that the bot is typing, for `durationMs`. */
export interface ShowTypingParams extends Conversation {
  readonly durationMs: number;
}

/** Hand the reply to the outbox, once: keyed by `replyId`, so running it again queues nothing more. */
export interface QueueReplyParams extends Conversation {
  readonly replyId: string;
  readonly throughSeq: number;
  readonly text: string;
}

/** A model answer or failure for a reply that is no longer the one being made was ignored. */
export interface DiscardLateResultParams extends Conversation {
  readonly replyId: string;
  readonly eventType: 'reply.generated' | 'reply.failed';
}

/** Generating a reply failed for good (or an attempt failed and will be retried). */
export interface ReportFailureParams extends Conversation {
  readonly replyId: string;
  readonly attempt: number;
  readonly error: string;
  readonly willRetry: boolean;
}

/** A burst was let go without a reply. */
export interface ReportAbandonedParams extends Conversation {
  readonly throughSeq: number;
  readonly reason: string;
}

/** Every effect of the conversation-reply machine and its params. */
export interface ConversationReplyEffects {
  readonly generateReply: GenerateReplyParams;
  readonly dropReply: DropReplyParams;
  readonly showTyping: ShowTypingParams;
  readonly queueReply: QueueReplyParams;
  readonly discardLateResult: DiscardLateResultParams;
  readonly reportFailure: ReportFailureParams;
  readonly reportAbandoned: ReportAbandonedParams;
}

export function initialContext(input: ConversationReplyInput): ConversationReplyContext {
  return {
    ...input,
    latestSeq: input.answeredThrough,
    burstStartedAt: null,
    deadline: null,
    reply: null,
    lateMedia: [],
    lateDue: false,
    claimed: 0,
    pausedBy: null,
    sent: 0,
    failed: 0,
    dropped: 0,
    lastError: null,
  };
}

/** The stable name of a conversation's `n`th reply. */
export const replyIdOf = (context: Conversation, n: number): string => `${context.botId}|${context.correspondentId}#${n}`;

/** Whether a message the reply would answer still waits for its media. */
export const waitsForMedia = (context: ConversationReplyContext, pending: PendingMedia): boolean =>
  pending.some((seq) => seq > context.answeredThrough && seq <= context.latestSeq);

/** The debounce deadline after a message at `now`: `debounceMs` later, but no later than `maxWaitMs` after the burst began. */
export function debounceDeadline(burstStartedAt: number, now: number, timing: DebounceTiming): number {
  return Math.min(now + timing.debounceMs, burstStartedAt + Math.max(timing.maxWaitMs, timing.debounceMs));
}

/** Whether a finalized message is news: past every seq heard, or media a reply went out without. */
export const isNews = (context: ConversationReplyContext, seq: number): boolean => seq > context.latestSeq || context.lateMedia.includes(seq);
