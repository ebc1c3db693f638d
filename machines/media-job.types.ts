import { unclaimed } from '../src/domain/work-item.ts';
import type { WorkItemContext } from '../src/domain/work-item.ts';
import { formatMediaContent, formatPendingMedia } from '../src/domain/media-content.ts';
import type { MediaOutcome } from '../src/domain/media-content.ts';
import type { MediaKind } from '../src/domain/media-kind.ts';

/** What the runtime supplies when a media message creates its job. */
export interface MediaJobInput {
  readonly jobId: string;
  readonly botId: string;
  readonly correspondentId: string;
  /** Queue message id of the placeholder this job finalizes. */
  readonly messageId: number;
  readonly kind: MediaKind;
  readonly caption: string | null;
  readonly fileName: string | null;
  /** Claims allowed before the job is dead-lettered; an operator retry grants as many again. */
  readonly maxAttempts: number;
}

/** Serializable job state: its claim (a work item's), its result, its bot's activity. */
export interface MediaJobContext extends MediaJobInput, WorkItemContext {
  /** Final conversation content once processing produced it. */
  readonly result: string | null;
  /** Worker reports rejected by fencing (stale attempt or no live claim). */
  readonly discardedResults: number;
  /** Whether the job's bot is running; placeholders are only finalized while it is. */
  readonly botActive: boolean;
}

/**
 * Worker reports (`job.claimed`, `job.heartbeat`, `job.completed`, `job.failed`) carry the
 * attempt they belong to; timers (`job.lease-expired`) the attempt they were armed for.
 */
export type MediaJobEvent =
  | { type: 'job.claimed'; owner: string; leaseUntil: number; attempt: number }
  | { type: 'job.heartbeat'; attempt: number; leaseUntil: number }
  | { type: 'job.completed'; attempt: number; outcome: MediaOutcome }
  | { type: 'job.failed'; attempt: number; error: string; transient: boolean; retryAt: number | null }
  /** The sweeper's report: the attempt it listed and the time it decided at (a lease extended since still holds). */
  | { type: 'job.lease-expired'; attempt: number; now: number }
  | { type: 'job.delivered' }
  | { type: 'job.retry' }
  | { type: 'job.dead-lettered'; reason: string }
  | { type: 'job.discarded' }
  | { type: 'bot.stopped' }
  | { type: 'bot.started' };

/** Worker reports that carry a fencing token. */
export type FencedEvent = Extract<MediaJobEvent, { type: 'job.completed' | 'job.failed' | 'job.heartbeat' }>;

/**
 * Write `content` into the placeholder (history row and live queue), then report `job.delivered`.
 * `status` is `final` for a result and `failed` for a dead-letter note.
 */
export interface FinalizePlaceholderParams {
  readonly jobId: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly messageId: number;
  readonly content: string;
  readonly status: 'final' | 'failed';
}

/** Record the job as dead-lettered, with the reason, for operators. */
export interface DeadLetterParams {
  readonly jobId: string;
  readonly botId: string;
  readonly attempt: number;
  readonly reason: string;
}

/** Turn the message back into a placeholder (history row and queue) before an operator retry runs. */
export interface ReopenPlaceholderParams {
  readonly jobId: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly messageId: number;
  readonly content: string;
}

/** A fenced-off worker report was dropped; count and log it. */
export interface DiscardLateResultParams {
  readonly jobId: string;
  readonly eventType: FencedEvent['type'];
  readonly reportedAttempt: number;
  readonly currentAttempt: number;
}

/** Delete the job's staged media file; requested once per job. */
export interface ReleaseMediaParams {
  readonly jobId: string;
}

/** Context of a new job: unclaimed, with its bot running. */
export function initialContext(input: MediaJobInput): MediaJobContext {
  return {
    ...input,
    ...unclaimed(input.maxAttempts),
    result: null,
    discardedResults: 0,
    botActive: true,
  };
}

/** What finalizing the placeholder writes: the result, or a failure note built from the error. */
export function finalizeParams(context: MediaJobContext): FinalizePlaceholderParams {
  const content = context.result ?? formatMediaContent(context, { status: 'unreadable', reason: context.error ?? 'unknown error' });
  const { jobId, botId, correspondentId, messageId } = context;
  return { jobId, botId, correspondentId, messageId, content, status: context.result === null ? 'failed' : 'final' };
}

/** What turning the message back into a placeholder writes. */
export function reopenParams(context: MediaJobContext): ReopenPlaceholderParams {
  const { jobId, botId, correspondentId, messageId } = context;
  return { jobId, botId, correspondentId, messageId, content: formatPendingMedia(context) };
}

/** The conversation content for a processing outcome, in the common media format. */
export function resultContent(context: MediaJobContext, outcome: MediaOutcome): string {
  return formatMediaContent(context, outcome);
}

/**
 * Every effect of the media-job machine and its params. The result needs no effect of its own:
 * it is part of the snapshot, so the write that decides `completed` makes it durable before
 * `finalizePlaceholder` can run (I4).
 */
export interface MediaJobEffects {
  readonly finalizePlaceholder: FinalizePlaceholderParams;
  readonly deadLetter: DeadLetterParams;
  readonly reopenPlaceholder: ReopenPlaceholderParams;
  readonly releaseMedia: ReleaseMediaParams;
  readonly discardLateResult: DiscardLateResultParams;
}
