import type { QueueLimits } from '../domain/queue-message.ts';
import type { BotRecord } from '../ports/bot-store.port.ts';
import type { MediaJobRecord, MediaJobState } from '../ports/media-job-store.port.ts';
import type { OutboxRecord, OutboxState } from '../ports/outbox-store.port.ts';
import type { QueueSummary } from './queue-summaries.ts';

/** Jobs that still owe their conversation a result. */
const OPEN_JOB_STATES: readonly MediaJobState[] = ['pending', 'processing', 'holding', 'completed'];

/** Bot settings as operators write them; each part is validated by the layer that owns it. */
export interface BotSettings {
  readonly queue?: Partial<QueueLimits>;
  readonly ai?: { readonly enabled: boolean; readonly model?: string; readonly systemPrompt?: string };
  readonly media?: Readonly<Record<string, unknown>>;
}

export interface CreateBotRequest extends BotSettings {
  readonly id: string;
  readonly provider: string;
}

export interface BotView {
  readonly id: string;
  readonly provider: string;
  readonly state: string;
  readonly desiredState: 'running' | 'stopped';
  readonly pendingMediaJobs: number;
  readonly queues: { readonly correspondents: number; readonly messages: number; readonly placeholders: number };
  readonly lastError: string | null;
  readonly settings: BotSettings;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface CorrespondentSummary {
  readonly id: string;
  readonly messages: number;
  readonly characters: number;
  readonly placeholders: number;
  readonly lastAcceptedAt: number | null;
}

export interface JobView {
  readonly id: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly kind: string;
  readonly state: MediaJobState;
  readonly attempt: number;
  readonly error: string | null;
}

/** One page of `GET /v1/jobs`; `nextCursor` is `null` on the last page. */
export interface JobPage {
  readonly jobs: JobView[];
  readonly nextCursor: string | null;
}

export interface OutboxView {
  readonly id: string;
  readonly to: string;
  readonly text: string;
  readonly state: OutboxState;
  readonly attempt: number;
  readonly lastError: string | null;
  readonly nextAttemptAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What the bot actor reports, when this process hosts it. */
export interface LiveBot {
  readonly state: string;
  readonly lastError: string | null;
}

export function botView(record: BotRecord, live: LiveBot | null, jobs: Partial<Record<MediaJobState, number>>, conversations: readonly QueueSummary[]): BotView {
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
    settings: record.settings as BotSettings,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** Most recently active first; ties (and conversations never active) by id. */
export function correspondentList(conversations: readonly QueueSummary[]): CorrespondentSummary[] {
  const list = conversations.map(({ correspondentId, messages, characters, placeholders, lastAcceptedAt }) => ({
    id: correspondentId, messages, characters, placeholders, lastAcceptedAt,
  }));
  return list.sort((a, b) => (b.lastAcceptedAt ?? 0) - (a.lastAcceptedAt ?? 0) || a.id.localeCompare(b.id));
}

export function jobView(job: MediaJobRecord): JobView {
  return { id: job.id, botId: job.botId, correspondentId: job.correspondentId, kind: job.kind, state: job.state, attempt: job.attempt, error: job.error };
}

export function outboxView(r: OutboxRecord): OutboxView {
  return { id: r.id, to: r.to, text: r.text, state: r.state, attempt: r.attempt, lastError: r.lastError, nextAttemptAt: r.nextAttemptAt, createdAt: r.createdAt, updatedAt: r.updatedAt };
}
