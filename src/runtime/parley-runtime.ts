import { randomUUID } from 'node:crypto';
import type { MediaKind } from '../domain/media-kind.ts';
import type { QueueLimits } from '../domain/queue-message.ts';
import type { Logger } from '../logging/logger.ts';
import type { MediaJobRecord } from '../ports/media-job-store.port.ts';
import type { InboundMessage, ProviderFactory } from '../ports/provider.port.ts';
import type { MediaPoolRoute } from '../domain/media-routing.ts';
import type { MediaProcessors } from '../ports/media-processor.port.ts';
import type { MediaStore } from '../ports/media-store.port.ts';
import type { Store } from '../ports/store.port.ts';
import { createBotPurge } from './bots/bot-purge.ts';
import { createBots } from './bots/bots.ts';
import { createReceipts } from './outbox/receipts.ts';
import type { BotsDeps } from './bots/bots.ts';
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
import { createReplies } from './replies/replies.ts';
import type { BackoffPolicy } from '../domain/backoff.ts';
import { resolveReplySettings } from '../domain/reply-settings.ts';
import type { ReplySettings } from '../domain/reply-settings.ts';
import type { ReplyGenerator } from '../ports/reply-generator.port.ts';
import type { OutboxDeps } from './outbox/outbox.ts';
import type { WebhookSender, WebhookUrlPolicy } from '../ports/webhook-sender.port.ts';
import { createWebhooks } from './webhooks/webhooks.ts';
import type { WebhooksDeps } from './webhooks/webhooks.ts';
import { DEFAULT_OWNERSHIP, createOwnership } from './ownership/ownership.ts';
import type { OwnershipChange, OwnershipSettings } from './ownership/ownership.ts';
import type { Cluster } from '../ports/cluster.port.ts';

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

/** How AI replies are made: the model, and each bot's settings. */
export interface ReplySetup {
  /** `null` without an OpenAI key: AI stays off, with a warning for bots that enable it. */
  readonly generator: ReplyGenerator | null;
  readonly settingsFor: (botId: string) => ReplySettings;
  readonly retry?: BackoffPolicy;
}

/** Everything the runtime needs, injected by the composition root (or a test). */
export interface RuntimeDeps {
  readonly store: Store;
  readonly providers: Readonly<Record<string, ProviderFactory>>;
  readonly media: MediaSetup;
  /** AI replies; off for every bot when absent. */
  readonly replies?: ReplySetup;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** This instance's id in the cluster (`INSTANCE_ID`): a restart under the same id takes its bots back at once. */
  readonly instanceId?: string;
  /** Leases, takeover and placement (I14); one instance on its own holds every bot. */
  readonly ownership?: Partial<OwnershipSettings> & {
    /** This instance took a bot: settings read from the store before its actors come back. */
    readonly onGained?: (botId: string) => Promise<void>;
    readonly onChange?: (change: OwnershipChange, botId: string) => void;
    /** Another live process uses this instance's id (see `OwnershipDeps.onIdCollision`). */
    readonly onIdCollision?: () => void;
  };
  readonly worker?: { leaseMs?: number; pollMs?: number; maxAttempts?: number };
  readonly historyWindowMs?: number;
  readonly outbox?: Partial<Pick<OutboxDeps, 'leaseMs' | 'pollMs' | 'maxAttempts' | 'retry'>>;
  /** Event webhooks: how deliveries go out, which URLs may subscribe, retries and timing. */
  readonly webhooks?: WebhookSetup;
  readonly limitsFor?: (botId: string) => QueueLimits;
  /** A bot's language hint for its media (`media.language`); none when absent. */
  readonly languageFor?: (botId: string) => string | null;
  /** Media kinds a bot turns into text; every kind when absent. */
  readonly mediaKindsFor?: (botId: string) => ReadonlySet<MediaKind>;
  /** How long a conversation's queue stays in memory untouched. */
  readonly queueIdleMs?: number;
  /** Reconnects of dropped provider sessions; see `BotsDeps.reconnect`. */
  readonly reconnect?: BotsDeps['reconnect'];
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

/** What event webhooks are given; without a sender every delivery fails, saying so. */
export interface WebhookSetup extends Partial<Pick<WebhooksDeps, 'retryDelaysMs' | 'leaseMs' | 'pollMs' | 'refreshMs' | 'concurrency'>> {
  readonly sender?: WebhookSender;
  readonly policy?: WebhookUrlPolicy;
}

const NO_SENDER: WebhookSender = { send: async () => ({ outcome: 'fail', status: null, error: 'this process has no webhook sender' }) };

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
  const history = createHistoryWriter({ history: deps.store.history, windowMs: deps.historyWindowMs ?? 0, admit: (botId) => void fence.epochOf(botId) });
  const worker = { leaseMs: 60_000, pollMs: 5_000, maxAttempts: 3, ...deps.worker };
  const staging = createMediaStaging({ store: deps.media.store, limits: { ...DEFAULT_STAGING_LIMITS, ...deps.media.staging }, logger: deps.logger });
  const instanceId = deps.instanceId ?? 'parley';
  // Work-queue claims are per process life: a restart under the same instance id never mistakes
  // its previous life's claims for its own.
  const owner = `${instanceId}/${randomUUID().slice(0, 8)}`;
  const { onGained, onChange, onIdCollision, ...ownershipSettings } = deps.ownership ?? {};
  const ownership = createOwnership({
    // Leases run on real time whatever clock the actors decide with: a lease is about a process being alive.
    ownership: deps.store.ownership, instances: deps.store.instances, instanceId, clock: Date.now, logger: deps.logger,
    settings: { ...DEFAULT_OWNERSHIP, ...ownershipSettings },
    botIds: async () => (await deps.store.bots.list()).map((b) => b.id),
    gain: async (botId, epoch) => {
      // Writes of the bot's actors under an earlier epoch are refused from here on.
      await deps.store.actors.fenceBot(botId, epoch);
      await onGained?.(botId);
      conversations.admitBot(botId);
      await Promise.all([conversations.restoreBot(botId), bots.adopt(botId)]);
      await replies.restoreBot(botId);
      // Results other instances finished while nobody here hosted the bot go into its conversations now.
      void mediaJobs.adopt([botId]).catch((err: unknown) => log.warn({ err, botId }, 'delivering media results of a bot taken over failed'));
    },
    drop: async (botId, how) => {
      if (how === 'handover') {
        await bots.release(botId);
        await conversations.releaseBot(botId);
        await replies.releaseBot(botId);
        return;
      }
      await bots.forget(botId);
      conversations.haltBot(botId);
      replies.dropBot(botId);
    },
    ...(onChange === undefined ? {} : { onChange }),
    ...(onIdCollision === undefined ? {} : { onIdCollision }),
  });
  const fence = ownership.fence;

