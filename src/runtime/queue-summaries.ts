import type { QueueMessage } from '../domain/queue-message.ts';
import type { ActorSnapshotStore } from '../ports/actor-snapshot-store.port.ts';
import { queueActorId } from './conversations.ts';
import type { QueueActor } from './conversations.ts';

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
 * snapshot, so it wins.
 */
export interface QueueReader {
  readonly store: ActorSnapshotStore;
  readonly loaded: () => readonly QueueActor[];
}

interface WindowShape {
  readonly totalChars?: number;
  readonly messages?: ReadonlyArray<{ readonly mediaJobId?: string | null; readonly acceptedAt?: number }>;
}

// Enough of a stored window to count it, so a summary never reads message bodies.
const SUMMARY_FIELDS = ['context.correspondentId', 'context.window.totalChars', 'context.window.messages.mediaJobId', 'context.window.messages.acceptedAt'];

function storedContext(snapshot: unknown): { correspondentId?: string; window?: WindowShape } {
  const context = (snapshot as { context?: unknown } | null | undefined)?.context;
  return typeof context === 'object' && context !== null ? (context as { correspondentId?: string; window?: WindowShape }) : {};
}

function summarize(botId: string, correspondentId: string, window: WindowShape | undefined): QueueSummary {
  const messages = window?.messages ?? [];
  return {
    botId,
    correspondentId,
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
    byId.set(record.id, summarize(record.botId, context.correspondentId ?? record.id, context.window));
  }
  for (const queue of reader.loaded()) {
    if (botId !== undefined && queue.botId !== botId) continue;
    const { correspondentId, window } = queue.getSnapshot().context;
    byId.set(queue.id, summarize(queue.botId, correspondentId, window));
  }
  return [...byId.values()];
}

/** The window of one conversation, live when loaded; `null` when the bot never heard from `correspondentId`. */
export async function queueWindow(reader: QueueReader, botId: string, correspondentId: string): Promise<readonly QueueMessage[] | null> {
  const id = queueActorId(botId, correspondentId);
  const live = reader.loaded().find((q) => q.id === id);
  if (live !== undefined) return live.getSnapshot().context.window.messages;
  const stored = await reader.store.get(id);
  if (stored === null) return null;
  return (storedContext(stored.snapshot).window?.messages ?? []) as readonly QueueMessage[];
}
