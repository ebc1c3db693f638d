import type { InspectionEvent } from 'xstate';
import type { FinalizePlaceholderParams, MediaJobEffects, MediaJobInput, ReopenPlaceholderParams } from '../../../machines/media-job.machine.ts';
import type { Logger } from '../../logging/logger.ts';
import type { MediaJobRecord, MediaJobStore } from '../../ports/media-job-store.port.ts';
import type { MediaDescriptor } from '../../domain/media-kind.ts';
import type { MediaPoolRoute } from '../../domain/media-routing.ts';
import type { MediaProcessors } from '../../ports/media-processor.port.ts';
import type { EffectTable } from '../actors/effect-table.ts';
import { createEffectAdoption } from '../work-queue/effect-adoption.ts';
import type { HostOnlyEffects } from '../work-queue/effect-placement.ts';
import { sweepExpiredLeases } from '../work-queue/lease-sweeper.ts';
import { queueLifecycle } from '../work-queue/queue-lifecycle.ts';
import { createWorker } from '../work-queue/worker.ts';
import { createMediaJobHost } from './media-job-host.ts';
import type { JobScope } from './media-job-host.ts';
import { mediaJobWork } from './media-job-worker.ts';
import { createMediaPools } from './media-pools.ts';
import type { MediaStaging, StagingOutcome } from './media-staging.ts';

/** What media jobs write into: the conversation their placeholder lives in. */
export interface PlaceholderConversation {
  finalize(params: FinalizePlaceholderParams): Promise<void>;
  reopen(params: ReopenPlaceholderParams): Promise<void>;
}

/**
 * A media job ended failed and its placeholder now shows the failure note. `id` names this
 * failure (job and attempt): the same when a crash or a reap makes it be told again.
 */
export interface MediaFailed {
  readonly id: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly messageId: number;
  readonly jobId: string;
  readonly kind: string;
  readonly error: string;
}

export interface MediaJobsDeps {
  readonly store: MediaJobStore;
  readonly conversations: PlaceholderConversation;
  readonly processors: MediaProcessors;
  /** The default pools (validated: a catch-all, known processors). */
  readonly pools: readonly MediaPoolRoute[];
  readonly staging: MediaStaging;
  /** The bot's language hint for its media (`media.language`). */
  readonly languageFor?: (botId: string) => string | null;
  readonly owner: string;
  readonly worker: { readonly leaseMs: number; readonly pollMs: number; readonly maxAttempts: number };
  readonly logger: Logger;
  readonly clock: () => number;
  readonly stats: { deadLettered: number; lateResultsDiscarded: number };
  readonly inspect?: (event: InspectionEvent) => void;
  /** A job was claimed `pickupMs` after it was created. */
  readonly onClaim?: (job: MediaJobRecord, pickupMs: number) => void;
  /** Told once a failed job's note is in its conversation; the job is delivered only once this resolves. */
  readonly onFailed?: (failed: MediaFailed) => Promise<void>;
  /**
   * Whether the bot's conversations live in this process (it owns the bot). Absent: every bot is
   * hosted here (a single instance). Must be true from the moment this instance takes the bot up,
   * so that its bot start (which reaps the bot's jobs) finds it hosted.
   */
  readonly hosts?: (botId: string) => boolean;
  /** The bots hosted here, so a pass looking for placeholder work left by other instances lists only theirs. */
  readonly hostedBotIds?: () => readonly string[];
}

/**
 * Effects that write into the job's conversation, which lives only where its bot is hosted.
 * Any instance claims and decides jobs; these wait, stored on the job, for the bot's host.
 */
export const PLACEHOLDER_EFFECTS = ['finalizePlaceholder', 'reopenPlaceholder'] as const satisfies readonly (keyof MediaJobEffects)[];

/**
 * Media jobs: row actors on the media work queue, the worker pool that turns media into text, and
 * the lease sweeper. Finalizing the placeholder, reopening it for a retry and deleting the staged
 * file are stored with the job's transition and run again after a crash until done; each is
 * idempotent (a finalized placeholder is not finalized twice, a missing file is not an error).
 */