  // Events are published from the durable effects that make them happen, so a crash between an
  // event and its delivery rows publishes it again, under the same id (stored once).
  const { sender = NO_SENDER, policy, ...webhookTiming } = deps.webhooks ?? {};
  const webhooks = createWebhooks({
    subscriptions: deps.store.webhookSubscriptions, deliveries: deps.store.webhookDeliveries, sender, owner, logger: deps.logger, clock,
    inspect: inspection.inspect, ...(policy === undefined ? {} : { policy }), ...webhookTiming,
  });
  // A failed listener leaves the notification to be made again only after a few quick tries (and
  // then at the next start): publishing waits out a store outage instead.
  listeners.add(async (m) => {
    const data = { botId: m.botId, correspondentId: m.correspondentId, messageId: m.messageId, content: m.content, source: m.source, mediaJobId: m.mediaJobId };
    await webhooks.publishPatiently({ id: `message.received:${m.deliveryId}`, type: 'message.received', at: clock(), data });
  });

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
    fence,
  });

  const mediaJobs = createMediaJobs({
    store: deps.store.mediaJobs, conversations, processors: deps.media.processors, pools: deps.media.pools, staging, owner, worker, logger: deps.logger, clock, stats,
    inspect: inspection.inspect,
    ...(deps.languageFor === undefined ? {} : { languageFor: deps.languageFor }),
    ...(deps.hooks?.onClaim === undefined ? {} : { onClaim: deps.hooks.onClaim }),
    // Any instance processes media; only the bot's host writes the result into its conversation.
    hosts: (botId) => fence.holds(botId),
    hostedBotIds: () => ownership.held().map((lease) => lease.botId),
    onFailed: async ({ id, botId, correspondentId, messageId, jobId, kind, error }) => {
      await webhooks.publish({ id: `media.failed:${id}`, type: 'media.failed', at: clock(), data: { botId, correspondentId, messageId, mediaJobId: jobId, kind, error } });
    },
  });
  const jobs = mediaJobs.host;

  const outbox = createOutbox({
    store: deps.store.outbox,
    bots: {
      connectedSession: (botId) => (bots.has(botId) && bots.state(botId) === 'connected' ? bots.session(botId) : undefined),
      connectedBotIds: () => bots.ids().filter((botId) => bots.state(botId) === 'connected'),
    },
    history: conversations.outbound,
    owner, logger: deps.logger, clock, inspect: inspection.inspect,
    onSettled: async ({ id, status, botId, correspondentId, seq, deliveryId, text, providerMessageId, error }) => {
      const type = status === 'sent' ? 'message.sent' : 'message.failed';
      const outcome = status === 'sent' ? { providerMessageId } : { error };
      await webhooks.publish({ id: `${type}:${id}`, type, at: clock(), data: { botId, correspondentId, messageId: seq, outboxId: deliveryId, text, ...outcome } });
    },
    ...deps.outbox,
  });

  const janitor = createMediaJanitor({
    jobs: deps.store.mediaJobs, host: jobs, history: deps.store.history, conversations, staging, clock, logger: deps.logger,
    rerouteStranded: () => mediaJobs.pools.rerouteStranded(),
    hosts: (botId) => fence.holds(botId),
    hostedBotIds: () => ownership.held().map((lease) => lease.botId),
    ...deps.media.janitor,
  });

  const replySetup = deps.replies ?? { generator: null, settingsFor: () => resolveReplySettings(undefined, '') };
  const replies = createReplies({
    store: deps.store,
    windowOf: async (botId, correspondentId) => (await conversations.queue(botId, correspondentId)).getSnapshot().context.window,
    outbox,
    presence: (botId) => {
      if (!bots.has(botId) || bots.state(botId) !== 'connected') return undefined;
      const session = bots.session(botId);
      return session?.sendPresence === undefined ? undefined : (to, presence) => session.sendPresence?.(to, presence) ?? Promise.resolve();
    },
    generator: replySetup.generator,
    settingsFor: replySetup.settingsFor,
    logger: deps.logger, clock, inspect: inspection.inspect, fence,
    ...(replySetup.retry === undefined ? {} : { retry: replySetup.retry }),
  });
  listeners.add((message) => replies.onMessage(message));

  const purge = createBotPurge({ store: deps.store, conversations, inspection, logger: deps.logger });
  const bots = createBots({
    store: deps.store, providers: deps.providers, jobs, inspection, stats, logger: deps.logger, clock,
    ...(deps.reconnect === undefined ? {} : { reconnect: deps.reconnect }),
    fence,
    claim: (botId) => ownership.claim(botId),
    onDeleted: (botId) => ownership.forget(botId),
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
    onMessage: (botId) => (message) => receive(botId, message),
    purge: async (botId) => {
      replies.dropBot(botId);
      await purge(botId);
    },
    onCreated: (botId) => conversations.admitBot(botId),
    onConnection: (botId, connected) => (connected ? outbox.resume(botId) : outbox.hold(botId)),
    onStateChanged: async ({ id, botId, state, reason }) => {
      await webhooks.publishPatiently({ id: `bot.state:${id}`, type: 'bot.state', at: clock(), data: { botId, state, reason } });
    },
  });

  /** One inbound message of a bot, durable (and the AI told) once this resolves. */
  async function receive(botId: string, message: InboundMessage): Promise<void> {
    if (message.fromMe !== true) return void (await conversations.receive(botId, message));
    // The owner's message is durable, and the AI paused, before the provider may acknowledge it.
    const recorded = await conversations.recordOwn(botId, message);
    const seq = recorded.messageId ?? (await deps.store.history.maxSeq(botId, message.correspondentId));
    await replies.ownerWrote(botId, message.correspondentId, seq);
  }

  const receipts = createReceipts({ history: deps.store.history, webhooks, clock, logger: deps.logger });

  const cluster: Cluster = {
    instanceId,
    hostsLocally: ownership.hosts,
    ownerOf: ownership.ownerOf,
    instances: ownership.instances,
    held: ownership.held,
  };

  return {
    bots, conversations, jobs, mediaJobs, outbox, listeners, replies, inspection, stats, history, owner, staging, janitor,
    webhooks,
    /** This instance's leases and the live instances (I14). */
    cluster,
    ownership,
    /** Inbound messages that arrive outside a provider session (Cloud API webhooks). */
    receive,
    /** A provider's report on a message the bot sent (Cloud API statuses). */
    recordReceipt: receipts.record,

    /**
     * Runs media-job effects a crash left unacknowledged and sweeps its leases, then starts the
     * workers and the outbox at once: claimable jobs wait for nothing else. Then the instance
     * takes the bots placed on it, several at a time (running bots reconnect), unless `hosting`
     * is false: a process that is not ready to answer yet (it still builds its HTTP server)
     * calls `ownership.start()` once it is, so no bot is placed on an instance that cannot act.
     */
    async start(options: { hosting?: boolean } = {}): Promise<void> {
      await staging.init();
      const { recovered, swept } = await mediaJobs.recover();
      mediaJobs.start();
      janitor.start();
      await outbox.start();
      await webhooks.start();
      conversations.start();
      // The bots placed here come back as they are taken: queues, bot actor, then reply actors.
      if (options.hosting !== false) await ownership.start();
      log.info({ instanceId, bots: ownership.held().length, swept, recovered }, 'runtime started');
    },

    /**
     * Stops background work without writing anything, as if the process died. The store is left
     * exactly as it was, which is what crash-recovery tests need.
     */
    halt(): void {
      ownership.halt();
      janitor.stop();
      mediaJobs.halt();
      replies.halt();
      outbox.halt();
      webhooks.halt();
      bots.halt();
      conversations.halt();
    },

    /** Closes sessions (bots keep their state, media jobs stay where they are), waits for workers, flushes history and every snapshot. */
    async shutdown(graceMs = 5000): Promise<void> {
      ownership.quiesce();
      janitor.stop();
      await replies.stop();
      await outbox.stop(graceMs);
      await mediaJobs.stop(graceMs);
      await bots.shutdown();
      await history.flush(graceMs);
      await conversations.flush();
      // Everything is written: the bots go to other instances at once instead of at lease expiry.
      await ownership.stop();
      // Last: events the steps above published are stored; what is left is sent after the restart.
      await webhooks.stop(graceMs);
    },
  };
}

export type ParleyRuntime = ReturnType<typeof createParleyRuntime>;
