import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { MediaJobEffects } from '../../machines/media-job.machine.ts';
import type { QueueLimits } from '../domain/queue-message.ts';
import type { Logger } from '../logging/logger.ts';
import type { MediaJobRecord } from '../ports/media-job-store.port.ts';
import type { InboundMessage, ProviderFactory } from '../ports/provider.port.ts';
import type { Store } from '../ports/store.port.ts';
import { createBotPurge } from './bot-purge.ts';
import { createBots } from './bots.ts';
import { createConversations } from './conversations.ts';
import type { EffectTable } from './actors/effect-table.ts';
import { createHistoryWriter } from './history-writer.ts';
import { createInspectionHub } from './inspection-hub.ts';
import { sweepExpiredLeases } from './lease-sweeper.ts';
import { createListenerRegistry } from './listener-registry.ts';
import { createMediaJobHost } from './media-job-host.ts';
import type { JobScope } from './media-job-host.ts';
import { createMediaWorker } from './media-worker.ts';
import type { MediaProcessor } from './media-worker.ts';

export const DEFAULT_LIMITS: QueueLimits = { maxMessages: 100, maxCharacters: 20_000, maxAgeDays: 7, maxCharactersPerMessage: 4_000 };

/** Everything the runtime needs, injected by the composition root (or a test). */
export interface RuntimeDeps {
  readonly store: Store;
  readonly providers: Readonly<Record<string, ProviderFactory>>;
  readonly processor: MediaProcessor;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly instanceId?: string;
  readonly worker?: { concurrency?: number; leaseMs?: number; pollMs?: number; maxAttempts?: number };
  readonly historyWindowMs?: number;
  readonly limitsFor?: (botId: string) => QueueLimits;
  /** Observation hooks for metrics and benchmarks. */
  readonly hooks?: {
    /** A job was claimed `pickupMs` after it was created. */
    readonly onClaim?: (job: MediaJobRecord, pickupMs: number) => void;
  };
}

/** Counters the runtime keeps for metrics, benchmarks and tests. */
export interface RuntimeStats {
  writes: number;
  conflicts: number;
  failedWrites: number;
  duplicates: number;
  lateResultsDiscarded: number;
  deadLettered: number;
}

