import { randomUUID } from 'node:crypto';
import type { MediaKind } from '../domain/media-kind.ts';
import type { QueueLimits } from '../domain/queue-message.ts';
import type { Logger } from '../logging/logger.ts';
import type { MediaJobRecord } from '../ports/media-job-store.port.ts';
import type { ProviderFactory } from '../ports/provider.port.ts';
import type { MediaPoolRoute } from '../domain/media-routing.ts';
import type { MediaProcessors } from '../ports/media-processor.port.ts';
import type { MediaStore } from '../ports/media-store.port.ts';
import type { Store } from '../ports/store.port.ts';
import { createBotPurge } from './bots/bot-purge.ts';
import { createBots } from './bots/bots.ts';
import { createConversations } from './conversations/conversations.ts';
import { createHistoryWriter } from './conversations/history-writer.ts';
import { createInspectionHub } from './actors/inspection-hub.ts';
import { createListenerRegistry } from './conversations/listener-registry.ts';
import { createMediaJanitor } from './media-jobs/media-janitor.ts';
import type { JanitorOptions } from './media-jobs/media-janitor.ts';
import { createMediaJobs } from './media-jobs/media-jobs.ts';
import { DEFAULT_STAGING_LIMITS, createMediaStaging } from './media-jobs/media-staging.ts';
import type { StagingLimits } from './media-jobs/media-staging.ts';
import { createOutbox } from './outbox/outbox.ts';
import type { OutboxDeps } from './outbox/outbox.ts';

export const DEFAULT_LIMITS: QueueLimits = { maxMessages: 100, maxCharacters: 20_000, maxAgeDays: 7, maxCharactersPerMessage: 4_000 };

/** How media becomes text: named processors, the pools that run them, where bytes are staged. */
export interface MediaSetup {
  readonly processors: MediaProcessors;
  /** Default pools, validated by the caller (`validatePools`). */
  readonly pools: readonly MediaPoolRoute[];
  readonly store: MediaStore;
  readonly staging?: Partial<StagingLimits>;
  readonly janitor?: Partial<JanitorOptions>;
}

/** Everything the runtime needs, injected by the composition root (or a test). */
export interface RuntimeDeps {
  readonly store: Store;
  readonly providers: Readonly<Record<string, ProviderFactory>>;
  readonly media: MediaSetup;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly instanceId?: string;
  readonly worker?: { leaseMs?: number; pollMs?: number; maxAttempts?: number };
  readonly historyWindowMs?: number;
  readonly outbox?: Partial<Pick<OutboxDeps, 'leaseMs' | 'pollMs' | 'maxAttempts' | 'retry'>>;
  readonly limitsFor?: (botId: string) => QueueLimits;
  /** A bot's language hint for its media (`media.language`); none when absent. */
  readonly languageFor?: (botId: string) => string | null;
  /** Media kinds a bot turns into text; every kind when absent. */
  readonly mediaKindsFor?: (botId: string) => ReadonlySet<MediaKind>;
  /** How long a conversation's queue stays in memory untouched. */
  readonly queueIdleMs?: number;
  /** Placeholders one conversation may hold at once. */
  readonly maxPendingMedia?: number;
  /** Longest inbound text or caption taken whole; longer ones are stored cut. */
  readonly maxInboundTextChars?: number;
  /** Most conversations in memory at once. */
  readonly maxResidentQueues?: number;
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
  const worker = { leaseMs: 60_000, pollMs: 5_000, maxAttempts: 3, ...deps.worker };
  const staging = createMediaStaging({ store: deps.media.store, limits: { ...DEFAULT_STAGING_LIMITS, ...deps.media.staging }, logger: deps.logger });
  const owner = deps.instanceId ?? `parley-${randomUUID().slice(0, 8)}`;

