import type { FinalizePlaceholderParams } from '../../../machines/media-job.machine.ts';
import { formatMediaContent } from '../../domain/media-content.ts';
import { isMediaKind } from '../../domain/media-kind.ts';
import type { Logger } from '../../logging/logger.ts';
import type { HistoryRecord, HistoryStore } from '../../ports/history-store.port.ts';
import type { MediaJobStore } from '../../ports/media-job-store.port.ts';
import type { StagedFile } from '../../ports/media-store.port.ts';
import type { MediaJobHost } from './media-job-host.ts';

export interface JanitorOptions {
  /** How often the janitor runs. */
  readonly intervalMs: number;
  /** A job or placeholder older than this without a live lease is dead-lettered. */
  readonly staleMs: number;
  /** A staged file no job refers to is removed once it is this old (its job may still be on the way). */
  readonly orphanGraceMs: number;
  /** A failed job keeps its staged file this long for an operator's retry; then it is discarded and the file released. */
  readonly failedRetentionMs: number;
  /** Items looked at per kind and run. */
  readonly batch: number;
}

export const DEFAULT_JANITOR: JanitorOptions = { intervalMs: 3_600_000, staleMs: 3 * 3_600_000, orphanGraceMs: 10 * 60_000, failedRetentionMs: 86_400_000, batch: 1000 };

/** What one run did. */
export interface JanitorReport {
  readonly deadLettered: number;
  readonly placeholdersEnded: number;
  readonly orphansRemoved: number;
  readonly failedDiscarded: number;
  readonly rerouted: number;
}

export interface MediaJanitorDeps extends Partial<JanitorOptions> {
  readonly jobs: MediaJobStore;
  readonly host: Pick<MediaJobHost, 'dispatch'>;
  readonly history: Pick<HistoryStore, 'listPlaceholders'>;
  readonly conversations: { finalize(params: FinalizePlaceholderParams): Promise<void> };
  readonly staging: { list(): AsyncIterable<StagedFile>; release(key: string): Promise<void> };
  /** Moves unclaimed jobs of pools that no longer exist to the pools that serve them; resolves with how many. */
  readonly rerouteStranded?: () => Promise<number>;
  /**
   * Whether the bot's conversations live in this process. Stale jobs and placeholders of bots
   * hosted elsewhere are that instance's janitor's to end. Absent: every bot is hosted here.
   */
  readonly hosts?: (botId: string) => boolean;
  /** The bots hosted here, so the stale-job check lists only theirs. */
  readonly hostedBotIds?: () => readonly string[];
  readonly clock: () => number;
  readonly logger: Logger;
}

/**
 * Ends what nothing else will (DESIGN §6): jobs left unprocessed past the stale age without a live
 * lease are dead-lettered through their machine (a note reaches the conversation, and a worker
 * still running finds its result fenced off); a placeholder whose job was never stored is ended
 * with a note; staged files no job refers to are removed; failed jobs past their retention are
 * discarded, which releases their files. Jobs held for a stopped bot wait for it. Jobs and
 * placeholders are ended only for bots hosted here, where their conversations live; files and
 * failed jobs are shared, and any instance's janitor may clear them.
 */