export function createMediaJobs(deps: MediaJobsDeps) {
  const log = deps.logger.child({ scope: 'media-jobs' });
  const hosting = { leftForHost: 0 };
  const hostOnly: HostOnlyEffects<MediaJobEffects> | undefined = deps.hosts === undefined ? undefined : {
    types: PLACEHOLDER_EFFECTS,
    hosts: deps.hosts,
    onLeft(effect, job) {
      // The normal course when another instance hosts the bot: it runs the effect, not this one.
      hosting.leftForHost += 1;
      log.debug({ jobId: job.id, botId: job.botId, effect: effect.type }, 'placeholder work left for the instance hosting the bot');
    },
  };

  const effects = {
    finalizePlaceholder: {
      durable: true,
      async run(params, { item, effectId }) {
        await deps.conversations.finalize(params);
        if (params.status === 'failed') {
          // One failure per claim: a second finalize of it (a reap after a crash) names the same one.
          const { botId, correspondentId, messageId, jobId } = params;
          await deps.onFailed?.({ id: `${jobId}@${item.attempt}`, botId, correspondentId, messageId, jobId, kind: item.kind, error: item.error ?? 'unknown error' });
        }
        // The job as the write that stored this effect left it; the delivered write also removes
        // this effect, whose work is done by then (one write instead of two).
        await host.dispatch(item.id, { type: 'job.delivered' }, { held: item, acknowledge: effectId === null ? [] : [effectId] });
      },
    },
    reopenPlaceholder: {
      durable: true,
      async run(params) {
        await deps.conversations.reopen(params);
        pools.wakeAll();
      },
    },
    releaseMedia: {
      durable: true,
      async run(_params, { item }) {
        if (item.mediaKey !== null) await deps.staging.release(item.mediaKey);
      },
    },
    deadLetter: {
      durable: false,
      run({ jobId, botId, attempt, reason }) {
        deps.stats.deadLettered += 1;
        log.warn({ jobId, botId, attempt, reason }, 'media job dead-lettered');
      },
    },
    discardLateResult: {
      durable: false,
      run(params) {
        deps.stats.lateResultsDiscarded += 1;
        log.info(params, 'late media result discarded');
      },
    },
  } satisfies EffectTable<MediaJobEffects, JobScope>;

  const host = createMediaJobHost({
    jobs: deps.store,
    effects,
    clock: deps.clock,
    ...(deps.inspect === undefined ? {} : { inspect: deps.inspect }),
    effectRunner: { onError: (err, effect) => log.error({ err, effect: effect.type }, 'media job effect failed') },
    ...(hostOnly === undefined ? {} : { hostOnly }),
  });

  const work = {
    host, staging: deps.staging, processorFor: (poolId: string) => pools.processorFor(poolId), clock: deps.clock,
    ...(deps.languageFor === undefined ? {} : { languageFor: deps.languageFor }),
  };
  const pools = createMediaPools({
    defaults: deps.pools,
    processors: deps.processors,
    jobs: deps.store,
    logger: deps.logger,
    createWorker: (poolId, pool) =>
      createWorker<MediaJobRecord>({
        job: mediaJobWork(work, poolId),
        owner: deps.owner,
        concurrency: pool.concurrency,
        leaseMs: deps.worker.leaseMs,
        pollMs: deps.worker.pollMs,
        clock: deps.clock,
        logger: log.child({ pool: poolId }),
        ...(deps.onClaim === undefined ? {} : { onClaim: (job: MediaJobRecord) => deps.onClaim?.(job, deps.clock() - job.createdAt.getTime()) }),
      }),
  });

  const sweep = () =>
    sweepExpiredLeases(deps.store, ['processing', 'holding'], (job, now) => host.dispatch(job.id, { type: 'job.lease-expired', attempt: job.attempt, now }, { held: job }), deps.clock(), log);
  const lifecycle = queueLifecycle({ host, worker: pools, sweep, leaseMs: deps.worker.leaseMs, log });
  // Only needed when bots are hosted elsewhere too: a single instance leaves nothing for others.
  const adoption = deps.hosts === undefined ? null : createEffectAdoption<MediaJobRecord>({
    list: (botIds) => deps.store.list({ effectTypes: PLACEHOLDER_EFFECTS, ...(botIds === undefined ? {} : { botIds }) }),
    adopt: (job) => host.adoptEffects(job),
    hosts: deps.hosts,
    ...(deps.hostedBotIds === undefined ? {} : { hostedBotIds: deps.hostedBotIds }),
    intervalMs: deps.worker.pollMs,
    logger: log,
  });

  return {
    host,
    /**
     * Creates the job of a media message whose placeholder row is durable, routed to the pool that
     * serves its bot and media, and wakes that pool. A staging failure travels with the job, which
     * then ends with it as its note.
     */
    async create(input: Omit<MediaJobInput, 'maxAttempts'>, media: Pick<MediaDescriptor, 'mimetype'>, staged: StagingOutcome): Promise<MediaJobRecord> {
      const pool = pools.route(input.botId, { kind: input.kind, mimetype: media.mimetype });
      const file = staged.status === 'staged'
        ? { mediaKey: staged.key, sizeBytes: staged.sizeBytes, stagingError: null }
        : { mediaKey: null, sizeBytes: null, stagingError: staged.reason };
      const job = await host.create(
        { ...input, maxAttempts: deps.worker.maxAttempts },
        {
          id: input.jobId, botId: input.botId, kind: input.kind, line: null, lineSeq: null, correspondentId: input.correspondentId, messageId: input.messageId,
          mimetype: media.mimetype, caption: input.caption, fileName: input.fileName, pool, ...file,
        },
      );
      pools.wake(pool);
      return job;
    },
    pools,
    ...lifecycle,
    start(): void {
      lifecycle.start();
      adoption?.start();
      void pools.rerouteStranded().catch((err: unknown) => log.error({ err }, 'moving jobs of pools no longer configured failed'));
    },
    halt(): void {
      adoption?.stop();
      lifecycle.halt();
    },
    async stop(graceMs?: number): Promise<void> {
      adoption?.stop();
      await lifecycle.stop(graceMs);
    },
    /**
     * Finalizes and reopens now, for jobs of these bots (of every bot hosted here when absent),
     * the placeholders that other instances left to this one; e.g. once this instance takes a bot
     * up. A pass also runs every `worker.pollMs`. Resolves with how many jobs had work done.
     */
    adopt: (botIds?: readonly string[]): Promise<number> => adoption?.adopt(botIds) ?? Promise.resolve(0),
    /** Placeholder effects this instance left stored for the instance hosting their bot. */
    hosting,
    stats: () => {
      const all = Object.values(pools.stats());
      return { running: all.reduce((n, p) => n + p.running, 0), queued: all.reduce((n, p) => n + p.queued, 0) };
    },
  };
}

export type MediaJobs = ReturnType<typeof createMediaJobs>;
