import type { QueueMessage } from '../domain/queue-message.ts';
import { isStoredWindow, memberCount } from '../domain/stored-window.ts';
import type { StoredWindow } from '../domain/stored-window.ts';
import type { ActorSnapshotStore, QueuePosition } from '../ports/actor-snapshot-store.port.ts';
import { queueActorId } from '../runtime/conversations/conversations.ts';
import type { QueueActor } from '../runtime/conversations/conversations.ts';
import { loadWindow } from '../runtime/conversations/queue-codec.ts';
import type { QueueHistory, StoredQueueContext } from '../runtime/conversations/queue-codec.ts';

/** One conversation of a bot, counted from its queue window. */
export interface QueueSummary {
  readonly botId: string;
  readonly correspondentId: string;
  readonly messages: number;
  readonly characters: number;
  readonly placeholders: number;
  readonly lastAcceptedAt: number | null;
}

/**
 * Where conversations are read from: the store holds every queue ever persisted, including those
 * this process has not loaded (yet); a loaded queue may be a few milliseconds ahead of its stored
 * snapshot, so it wins. The window of a queue not loaded is rebuilt from its history rows.
 */
export interface QueueReader {
  readonly store: ActorSnapshotStore;
  readonly history: QueueHistory;
  readonly loaded: () => readonly QueueActor[];
}

/** A window as machine version 1 stored it: every message, bodies included. */
interface WholeWindow {
  readonly totalChars?: number;
  readonly messages?: ReadonlyArray<{ readonly mediaJobId?: string | null; readonly acceptedAt?: number }>;
}

type Counts = Omit<QueueSummary, 'botId' | 'correspondentId'>;

// Enough of a stored window to count it, in either layout, so a summary never reads a message body.
const SUMMARY_FIELDS = [
  'context.correspondentId', 'context.window.totalChars', 'context.window.members', 'context.window.placeholders.id',
  'context.window.lastAcceptedAt', 'context.window.messages.mediaJobId', 'context.window.messages.acceptedAt',
];

function storedContext(snapshot: unknown): { correspondentId?: string; window?: unknown } {
  const context = (snapshot as { context?: unknown } | null | undefined)?.context;
  return typeof context === 'object' && context !== null ? (context as { correspondentId?: string; window?: unknown }) : {};
}

/** The projected fields of a slim window (no `nextId`, placeholders without their text). */
type SlimFields = Partial<Pick<StoredWindow, 'totalChars' | 'members' | 'placeholders' | 'lastAcceptedAt'>>;

function storedCounts(window: unknown): Counts {
  const slim = window as SlimFields | undefined;
  if (!Array.isArray(slim?.members)) return windowCounts(window as WholeWindow | undefined);
  return { messages: memberCount(slim.members), characters: slim.totalChars ?? 0, placeholders: slim.placeholders?.length ?? 0, lastAcceptedAt: slim.lastAcceptedAt ?? null };
}

function windowCounts(window: WholeWindow | undefined): Counts {
  const messages = window?.messages ?? [];
  return {
    messages: messages.length,
    characters: window?.totalChars ?? 0,
    placeholders: messages.filter((m) => m.mediaJobId !== null && m.mediaJobId !== undefined).length,
    lastAcceptedAt: messages.at(-1)?.acceptedAt ?? null,
  };
}

/** Summaries of every conversation of one bot, or of all bots when `botId` is absent. */
export async function queueSummaries(reader: QueueReader, botId?: string): Promise<QueueSummary[]> {
  const stored = await reader.store.list({ kind: 'correspondent-queue', ...(botId === undefined ? {} : { botId }) }, { fields: SUMMARY_FIELDS });
  const byId = new Map<string, QueueSummary>();
  for (const record of stored) {
    const context = storedContext(record.snapshot);
    byId.set(record.id, { botId: record.botId, correspondentId: context.correspondentId ?? record.id, ...storedCounts(context.window) });
  }
  for (const queue of reader.loaded()) {
    if (botId !== undefined && queue.botId !== botId) continue;
    const { correspondentId, window } = queue.getSnapshot().context;
    byId.set(queue.id, { botId: queue.botId, correspondentId, ...windowCounts(window) });
  }
  return [...byId.values()];
}

/**
 * One page of a bot's conversations, most recently active first as stored, counted live where
 * loaded. `next` is where the following page starts, `null` on the last page.
 */
export async function queuePage(reader: QueueReader, botId: string, page: { after?: QueuePosition; limit: number }): Promise<{ summaries: QueueSummary[]; next: QueuePosition | null }> {
  // One more than asked for tells whether another page follows.
  const stored = await reader.store.pageQueues(botId, { ...page, limit: page.limit + 1 }, { fields: SUMMARY_FIELDS });
  const records = stored.slice(0, page.limit);
  const loaded = new Map(reader.loaded().filter((q) => q.botId === botId).map((q) => [q.id, q]));
  const summaries = records.map((record): QueueSummary => {
    const live = loaded.get(record.id);
    if (live !== undefined) {
      const { correspondentId, window } = live.getSnapshot().context;
      return { botId, correspondentId, ...windowCounts(window) };
    }
    const context = storedContext(record.snapshot);
    return { botId, correspondentId: context.correspondentId ?? record.id, ...storedCounts(context.window) };
  });
  const last = records.at(-1);
  const next = stored.length > page.limit && last !== undefined ? { lastAcceptedAt: storedCounts(storedContext(last.snapshot).window).lastAcceptedAt, id: last.id } : null;
  return { summaries, next };
}

/** The window of one conversation, live when loaded; `null` when the bot never heard from `correspondentId`. */
export async function queueWindow(reader: QueueReader, botId: string, correspondentId: string): Promise<readonly QueueMessage[] | null> {
  const id = queueActorId(botId, correspondentId);
  const live = reader.loaded().find((q) => q.id === id);
  if (live !== undefined) return live.getSnapshot().context.window.messages;
  const stored = await reader.store.get(id);
  if (stored === null) return null;
  const context = storedContext(stored.snapshot);
  if (isStoredWindow(context.window)) return (await loadWindow(reader.history, context as StoredQueueContext)).window.messages;
  return ((context.window as WholeWindow | undefined)?.messages ?? []) as readonly QueueMessage[];
}
