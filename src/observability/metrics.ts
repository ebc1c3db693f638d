import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Cluster } from '../ports/cluster.port.ts';
import type { MediaJobRecord, MediaJobState, MediaJobStore } from '../ports/media-job-store.port.ts';
import type { Store } from '../ports/store.port.ts';

/** Every top-level bot state, so each appears in the exposition even at zero. */
const BOT_STATES = ['stopped', 'starting', 'awaiting-qr', 'connecting', 'connected', 'reconnecting', 'stopping', 'logged-out', 'failed'] as const;
/** How this instance's hold on a bot changed: took it, found it taken over or lapsed, gave it up. */
export const OWNERSHIP_CHANGES = ['acquired', 'lost', 'released'] as const;
export type OwnershipChange = (typeof OWNERSHIP_CHANGES)[number];
const JOB_STATES: readonly MediaJobState[] = ['pending', 'processing', 'holding', 'completed', 'delivered', 'failed', 'discarded'];
/** Latency buckets in seconds: milliseconds for pickup, up to minutes for slow media. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Jobs whose last written state is remembered, so a rewrite of the same state is not counted twice. */
const TRACKED_JOBS = 10_000;

/** What the metrics read when scraped; the runtime and its outbox satisfy it. */
export interface MetricsSource {
  readonly bots: { ids(): readonly string[]; state(botId: string): string };
  readonly conversations: {
    actors(): ReadonlyArray<{ readonly botId: string; getSnapshot(): { context: { window: { messages: ReadonlyArray<{ mediaJobId: string | null }> } } } }>;
  };
  readonly stats: { readonly conflicts: number; readonly lateResultsDiscarded: number; readonly duplicates: number; readonly deadLettered: number };
  readonly countJobs: () => Promise<Partial<Record<MediaJobState, number>>>;
  readonly outbox?: { readonly stats: { readonly sent: number; readonly retried: number; readonly failed: number } };
  /** Webhook delivery attempts by how they ended, and reports fencing turned away. */
  readonly webhooks?: { readonly stats: { readonly delivered: number; readonly retried: number; readonly failed: number; readonly lateReportsDiscarded: number } };
  /** AI replies by how they ended; see `ReplyStats`. */
  readonly replies?: { readonly stats: { readonly queued: number; readonly retried: number; readonly failed: number; readonly dropped: number; readonly abandoned: number; readonly lateResults: number } };
  /** Bytes of media staged now, and the jobs each pool runs and holds queued in this process. */
  readonly media?: {
    stagedBytes(): number;
    pools(): Record<string, { running: number; queued: number; concurrency: number }>;
  };
  /** This instance's place among the instances sharing the store. */
  readonly cluster?: Pick<Cluster, 'instanceId' | 'held' | 'instances'>;
}

export interface MetricsOptions {
  /** Also export Node's process metrics (CPU, memory, event loop lag). Default true. */
  readonly defaultMetrics?: boolean;
}

/**
 * Parley's Prometheus registry. Gauges and counters are read from the runtime when scraped;
 * latency histograms are fed by the worker's claim hook (`onClaim`) and by `instrumentStore`,
 * which watches media-job writes for `completed` (processing time since the claim) and
 * `delivered` (end-to-end time since the job was created with its placeholder).
 */
