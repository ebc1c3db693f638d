import { formatPendingMedia } from './media-content.ts';
import type { MediaDescriptor } from './media-kind.ts';
import { enforceLimits, measureOverLimit } from './queue-eviction.ts';
import type { EvictedMessage, OverLimitReport } from './queue-eviction.ts';
import { truncateContent } from './queue-limits.ts';
import { contentSize, isPlaceholder } from './queue-message.ts';
import type { IncomingMessage, PlaceholderMessage, QueueLimits, QueueMessage, QueueWindow } from './queue-message.ts';

/** A media message as a provider hands it over; its placeholder content is derived from `media`. */
export interface IncomingMedia extends Omit<IncomingMessage, 'content'> {
  readonly mediaJobId: string;
  readonly media: MediaDescriptor;
}

/** Result of accepting a message. `notify` tells whether listeners must hear about it now. */
export interface AddResult<TNotify extends boolean> {
  readonly window: QueueWindow;
  readonly message: QueueMessage;
  readonly notify: TNotify;
  readonly evicted: readonly EvictedMessage[];
  readonly overLimit: OverLimitReport | null;
}

/** Outcome of finalizing a placeholder; `found: false` when the job has no placeholder in the window. */
export type FinalizeResult =
  | {
      readonly found: true;
      readonly window: QueueWindow;
      readonly message: QueueMessage;
      readonly notify: true;
      readonly evicted: readonly EvictedMessage[];
      readonly overLimit: OverLimitReport | null;
    }
  | { readonly found: false; readonly window: QueueWindow; readonly notify: false };

/** Outcome of putting a recovered placeholder back. */
export interface InjectResult {
  readonly window: QueueWindow;
  /** True when a message with the same id was already in the window and was replaced in place. */
  readonly replaced: boolean;
  readonly overLimit: OverLimitReport | null;
}

/** Outcome of taking the oldest final message out of the window. */
export interface PopResult {
  readonly window: QueueWindow;
  /** The oldest message that is not a placeholder, or `null` when there is none. */
  readonly message: QueueMessage | null;
  /** Placeholders passed over (they stay in the window, in place). */
  readonly skippedPlaceholders: number;
}

/** Accepts a text message: it is final at once, so listeners are notified now. */
export function addText(window: QueueWindow, limits: QueueLimits, incoming: IncomingMessage, now: number): AddResult<true> {
  const message = buildMessage(window.nextId, incoming, incoming.content, null, limits, now);
  return { ...accept(window, limits, message, now), notify: true };
}

/**
 * Accepts a media message as a placeholder. Listeners are not notified: they hear about it once,
 * when `finalizeMedia` gives it its content.
 */
export function addMediaPlaceholder(window: QueueWindow, limits: QueueLimits, incoming: IncomingMedia, now: number): AddResult<false> {
  const { mediaJobId, media, ...rest } = incoming;
  const message = buildMessage(window.nextId, rest, formatPendingMedia(media), mediaJobId, limits, now);
  return { ...accept(window, limits, message, now), notify: false };
}

/**
 * Gives the placeholder of `mediaJobId` its final content: content, size and the window total
 * change together and the message stops being a placeholder. A second call for the same job (or
 * one whose placeholder is gone) finds nothing, so listeners are notified exactly once.
 */
export function finalizeMedia(window: QueueWindow, limits: QueueLimits, mediaJobId: string, content: string, now: number): FinalizeResult {
  const index = window.messages.findIndex((m) => m.mediaJobId === mediaJobId);
  const placeholder = window.messages[index];
  if (placeholder === undefined) return { found: false, window, notify: false };

  const finalContent = truncateContent(content, limits.maxCharactersPerMessage);
  const message: QueueMessage = { ...placeholder, content: finalContent, size: contentSize(finalContent), mediaJobId: null };
  const messages = window.messages.with(index, message);
  const updated: QueueWindow = { ...window, messages, totalChars: window.totalChars - placeholder.size + message.size };
  const { window: next, evicted, overLimit } = enforceLimits(updated, limits, now, [message.id]);
  return { found: true, window: next, message, notify: true, evicted, overLimit };
}

/**
 * Puts a recovered placeholder back in the window at its id's position (replacing a message with
 * the same id) without notifying anyone. `nextId` stays above the injected id, so messages
 * accepted after recovery never reuse it.
 */
export function injectPlaceholder(window: QueueWindow, limits: QueueLimits, placeholder: PlaceholderMessage): InjectResult {
  const content = truncateContent(placeholder.content, limits.maxCharactersPerMessage);
  const message: QueueMessage = { ...placeholder, content, size: contentSize(content) };
  const existing = window.messages.find((m) => m.id === message.id);
  const others = window.messages.filter((m) => m.id !== message.id);
  const at = others.findIndex((m) => m.id > message.id);
  const messages = at === -1 ? [...others, message] : others.toSpliced(at, 0, message);
  const next: QueueWindow = {
    messages,
    totalChars: window.totalChars - (existing?.size ?? 0) + message.size,
    nextId: Math.max(window.nextId, message.id + 1),
  };
  return { window: next, replaced: existing !== undefined, overLimit: measureOverLimit(next, limits) };
}

/** Removes and returns the oldest message that is not a placeholder. */
export function popReady(window: QueueWindow): PopResult {
  const index = window.messages.findIndex((m) => !isPlaceholder(m));
  const message = window.messages[index];
  if (message === undefined) {
    return { window, message: null, skippedPlaceholders: window.messages.length };
  }
  const next: QueueWindow = {
    ...window,
    messages: window.messages.toSpliced(index, 1),
    totalChars: window.totalChars - message.size,
  };
  return { window: next, message, skippedPlaceholders: index };
}

/** The message in the window carrying this provider id, if any (a replay of it is a duplicate). */
export function findByProviderMessageId(window: QueueWindow, providerMessageId: string): QueueMessage | undefined {
  return window.messages.find((m) => m.providerMessageId === providerMessageId);
}

function buildMessage(
  id: number,
  incoming: Omit<IncomingMessage, 'content'>,
  rawContent: string,
  mediaJobId: string | null,
  limits: QueueLimits,
  now: number,
): QueueMessage {
  const content = truncateContent(rawContent, limits.maxCharactersPerMessage);
  return {
    id,
    content,
    sender: incoming.sender,
    source: incoming.source,
    acceptedAt: now,
    size: contentSize(content),
    originatingAt: incoming.originatingAt,
    group: incoming.group,
    providerMessageId: incoming.providerMessageId,
    mediaJobId,
  };
}

function accept(window: QueueWindow, limits: QueueLimits, message: QueueMessage, now: number) {
  const appended: QueueWindow = {
    messages: [...window.messages, message],
    totalChars: window.totalChars + message.size,
    nextId: message.id + 1,
  };
  const { window: next, evicted, overLimit } = enforceLimits(appended, limits, now, [message.id]);
  return { window: next, message, evicted, overLimit };
}