/** The actor system: bots, correspondent queues and media jobs, persisted and wired together. */
export function createParleyRuntime(deps: RuntimeDeps) {
  const clock = deps.clock ?? Date.now;
  const log = deps.logger.child({ scope: 'runtime' });
  const stats: RuntimeStats = { writes: 0, conflicts: 0, failedWrites: 0, duplicates: 0, lateResultsDiscarded: 0, deadLettered: 0 };
  const inspection = createInspectionHub((err) => log.warn({ err }, 'inspection subscriber dropped'));
  const listeners = createListenerRegistry((err, m) => log.error({ err, botId: m.botId, messageId: m.messageId }, 'listener failed'));
  const history = createHistoryWriter({ history: deps.store.history, windowMs: deps.historyWindowMs ?? 0 });
  const worker = { concurrency: 4, leaseMs: 60_000, pollMs: 5_000, maxAttempts: 3, ...deps.worker };
  const owner = deps.instanceId ?? `parley-${randomUUID().slice(0, 8)}`;

  const conversations = createConversations({
    store: deps.store, history, listeners, inspection, stats, logger: deps.logger, clock,
    limitsFor: deps.limitsFor ?? (() => DEFAULT_LIMITS),
  });

  /**
   * The media-job machine's effects. Writing the result into the conversation, reopening it for a
   * retry and deleting the staged file are stored with the job's transition and run again after a
   * crash until done; each is idempotent (a finalized placeholder is not finalized twice, a missing
   * file is not an error). Dead-letters and discarded late results only report.
   */
  const jobEffects = {
    finalizePlaceholder: {
      durable: true,
      async run(params, { job }) {
        await conversations.finalize(params);
        await jobs.dispatch(job.id, { type: 'job.delivered' });
      },
    },
    reopenPlaceholder: {
      durable: true,
      async run(params) {
        await conversations.reopen(params);
        mediaWorker.wake();
      },
    },
    releaseMedia: {
      durable: true,
      async run(_params, { job }) {
        if (job.mediaPath !== null) await rm(job.mediaPath, { force: true });
      },
    },
    deadLetter: {
      durable: false,
      run({ jobId, botId, attempt, reason }) {
        stats.deadLettered += 1;
        log.warn({ jobId, botId, attempt, reason }, 'media job dead-lettered');
      },
    },
    discardLateResult: {
      durable: false,
      run(params) {
        stats.lateResultsDiscarded += 1;
        log.info(params, 'late media result discarded');
      },
    },
  } satisfies EffectTable<MediaJobEffects, JobScope>;

  const jobs = createMediaJobHost({
    jobs: deps.store.mediaJobs,
    effects: jobEffects,
    inspect: inspection.inspect,
    clock,
    effectRunner: { onError: (err, effect) => log.error({ err, effect: effect.type }, 'media job effect failed') },
  });

  const mediaWorker = createMediaWorker({
    host: jobs, processor: deps.processor, owner, concurrency: worker.concurrency, leaseMs: worker.leaseMs,
    pollMs: worker.pollMs, clock, logger: deps.logger,
    ...(deps.hooks?.onClaim === undefined ? {} : { onClaim: deps.hooks.onClaim }),
  });

  const purge = createBotPurge({ store: deps.store, conversations, inspection, logger: deps.logger });
  const bots = createBots({
    store: deps.store, providers: deps.providers, jobs, inspection, stats, logger: deps.logger, clock,
    flushIngestion: (timeoutMs) => history.flush(timeoutMs),
    onMessage: (botId) => (message) => ingest(botId, message).then(() => undefined),
    purge: async (botId) => void (await purge(botId)),
    onCreated: (botId) => conversations.admitBot(botId),
  });

  /** One inbound message: durable in history (and its media job created) before this resolves. */
  async function ingest(botId: string, message: InboundMessage) {
    const arrival = {
      botId, correspondentId: message.correspondentId, providerMessageId: message.providerMessageId,
      sender: message.sender, group: message.group, originatingAt: message.originatingAt,
    };
    if (message.media === null) return conversations.ingestText(arrival, message.text ?? '');
    const media = { kind: message.media.kind, mimeType: message.media.mimetype, caption: message.media.caption, fileName: message.media.fileName };
    const jobId = randomUUID();
    const result = await conversations.ingestMedia(arrival, media, jobId, async (messageId, id) => {
      await jobs.create(
        { jobId: id, botId, correspondentId: arrival.correspondentId, messageId, kind: media.kind, caption: media.caption, fileName: media.fileName, maxAttempts: worker.maxAttempts },
        { mimetype: media.mimeType, mediaPath: null },
      );
    });
    mediaWorker.wake();
    return { ...result, mediaJobId: result.outcome === 'accepted' ? jobId : null };
  }

  let sweeper: NodeJS.Timeout | undefined;

  return {
    bots, conversations, jobs, listeners, inspection, stats, history, ingest, owner,

    /** Restores queues, sweeps leases of a crashed process, restores bots, then starts working. */
    async start(): Promise<void> {
      const queues = await conversations.restoreAll();
      const recovered = await jobs.recoverEffects();
      const swept = await sweepExpiredLeases(deps.store, jobs, clock(), log);
      const botCount = await bots.restoreAll();
      mediaWorker.start();
      sweeper = setInterval(() => void sweepExpiredLeases(deps.store, jobs, clock(), log).catch((err: unknown) => log.error({ err }, 'lease sweep failed')), Math.max(1000, worker.leaseMs / 2));
      sweeper.unref();
      log.info({ bots: botCount, queues, swept, recovered }, 'runtime started');
    },

    /**
     * Stops background work without writing anything, as if the process died. The store is left
     * exactly as it was, which is what crash-recovery tests need.
     */
    halt(): void {
      clearInterval(sweeper);
      mediaWorker.halt();
      jobs.halt();
      bots.halt();
      conversations.halt();
    },

    /** Stops bots (jobs to holding, history flushed), waits for workers, writes every snapshot. */
    async shutdown(graceMs = 5000): Promise<void> {
      clearInterval(sweeper);
      await mediaWorker.stop(graceMs);
      await bots.shutdown();
      await history.flush(graceMs);
      await conversations.flush();
    },
  };
}

export type ParleyRuntime = ReturnType<typeof createParleyRuntime>;
