import type { MediaJobEvent } from '../../../machines/media-job.machine.ts';
import { backoffDelay } from '../../domain/backoff.ts';
import type { BackoffPolicy } from '../../domain/backoff.ts';
import type { MediaOutcome } from '../../domain/media-content.ts';
import { isMediaKind } from '../../domain/media-kind.ts';
import type { MediaJobRecord } from '../../ports/media-job-store.port.ts';
import type { MediaProcessor } from '../../ports/media-processor.port.ts';
import type { WorkerJob } from '../work-queue/worker.ts';
import type { MediaJobHost } from './media-job-host.ts';

/** Wait before a failed job may be claimed again: 1 s, 2 s, 4 s … capped at a minute. */
export const MEDIA_RETRY: BackoffPolicy = { baseMs: 1000, maxMs: 60_000, jitter: 0.2 };

/** What the shared processing lifecycle needs around one pool's processor. */
export interface MediaWorkDeps {
  readonly host: MediaJobHost;
  readonly staging: { read(key: string, signal?: AbortSignal): Promise<Uint8Array | null> };
  readonly processorFor: (poolId: string) => MediaProcessor | null;
  /** The bot's language hint for its media; none when absent. */
  readonly languageFor?: (botId: string) => string | null;
  readonly clock: () => number;
  readonly retry?: BackoffPolicy;
}

/**
 * The lifecycle every processor shares, so a processor only turns bytes into text: claim a job of
 * the pool, read its staged file, process it, and report the outcome to the job's actor, which
 * stores the result before it finalizes the placeholder (I4) and releases the file after (I10).
 * Media that never staged ends with the staging failure as its note, without a processor; a
 * processor that throws is a transient failure, retried with backoff while attempts remain.
 *
 * The worker holds each job it runs as its latest write left it (the claim, then each report) and
 * reports on it with compare-and-set on that version: no read unless something else wrote in
 * between (a sweep, a bot stopping), when the report is decided again on the row as read.
 */
export function mediaJobWork(deps: MediaWorkDeps, poolId: string): WorkerJob<MediaJobRecord> {
  const { host, clock } = deps;
  // Jobs this worker runs, each as its latest write left it.
  const held = new Map<string, MediaJobRecord>();

  async function report(job: MediaJobRecord, event: MediaJobEvent): Promise<MediaJobRecord> {
    const item = held.get(job.id);
    const after = await host.dispatch(job.id, event, item === undefined ? {} : { held: item });
    // A slower report (a heartbeat) must not put back an older version; a finished job stays gone.
    const latest = held.get(job.id);
    if (latest !== undefined && latest.version < after.version) held.set(job.id, after);
    return after;
  }

  return {
    async claim(owner, leaseMs) {
      const job = await host.claim(owner, leaseMs, { pools: [poolId] });
      if (job !== null) held.set(job.id, job);
      return job;
    },
    heartbeat: (job, leaseUntil) => report(job, { type: 'job.heartbeat', attempt: job.attempt, leaseUntil }),
    async perform(job, signal) {
      try {
        let outcome: MediaOutcome;
        try {
          outcome = await processJob(deps, job, signal);
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          const retryAt = clock() + backoffDelay(job.attempt, deps.retry ?? MEDIA_RETRY, Math.random());
          await report(job, { type: 'job.failed', attempt: job.attempt, error, transient: true, retryAt });
          return;
        }
        await report(job, { type: 'job.completed', attempt: job.attempt, outcome });
      } finally {
        held.delete(job.id);
      }
    },
  };
}

async function processJob(deps: MediaWorkDeps, job: MediaJobRecord, signal: AbortSignal): Promise<MediaOutcome> {
  if (job.stagingError !== null) return { status: 'unreadable', reason: job.stagingError };
  if (job.mediaKey === null || !isMediaKind(job.kind)) return { status: 'unreadable', reason: 'no media was staged for this message' };
  // Its pool went away while it ran (the bot's pools changed): the retry goes to the new pool.
  const processor = deps.processorFor(job.pool);
  if (processor === null) throw new Error(`media pool "${job.pool}" is no longer configured`);
  const bytes = await deps.staging.read(job.mediaKey, signal);
  if (bytes === null) return { status: 'unreadable', reason: 'the staged media file is missing' };
  signal.throwIfAborted();
  const { id: jobId, botId, correspondentId, messageId, attempt, kind, mimetype, caption, fileName } = job;
  const language = deps.languageFor?.(botId) ?? null;
  return processor({ jobId, botId, correspondentId, messageId, attempt, kind, mimetype, caption, fileName, language, bytes }, signal);
}