export function createMetrics(options: MetricsOptions = {}) {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  let source: MetricsSource | undefined;
  // Keyed by job id; the bot id lets a deleted bot's jobs be forgotten.
  const claimedAt = new Map<string, { readonly botId: string; readonly at: number }>();
  const lastState = new Map<string, { readonly botId: string; readonly state: string }>();
  const registers = [registry];

  new Gauge({
    name: 'parley_bots',
    help: 'Bots by the state of their bot actor.',
    labelNames: ['state'] as const,
    registers,
    collect() {
      this.reset();
      if (source === undefined) return;
      const counts = new Map<string, number>(BOT_STATES.map((s) => [s, 0]));
      for (const id of source.bots.ids()) {
        const state = source.bots.state(id);
        counts.set(state, (counts.get(state) ?? 0) + 1);
      }
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });

  function depthByBot(s: MetricsSource): Map<string, { messages: number; placeholders: number }> {
    const depth = new Map(s.bots.ids().map((id) => [id, { messages: 0, placeholders: 0 }]));
    for (const q of s.conversations.actors()) {
      const entry = depth.get(q.botId) ?? { messages: 0, placeholders: 0 };
      const { messages } = q.getSnapshot().context.window;
      entry.messages += messages.length;
      entry.placeholders += messages.filter((m) => m.mediaJobId !== null).length;
      depth.set(q.botId, entry);
    }
    return depth;
  }
  const perBot = (name: string, help: string, read: (d: { messages: number; placeholders: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['bot'] as const,
      registers,
      collect() {
        this.reset();
        if (source === undefined) return;
        for (const [bot, entry] of depthByBot(source)) this.set({ bot }, read(entry));
      },
    });
  perBot('parley_queue_messages', 'Messages in the queue windows of a bot\'s conversations in memory (queue depth; idle conversations are not counted).', (d) => d.messages);
  perBot('parley_queue_placeholders', 'Placeholders awaiting their media job in the queue windows of a bot\'s conversations in memory.', (d) => d.placeholders);
  new Gauge({
    name: 'parley_queues_resident',
    help: 'Conversations whose queue is in memory (the rest are idle and load on their next message).',
    registers,
    collect() {
      this.set(source?.conversations.actors().length ?? 0);
    },
  });

  new Gauge({
    name: 'parley_media_staged_bytes',
    help: 'Bytes of downloaded media waiting for their job (counted against MEDIA_QUOTA_BYTES).',
    registers,
    collect() {
      this.set(source?.media?.stagedBytes() ?? 0);
    },
  });
  const perPool = (name: string, help: string, read: (pool: { running: number; concurrency: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'] as const,
      registers,
      collect() {
        this.reset();
        for (const [pool, stats] of Object.entries(source?.media?.pools() ?? {})) this.set({ pool }, read(stats));
      },
    });
  perPool('parley_media_pool_running', 'Media jobs a pool is processing in this instance; its concurrency is parley_media_pool_concurrency.', (p) => p.running);
  perPool('parley_media_pool_concurrency', 'Media jobs a pool may process at once in this instance.', (p) => p.concurrency);

  new Gauge({
    name: 'parley_media_jobs',
    help: 'Media jobs by state.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      this.reset();
      if (source === undefined) return;
      const counts = await source.countJobs();
      for (const state of JOB_STATES) this.set({ state }, counts[state] ?? 0);
    },
  });

  new Gauge({
    name: 'parley_instance_info',
    help: 'This instance, by its id; always 1.',
    labelNames: ['instance'] as const,
    registers,
    collect() {
      this.reset();
      if (source?.cluster !== undefined) this.set({ instance: source.cluster.instanceId }, 1);
    },
  });
  new Gauge({
    name: 'parley_bots_owned',
    help: 'Bots whose ownership lease this instance holds (the bots it hosts).',
    registers,
    collect() {
      this.set(source?.cluster?.held().length ?? 0);
    },
  });
  new Gauge({
    name: 'parley_instances_alive',
    help: 'Instances announcing themselves in the shared store, this one included.',
    registers,
    async collect() {
      const cluster = source?.cluster;
      if (cluster === undefined) return this.set(0);
      // A store that does not answer leaves the last count; the other metrics still go out.
      const alive = await cluster.instances().then((list) => list.length, () => undefined);
      if (alive !== undefined) this.set(alive);
    },
  });
  const ownershipChanges = new Counter({
    name: 'parley_ownership_changes_total',
    help: 'Changes of this instance\'s hold on a bot: acquired (took it), lost (taken over, or lapsed before renewal), released (gave it up).',
    labelNames: ['change'] as const,
    registers,
  });
  for (const change of OWNERSHIP_CHANGES) ownershipChanges.inc({ change }, 0);

  const pickup = new Histogram({ name: 'parley_media_job_pickup_seconds', help: 'Time from a media job being created to a worker claiming it.', buckets: LATENCY_BUCKETS, registers });
  const processing = new Histogram({ name: 'parley_media_job_processing_seconds', help: 'Time from a claim to the job completing.', buckets: LATENCY_BUCKETS, registers });
  const endToEnd = new Histogram({
    name: 'parley_media_job_end_to_end_seconds',
    help: 'Time from a media message arriving (job created) to its placeholder being finalized.',
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const fromStats = (name: string, help: string, read: (s: MetricsSource) => number | undefined) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const value = source === undefined ? undefined : read(source);
        if (value !== undefined) this.inc(value);
      },
    });
  fromStats('parley_late_results_discarded_total', 'Worker results discarded because their attempt was no longer current.', (s) => s.stats.lateResultsDiscarded);
  fromStats('parley_store_write_conflicts_total', 'Compare-and-set writes that lost to another writer and were re-decided.', (s) => s.stats.conflicts);
  fromStats('parley_inbound_duplicates_total', 'Inbound replays recognized and stored only once.', (s) => s.stats.duplicates);
  fromStats('parley_media_jobs_dead_lettered_total', 'Media jobs that failed for good.', (s) => s.stats.deadLettered);
  fromStats('parley_outbox_sent_total', 'Outbound messages sent.', (s) => s.outbox?.stats.sent);
  fromStats('parley_outbox_retries_total', 'Outbound sends that failed and were rescheduled.', (s) => s.outbox?.stats.retried);
  fromStats('parley_outbox_failed_total', 'Outbound messages that failed for good.', (s) => s.outbox?.stats.failed);
  /** A counter with one series per outcome, read from a stats object when scraped. */
  function byOutcome<const K extends string>(name: string, help: string, outcomes: readonly K[], read: (s: MetricsSource) => Readonly<Record<K, number>> | undefined) {
    return new Counter({
      name,
      help,
      labelNames: ['outcome'] as const,
      registers,
      collect() {
        this.reset();
        const stats = source === undefined ? undefined : read(source);
        if (stats === undefined) return;
        for (const outcome of outcomes) this.inc({ outcome }, stats[outcome]);
      },
    });
  }
  byOutcome(
    'parley_webhook_deliveries_total',
    'Webhook delivery attempts by outcome: delivered, retried (to be tried again) or failed (for good, until an operator retries it).',
    ['delivered', 'retried', 'failed'],
    (s) => s.webhooks?.stats,
  );
  fromStats('parley_webhook_late_reports_discarded_total', 'Webhook delivery reports discarded because their attempt was no longer current.', (s) => s.webhooks?.stats.lateReportsDiscarded);

  byOutcome(
    'parley_ai_replies_total',
    'AI replies by outcome: queued (handed to the outbox), retried (a model call failed and is tried again), failed (given up), dropped (a human took over), abandoned (AI switched off meanwhile).',
    ['queued', 'retried', 'failed', 'dropped', 'abandoned'],
    (s) => s.replies?.stats,
  );
  fromStats('parley_ai_late_answers_discarded_total', 'Model answers that arrived for a reply no longer being made.', (s) => s.replies?.stats.lateResults);

  function remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    if (map.size > TRACKED_JOBS) map.delete(map.keys().next().value as string);
  }

  function observeWrite(job: MediaJobRecord, now: Date): void {
    const previous = lastState.get(job.id)?.state;
    remember(lastState, job.id, { botId: job.botId, state: job.state });
    if (previous === job.state) return;
    if (job.state === 'completed') {
      const claimed = claimedAt.get(job.id);
      claimedAt.delete(job.id);
      if (claimed !== undefined) processing.observe(Math.max(0, now.getTime() - claimed.at) / 1000);
    } else if (job.state === 'delivered') {
      endToEnd.observe(Math.max(0, now.getTime() - job.createdAt.getTime()) / 1000);
    }
  }

  return {
    registry,
    contentType: registry.contentType as string,
    /** The exposition text. */
    render: (): Promise<string> => registry.metrics(),
    /** Points the scrape-time metrics at a running system. */
    attach(next: MetricsSource): void {
      source = next;
    },
    /** Counts one change of this instance's hold on a bot; the ownership runtime calls it. */
    onOwnership(change: OwnershipChange): void {
      ownershipChanges.inc({ change });
    },
    /** The media worker's claim hook: records pickup latency and when processing began. */
    onClaim(job: MediaJobRecord, pickupMs: number): void {
      pickup.observe(Math.max(0, pickupMs) / 1000);
      remember(claimedAt, job.id, { botId: job.botId, at: job.createdAt.getTime() + pickupMs });
    },
    /**
     * Forgets what is tracked for a deleted bot's jobs. Per-bot gauges need nothing: they are read
     * from the hosted bots and loaded queues at every scrape.
     */
    forgetBot(botId: string): void {
      for (const map of [claimedAt, lastState]) {
        for (const [jobId, entry] of map) if (entry.botId === botId) map.delete(jobId);
      }
    },
    /** The same store, with media-job writes observed for the processing and end-to-end histograms. */
    instrumentStore(store: Store): Store {
      const jobs = store.mediaJobs;
      const mediaJobs: MediaJobStore = new Proxy(jobs, {
        get(target, prop, receiver) {
          if (prop !== 'compareAndSet') return Reflect.get(target, prop, receiver) as unknown;
          return async (...args: Parameters<MediaJobStore['compareAndSet']>) => {
            const written = await target.compareAndSet(...args);
            if (written !== null) observeWrite(written, args[3]);
            return written;
          };
        },
      });
      return new Proxy(store, { get: (target, prop, receiver) => (prop === 'mediaJobs' ? mediaJobs : (Reflect.get(target, prop, receiver) as unknown)) });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
