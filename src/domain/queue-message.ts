/** Who wrote a message: the person on the other side, the bot itself, or Parley. */
/** `owner`: the account owner, writing from the phone rather than through Parley. */
export type MessageSource = 'user' | 'bot' | 'owner' | 'system';

/** The author of a message as the provider reports it. */
export interface Sender {
  /** Provider-level identifier (a WhatsApp JID or phone number). */
  readonly id: string;
  readonly displayName: string | null;
}

/**
 * One message in a correspondent's live window. Plain data: it is stored in actor snapshots and
 * history as is.
 */
export interface QueueMessage {
  /** Per-correspondent sequence number; strictly increasing in arrival order. */
  readonly id: number;
  readonly content: string;
  readonly sender: Sender;
  readonly source: MessageSource;
  /** Epoch ms when Parley accepted the message; age limits are measured from here. */
  readonly acceptedAt: number;
  /** Length of `content`; `QueueWindow.totalChars` is the sum of these. */
  readonly size: number;
  /** Epoch ms the provider stamped on the message, when it reports one. */
  readonly originatingAt: number | null;
  /** Group chat id, or `null` for a one-to-one chat. */
  readonly group: string | null;
  /** The provider's own message id; replays of the same id are duplicates. */
  readonly providerMessageId: string | null;
  /** Set while the message is a placeholder awaiting its media job; `null` once final. */
  readonly mediaJobId: string | null;
}

/** A placeholder: a media message whose content is still being produced. */
export type PlaceholderMessage = QueueMessage & { readonly mediaJobId: string };

/** What a provider hands over for a new message; the window assigns id, time and size. */
export interface IncomingMessage {
  readonly content: string;
  readonly sender: Sender;
  readonly source: MessageSource;
  readonly originatingAt: number | null;
  readonly group: string | null;
  readonly providerMessageId: string | null;
}

/** Retention limits of one window. All values are positive. */
export interface QueueLimits {
  readonly maxMessages: number;
  readonly maxCharacters: number;
  readonly maxAgeDays: number;
  /** Longer content is cut to this length, marker included. */
  readonly maxCharactersPerMessage: number;
}

/** The live conversation window of one correspondent, oldest message first. */
export interface QueueWindow {
  readonly messages: readonly QueueMessage[];
  /** Always equal to the sum of `size` over `messages`. */
  readonly totalChars: number;
  /** Id the next accepted message receives; above every id ever held. */
  readonly nextId: number;
}

/** True while the message waits for its media job; placeholders are never evicted or popped. */
export function isPlaceholder(message: QueueMessage): message is PlaceholderMessage {
  return message.mediaJobId !== null;
}

/** Size of a piece of content as counted against character limits. */
export function contentSize(content: string): number {
  return content.length;
}

/** A window with no messages whose first id is `firstId`. */
export function emptyWindow(firstId = 1): QueueWindow {
  return { messages: [], totalChars: 0, nextId: firstId };
}

/**
 * Builds a window from recovered messages (e.g. history rows), sorted by id, with sizes and the
 * total recomputed and `nextId` above both `nextIdFloor` and every recovered id.
 */
export function restoreWindow(messages: readonly QueueMessage[], nextIdFloor = 1): QueueWindow {
  const sorted = messages
    .map((m) => ({ ...m, size: contentSize(m.content) }))
    .sort((a, b) => a.id - b.id);
  const maxId = sorted.reduce((max, m) => Math.max(max, m.id), 0);
  return {
    messages: sorted,
    totalChars: sumSizes(sorted),
    nextId: Math.max(nextIdFloor, maxId + 1),
  };
}

/** Sum of `size` over the messages; the value `totalChars` must always equal. */
export function sumSizes(messages: readonly QueueMessage[]): number {
  return messages.reduce((total, m) => total + m.size, 0);
}