export function createMediaJanitor(deps: MediaJanitorDeps) {
  const options: JanitorOptions = {
    intervalMs: deps.intervalMs ?? DEFAULT_JANITOR.intervalMs,
    staleMs: deps.staleMs ?? DEFAULT_JANITOR.staleMs,
    orphanGraceMs: deps.orphanGraceMs ?? DEFAULT_JANITOR.orphanGraceMs,
    failedRetentionMs: deps.failedRetentionMs ?? DEFAULT_JANITOR.failedRetentionMs,
    batch: deps.batch ?? DEFAULT_JANITOR.batch,
  };
  const log = deps.logger.child({ scope: 'media-janitor' });
  const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<JanitorReport> | null = null;
  const hosted = (botId: string) => deps.hosts?.(botId) ?? true;

  async function deadLetterStale(now: number): Promise<number> {
    const cutoff = now - options.staleMs;
    const botIds = deps.hostedBotIds?.();
    if (botIds?.length === 0) return 0;
    const candidates = await deps.jobs.list({ states: ['pending', 'processing'], limit: options.batch, ...(botIds === undefined ? {} : { botIds }) });
    let count = 0;
    for (const job of candidates) {
      if (job.createdAt.getTime() >= cutoff) break;
      if (!hosted(job.botId) || (job.leaseUntil !== null && job.leaseUntil.getTime() > now)) continue;
      const reason = `not processed within ${hours(options.staleMs)}`;
      await deps.host.dispatch(job.id, { type: 'job.dead-lettered', reason });
      count += 1;
    }
    return count;
  }

  async function endOrphanPlaceholders(now: number): Promise<number> {
    let count = 0;
    for (const row of await deps.history.listPlaceholders(new Date(now - options.staleMs), options.batch)) {
      if (row.mediaJobId === null || !hosted(row.botId) || (await deps.jobs.get(row.mediaJobId)) !== null) continue;
      await deps.conversations.finalize(lostJobNote(row, row.mediaJobId));
      count += 1;
    }
    return count;
  }

  async function sweepOrphanFiles(now: number): Promise<number> {
    const old: string[] = [];
    for await (const file of deps.staging.list()) {
      if (file.modifiedAt.getTime() < now - options.orphanGraceMs) old.push(file.key);
    }
    let count = 0;
    for (let i = 0; i < old.length; i += options.batch) {
      const keys = old.slice(i, i + options.batch);
      const referenced = await deps.jobs.referencedMediaKeys(keys);
      for (const key of keys) {
        if (referenced.has(key)) continue;
        await deps.staging.release(key);
        count += 1;
      }
    }
    return count;
  }

  // Oldest first, page by page, until jobs are too young to have failed long enough ago.
  async function discardExpiredFailures(now: number): Promise<number> {
    const cutoff = now - options.failedRetentionMs;
    let count = 0;
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const page = await deps.jobs.list({ statePaths: ['failed.notified'], limit: options.batch, ...(after === undefined ? {} : { after }) });
      for (const job of page) {
        if (job.mediaKey === null || job.updatedAt.getTime() >= cutoff) continue;
        await deps.host.dispatch(job.id, { type: 'job.discarded' });
        count += 1;
      }
      const last = page.at(-1);
      if (last === undefined || page.length < options.batch || last.createdAt.getTime() >= cutoff) return count;
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  async function runOnce(): Promise<JanitorReport> {
    const now = deps.clock();
    const report = {
      deadLettered: await deadLetterStale(now),
      placeholdersEnded: await endOrphanPlaceholders(now),
      orphansRemoved: await sweepOrphanFiles(now),
      failedDiscarded: await discardExpiredFailures(now),
      // A pool change whose move of waiting jobs failed halfway leaves them here, not waiting forever.
      rerouted: (await deps.rerouteStranded?.()) ?? 0,
    };
    if (report.deadLettered + report.placeholdersEnded + report.orphansRemoved + report.failedDiscarded + report.rerouted > 0) log.warn(report, 'janitor ended stale media work');
    return report;
  }

  return {
    options,
    /** One pass now; a pass already under way is joined rather than run twice. */
    run(): Promise<JanitorReport> {
      running ??= runOnce().finally(() => (running = null));
      return running;
    },
    start(): void {
      clearInterval(timer);
      timer = setInterval(() => void this.run().catch((err: unknown) => log.error({ err }, 'janitor run failed')), options.intervalMs);
      timer.unref();
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

export type MediaJanitor = ReturnType<typeof createMediaJanitor>;

function lostJobNote(row: HistoryRecord, jobId: string): FinalizePlaceholderParams {
  const kind = isMediaKind(row.kind) ? row.kind : 'document';
  const content = formatMediaContent({ kind, caption: null, fileName: null }, { status: 'unreadable', reason: 'its processing job was lost' });
  return { jobId, botId: row.botId, correspondentId: row.correspondentId, messageId: row.seq, content, status: 'failed' };
}
