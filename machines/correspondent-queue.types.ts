import type { EvictedMessage, OverLimitReport } from '../src/domain/queue-eviction.ts';
import type { IncomingMessage, PlaceholderMessage, QueueLimits, QueueMessage, QueueWindow } from '../src/domain/queue-message.ts';
import type { IncomingMedia } from '../src/domain/queue-window.ts';

/** What the runtime supplies when it creates (or rebuilds) a conversation's queue actor. */
export interface CorrespondentQueueInput {
  readonly botId: string;
  readonly correspondentId: string;
  readonly limits: QueueLimits;
  /** A window rebuilt from history on restore; an empty one when absent. */
  readonly window?: QueueWindow;
}

/** Serializable queue state: the window and the limits it is kept under. */
export interface CorrespondentQueueContext {
  readonly botId: string;
  readonly correspondentId: string;
  readonly limits: QueueLimits;
  readonly window: QueueWindow;
}

/** Every event that carries `now` uses it for age limits; the machine never reads a clock. */
export type CorrespondentQueueEvent =
  | { type: 'message.text-received'; message: IncomingMessage; now: number }
  /**
   * Part of the conversation but news to no listener: the bot's message queued for sending, the
   * owner's from the phone, a correspondent's reaction.
   */
  | { type: 'message.recorded'; message: IncomingMessage; now: number }
  | { type: 'message.media-received'; message: IncomingMedia; now: number }
  | { type: 'media.finalized'; mediaJobId: string; content: string; now: number }
  | { type: 'placeholder.injected'; message: PlaceholderMessage; now: number }
  | { type: 'queue.evict'; now: number }
  | { type: 'queue.pop-ready' }
  | { type: 'limits.changed'; limits: QueueLimits; now: number };

interface Conversation {
  readonly botId: string;
  readonly correspondentId: string;
}

/** A message is final and listeners hear about it: text at arrival, media at finalization (I3). */
export interface NotifyListenersParams extends Conversation {
  readonly message: QueueMessage;
}

/** Messages left the window (never the history) under a limit. */
export interface MessagesEvictedParams extends Conversation {
  readonly evicted: readonly EvictedMessage[];
}

/** The window stays over a limit because only protected messages remain in it. */
export interface LogOverLimitParams extends Conversation {
  readonly report: OverLimitReport;
}

/** A replay of a message already in the window was ignored. */
export interface DuplicateIgnoredParams extends Conversation {
  readonly providerMessageId: string;
  readonly messageId: number;
}

/** The job finished but its placeholder is not in the window (already final, or never injected). */
export interface FinalizeMissedParams extends Conversation {
  readonly mediaJobId: string;
}

/** The oldest final message was taken out of the window for its consumer. */
export interface MessagePoppedParams extends Conversation {
  readonly message: QueueMessage;
  readonly skippedPlaceholders: number;
}

/** New limits were invalid and were not applied. */
export interface LimitsRejectedParams extends Conversation {
  readonly errors: readonly string[];
}

/**
 * Every effect of the queue machine and its params. The history row of an accepted message is
 * written before the queue decides (write on arrival), so accepting asks for no write here.
 */
export interface CorrespondentQueueEffects {
  readonly notifyListeners: NotifyListenersParams;
  readonly messagesEvicted: MessagesEvictedParams;
  readonly logOverLimit: LogOverLimitParams;
  readonly duplicateIgnored: DuplicateIgnoredParams;
  readonly finalizeMissed: FinalizeMissedParams;
  readonly messagePopped: MessagePoppedParams;
  readonly limitsRejected: LimitsRejectedParams;
}

/** Effects that report what a limit pass did. */
export type EvictionEffect =
  | { type: 'messagesEvicted'; params: MessagesEvictedParams }
  | { type: 'logOverLimit'; params: LogOverLimitParams };

/** The effects that report a limit pass: evictions, and an over-limit window. */
export function evictionEffects(
  context: Conversation,
  evicted: readonly EvictedMessage[],
  overLimit: OverLimitReport | null,
): EvictionEffect[] {
  const { botId, correspondentId } = context;
  const effects: EvictionEffect[] = [];
  if (evicted.length > 0) effects.push({ type: 'messagesEvicted', params: { botId, correspondentId, evicted } });
  if (overLimit !== null) effects.push({ type: 'logOverLimit', params: { botId, correspondentId, report: overLimit } });
  return effects;
}
