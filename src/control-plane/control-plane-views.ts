import type { BotOwnerView, BotView } from './dto/bot.dto.ts';
import type { CorrespondentSummary, QueueMessageView } from './dto/conversation.dto.ts';
import type { JobView } from './dto/job.dto.ts';
import type { OutboxEntry } from './dto/message.dto.ts';
import type { QueueMessage } from '../domain/queue-message.ts';
import type { BotRecord } from '../ports/bot-store.port.ts';
import type { MediaJobRecord, MediaJobState } from '../ports/media-job-store.port.ts';
import type { OutboxRecord } from '../ports/outbox-store.port.ts';
import type { QueueSummary } from './queue-summaries.ts';
import { knownSettings } from './bot-settings.ts';

/** Jobs that still owe their conversation a result. */
const OPEN_JOB_STATES: readonly MediaJobState[] = ['pending', 'processing', 'holding', 'completed'];

/** What the bot actor reports: live where this instance hosts it, else as its host last stored it. */
export interface LiveBot {
  readonly state: string;
  readonly lastError: string | null;
  /** Reconnects in a row since the last successful connection, the next one's time (epoch ms) and why the last drop happened. */
  readonly reconnect: { readonly attempt: number; readonly retryAt: number | null; readonly lastDisconnect: string | null };
}

export function botView(
  record: BotRecord, live: LiveBot | null, jobs: Partial<Record<MediaJobState, number>>, conversations: readonly QueueSummary[], owner: BotOwnerView | null,
): BotView {
  const queues = { correspondents: 0, messages: 0, placeholders: 0 };
  for (const c of conversations) {
    queues.correspondents += 1;
    queues.messages += c.messages;
    queues.placeholders += c.placeholders;
  }
  return {
    id: record.id,
    provider: record.provider,
    state: live?.state ?? 'stopped',
    desiredState: record.desiredState,
    pendingMediaJobs: OPEN_JOB_STATES.reduce((sum, s) => sum + (jobs[s] ?? 0), 0),
    queues,
    lastError: live?.lastError ?? null,
    reconnect: {
      attempt: live?.reconnect.attempt ?? 0,
      nextAt: live?.reconnect.retryAt == null ? null : new Date(live.reconnect.retryAt),
      lastDisconnect: live?.reconnect.lastDisconnect ?? null,
    },
    // Only what the schemas know: nothing stored beside them (old free-form keys, secrets) is echoed.
    settings: knownSettings(record.settings),
    owner,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** Most recently active first; ties (and conversations never active) by id. */
export function correspondentList(conversations: readonly QueueSummary[]): CorrespondentSummary[] {
  const sorted = [...conversations].sort((a, b) => (b.lastAcceptedAt ?? 0) - (a.lastAcceptedAt ?? 0) || a.correspondentId.localeCompare(b.correspondentId));
  return sorted.map(({ correspondentId, messages, characters, placeholders, lastAcceptedAt }) => ({
    id: correspondentId, messages, characters, placeholders, lastAcceptedAt: lastAcceptedAt === null ? null : new Date(lastAcceptedAt),
  }));
}

/** A window message as the API shows it: times as ISO 8601, like every other time the API gives. */
export function queueMessageView(m: QueueMessage): QueueMessageView {
  return { ...m, acceptedAt: new Date(m.acceptedAt), originatingAt: m.originatingAt === null ? null : new Date(m.originatingAt) };
}

export function jobView(job: MediaJobRecord): JobView {
  return {
    id: job.id, botId: job.botId, correspondentId: job.correspondentId, messageId: job.messageId, kind: job.kind, mimetype: job.mimetype,
    // Rows written before media was staged lack these fields.
    pool: job.pool ?? null, sizeBytes: job.sizeBytes ?? null,
    state: job.state, statePath: job.statePath, attempt: job.attempt, error: job.error, createdAt: job.createdAt, updatedAt: job.updatedAt,
  };
}

export function outboxView(r: OutboxRecord): OutboxEntry {
  return { id: r.id, to: r.correspondentId, text: r.text, state: r.state, attempt: r.attempt, lastError: r.error, nextAttemptAt: r.state === 'pending' || r.state === 'holding' ? laterOf(r.notBefore, r.createdAt) : null, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

// A message never tried is due from its creation on (its `notBefore` is the epoch).
const laterOf = (a: Date, b: Date): Date => (a.getTime() > b.getTime() ? a : b);