  // Conversations create media jobs and media jobs finalize conversations: each gets the other
  // as a narrow port, bound here once both exist.
  const conversations = createConversations({
    store: deps.store, history, listeners, inspection, stats, logger: deps.logger, clock,
    limitsFor: deps.limitsFor ?? (() => DEFAULT_LIMITS),
    ...(deps.mediaKindsFor === undefined ? {} : { mediaKindsFor: deps.mediaKindsFor }),
    ...(deps.queueIdleMs === undefined ? {} : { idleMs: deps.queueIdleMs }),
    ...(deps.maxPendingMedia === undefined ? {} : { maxPendingMedia: deps.maxPendingMedia }),
    ...(deps.maxInboundTextChars === undefined ? {} : { maxInboundTextChars: deps.maxInboundTextChars }),
    ...(deps.maxResidentQueues === undefined ? {} : { maxResident: deps.maxResidentQueues }),
    placeholderJobs: { create: (job, media, staged) => mediaJobs.create(job, media, staged) },
    staging,
  });

  const mediaJobs = createMediaJobs({
    store: deps.store.mediaJobs, conversations, processors: deps.media.processors, pools: deps.media.pools, staging, owner, worker, logger: deps.logger, clock, stats,
    inspect: inspection.inspect,
    ...(deps.languageFor === undefined ? {} : { languageFor: deps.languageFor }),
    ...(deps.hooks?.onClaim === undefined ? {} : { onClaim: deps.hooks.onClaim }),
  });
  const jobs = mediaJobs.host;

  const outbox = createOutbox({
    store: deps.store.outbox,
    bots: { connectedSession: (botId) => (bots.has(botId) && bots.state(botId) === 'connected' ? bots.session(botId) : undefined) },
    history: conversations.outbound,
    owner, logger: deps.logger, clock, inspect: inspection.inspect,
    ...deps.outbox,
  });

  const janitor = createMediaJanitor({
    jobs: deps.store.mediaJobs, host: jobs, history: deps.store.history, conversations, staging, clock, logger: deps.logger,
    rerouteStranded: () => mediaJobs.pools.rerouteStranded(),
    ...deps.media.janitor,
  });

  const purge = createBotPurge({ store: deps.store, conversations, inspection, logger: deps.logger });
  const bots = createBots({
    store: deps.store, providers: deps.providers, jobs, inspection, stats, logger: deps.logger, clock,
    // Pending rows are written and the messages they belong to finish arriving (one conversation's
    // messages write one after another, and a media message's job follows its row), so holding
    // the bot's jobs next sees every one of them.
    flushIngestion: async (botId, timeoutMs) => {
      // Real time, not the actors' clock: this bounds how long a stop waits.
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        if (!(await history.flush(Math.max(0, deadline - performance.now())))) return false;
        if (await conversations.settle(botId, 20)) return true;
        if (performance.now() >= deadline) return false;
      }
    },
    onMessage: (botId) => (message) => conversations.receive(botId, message).then(() => undefined),
    purge: async (botId) => void (await purge(botId)),
    onCreated: (botId) => conversations.admitBot(botId),
    onConnection: (botId, connected) => (connected ? outbox.resume(botId) : outbox.hold(botId)),
  });

  return {
    bots, conversations, jobs, mediaJobs, outbox, listeners, inspection, stats, history, owner, staging, janitor,

    /**
     * Runs media-job effects a crash left unacknowledged and sweeps its leases, then starts the
     * workers and the outbox at once: claimable jobs wait for nothing else. Queues that were in
     * memory and bots are restored meanwhile, several at a time (running bots reconnect).
     */
    async start(): Promise<void> {
      await staging.init();
      const { recovered, swept } = await mediaJobs.recover();
      mediaJobs.start();
      janitor.start();
      await outbox.start();
      const [queues, botCount] = await Promise.all([conversations.restoreAll(), bots.restoreAll()]);
      conversations.start();
      log.info({ bots: botCount, queues, swept, recovered }, 'runtime started');
    },

    /**
     * Stops background work without writing anything, as if the process died. The store is left
     * exactly as it was, which is what crash-recovery tests need.
     */
    halt(): void {
      janitor.stop();
      mediaJobs.halt();
      outbox.halt();
      bots.halt();
      conversations.halt();
    },

    /** Closes sessions (bots keep their state, media jobs stay where they are), waits for workers, flushes history and every snapshot. */
    async shutdown(graceMs = 5000): Promise<void> {
      janitor.stop();
      await outbox.stop(graceMs);
      await mediaJobs.stop(graceMs);
      await bots.shutdown();
      await history.flush(graceMs);
      await conversations.flush();
    },
  };
}

export type ParleyRuntime = ReturnType<typeof createParleyRuntime>;
