import { TRUNCATION_MARKER, cutToSize, truncateContent } from './queue-limits.ts';
import { contentSize, isPlaceholder, sumSizes } from './queue-message.ts';
import type { QueueLimits, QueueMessage, QueueWindow } from './queue-message.ts';

/**
 * The slim form a correspondent queue stores of its window. Every message of the window is a
 * history row already (written on arrival, finalized in place), so the stored form keeps only
 * which rows are in the window and what history cannot tell: which of them are still
 * placeholders, and sizes cut under a per-message limit other than the current one. Decoding with
 * the rows gives back exactly the window that was encoded.
 */
export interface StoredWindow {
  readonly nextId: number;
  readonly totalChars: number;
  /** Ids in window order as inclusive runs `[first, last]`: one run until a pop leaves a gap. */
  readonly members: readonly IdRun[];
  readonly placeholders: readonly StoredPlaceholder[];
  /** Size by id of final messages whose cut the current limits do not reproduce; absent when none. */
  readonly sizes?: Readonly<Record<string, number>>;
  /** Acceptance time of the newest message, so a conversation list needs no history read. */
  readonly lastAcceptedAt: number | null;
}

export type IdRun = readonly [first: number, last: number];

/** A placeholder's text is kept: its history row may already hold the finished result. */
export interface StoredPlaceholder {
  readonly id: number;
  readonly mediaJobId: string;
  readonly content: string;
}

/** A message as its history row holds it: the content whole, before any per-message cut. */
export type HistoryMessage = Omit<QueueMessage, 'size' | 'mediaJobId'>;

export interface DecodedWindow {
  readonly window: QueueWindow;
  /** Ids whose history row was not found; the window is rebuilt without them. */
  readonly missing: readonly number[];
}

export function encodeWindow(window: QueueWindow, limits: QueueLimits): StoredWindow {
  const members: [number, number][] = [];
  const placeholders: StoredPlaceholder[] = [];
  let sizes: Record<string, number> | undefined;
  for (const m of window.messages) {
    const run = members.at(-1);
    if (run !== undefined && m.id === run[1] + 1) run[1] = m.id;
    else members.push([m.id, m.id]);
    if (isPlaceholder(m)) placeholders.push({ id: m.id, mediaJobId: m.mediaJobId, content: m.content });
    else if (!cutIsReproducible(m.content, limits.maxCharactersPerMessage)) (sizes ??= {})[m.id] = m.size;
  }
  const stored: StoredWindow = {
    nextId: window.nextId,
    totalChars: window.totalChars,
    members,
    placeholders,
    lastAcceptedAt: window.messages.at(-1)?.acceptedAt ?? null,
  };
  // Absent rather than undefined: the store drops undefined fields, and a read-back must compare equal.
  return sizes === undefined ? stored : { ...stored, sizes };
}

/** The window `stored` was encoded from, given the history rows of its members by id. */
export function decodeWindow(stored: StoredWindow, rows: ReadonlyMap<number, HistoryMessage>, limits: QueueLimits): DecodedWindow {
  const placeholders = new Map(stored.placeholders.map((p) => [p.id, p]));
  const messages: QueueMessage[] = [];
  const missing: number[] = [];
  for (const id of memberIds(stored.members)) {
    const row = rows.get(id);
    if (row === undefined) {
      missing.push(id);
      continue;
    }
    const placeholder = placeholders.get(id);
    if (placeholder !== undefined) {
      messages.push(windowMessage(row, placeholder.content, placeholder.mediaJobId));
      continue;
    }
    const size = stored.sizes?.[id];
    const content = size === undefined ? truncateContent(row.content, limits.maxCharactersPerMessage) : cutToSize(row.content, size);
    messages.push(windowMessage(row, content, null));
  }
  return { window: { messages, totalChars: sumSizes(messages), nextId: stored.nextId }, missing };
}

/** A final message of `size` characters rebuilt from its history row. */
export function finalMessageFromHistory(row: HistoryMessage, size: number): QueueMessage {
  return windowMessage(row, cutToSize(row.content, size), null);
}

export function* memberIds(members: readonly IdRun[]): Generator<number> {
  for (const [first, last] of members) for (let id = first; id <= last; id++) yield id;
}

export function memberCount(members: readonly IdRun[]): number {
  return members.reduce((n, [first, last]) => n + last - first + 1, 0);
}

/** Whether a value has the stored window's shape (a snapshot of an unknown layout does not). */
export function isStoredWindow(value: unknown): value is StoredWindow {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Partial<Record<keyof StoredWindow, unknown>>;
  return typeof w.nextId === 'number' && typeof w.totalChars === 'number' && Array.isArray(w.members) && Array.isArray(w.placeholders);
}

function windowMessage(row: HistoryMessage, content: string, mediaJobId: string | null): QueueMessage {
  return {
    id: row.id,
    content,
    sender: row.sender,
    source: row.source,
    acceptedAt: row.acceptedAt,
    size: contentSize(content),
    originatingAt: row.originatingAt,
    group: row.group,
    providerMessageId: row.providerMessageId,
    mediaJobId,
  };
}

/**
 * Whether cutting the history content under `limit` surely gives `content` back, so its size
 * need not be stored. Content without the marker was never cut (valid limits always leave room
 * for it) and stays whole under any limit it fits. Content ending with the marker may have been
 * cut under another limit: it is reproduced only when it is exactly `limit` long and its kept
 * part does not end in a high surrogate, which cutting at `limit` would drop.
 */
function cutIsReproducible(content: string, limit: number): boolean {
  if (content.length > limit) return false;
  if (!content.endsWith(TRUNCATION_MARKER)) return true;
  const lastKept = content.charCodeAt(limit - TRUNCATION_MARKER.length - 1);
  return content.length === limit && !(lastKept >= 0xd800 && lastKept <= 0xdbff);
}
