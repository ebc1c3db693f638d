import { randomUUID } from 'node:crypto';
import { ParleyError, isParleyError } from '../domain/errors.ts';
import type { MediaKind } from '../domain/media-kind.ts';
import { validateLimits } from '../domain/queue-limits.ts';
import type { QueueLimits, QueueMessage } from '../domain/queue-message.ts';
import type { BotRecord, BotStore } from '../ports/bot-store.port.ts';
import type { HistoryRecord } from '../ports/history-store.port.ts';
import type { MediaJobRecord, MediaJobState } from '../ports/media-job-store.port.ts';
import type { OutboxRecord, OutboxState } from '../ports/outbox-store.port.ts';
import type { Store } from '../ports/store.port.ts';
import { queueActorId } from './conversations.ts';
import { createMetrics } from './metrics.ts';
import type { MetricsOptions } from './metrics.ts';
import { createOutboxSender } from './outbox-sender.ts';
import type { OutboxSenderOptions } from './outbox-sender.ts';
import { DEFAULT_LIMITS, createParleyRuntime } from './parley-runtime.ts';
import type { ParleyRuntime, RuntimeDeps } from './parley-runtime.ts';

/** The provider kind whose bots accept simulated inbound messages. */
export const SIMULATOR_PROVIDER = 'simulator';

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

/** A simulated inbound message, as `POST /v1/bots/:id/simulator/inbound` takes it. */
export interface SimulatorInboundRequest {
  readonly from: string;
  readonly text?: string;
  readonly media?: { readonly kind: MediaKind; readonly mimetype: string; readonly dataBase64: string; readonly fileName?: string; readonly caption?: string };
  readonly corrupt?: boolean;
  readonly providerMessageId?: string;
  readonly group?: string | null;
  readonly displayName?: string;
}

export interface SimulatorOutboundView {
  readonly to: string;
  readonly text: string;
  readonly providerMessageId: string;
  readonly sentAt: number;
}

/** The operator-facing side of the simulator provider (the adapter's hub satisfies it). */
export interface SimulatorControl {
  inbound(botId: string, payload: SimulatorInboundRequest): Promise<{ messageId: string }>;
  outbound(botId: string): readonly SimulatorOutboundView[];
}

/**
 * Bot definitions the runtime needs synchronously: the queue limits a new conversation of a bot
 * starts with. Loaded once at start-up, updated as bots are created and deleted.
 */
export function createBotDirectory(defaults: QueueLimits = DEFAULT_LIMITS) {
  const limits = new Map<string, QueueLimits>();
  const remember = (record: Pick<BotRecord, 'id' | 'settings'>): void => {
    limits.set(record.id, { ...defaults, ...queueSettingsOf(record.settings) });
  };
  return {
    limitsFor: (botId: string): QueueLimits => limits.get(botId) ?? defaults,
    remember,
    forget: (botId: string): void => void limits.delete(botId),
    async load(bots: BotStore): Promise<number> {
      const records = await bots.list();
      records.forEach(remember);
      return records.length;
    },
  };
}

export type BotDirectory = ReturnType<typeof createBotDirectory>;

export interface ControlPlaneDeps {
  readonly store: Store;
  readonly runtime: ParleyRuntime;
  readonly directory: BotDirectory;
  /** Provider kinds this process can run. */
  readonly providers: readonly string[];
  readonly simulator?: SimulatorControl;
  /** Told when a message is queued so it goes out without waiting for a poll. */
  readonly outbox?: { wake(): void };
  readonly clock?: () => number;
  /** Most jobs `listJobs` returns. Default 1000. */
  readonly maxJobs?: number;
}

/**
 * What the REST routes call: one method per route, each taking validated input and returning the
 * response body. Errors are ParleyErrors with stable codes.
 */
export function createControlPlane(deps: ControlPlaneDeps) {
  const { store, runtime } = deps;
  const clock = deps.clock ?? Date.now;

  async function botRecord(id: string): Promise<BotRecord> {
    const record = await store.bots.get(id);
    if (record === null) throw new ParleyError('NOT_FOUND', `Bot ${id} not found`);
    return record;
  }

  function queuesOf(botId: string) {
    return runtime.conversations.actors().filter((q) => q.botId === botId);
  }

  async function view(record: BotRecord): Promise<BotView> {
    const hosted = runtime.bots.has(record.id);
    const counts = await store.mediaJobs.countByState(record.id);
    const queues = { correspondents: 0, messages: 0, placeholders: 0 };
    for (const q of queuesOf(record.id)) {
      const { messages } = q.getSnapshot().context.window;
      queues.correspondents += 1;
      queues.messages += messages.length;
      queues.placeholders += messages.filter((m) => m.mediaJobId !== null).length;
    }
    return {
      id: record.id,
      provider: record.provider,
      state: hosted ? runtime.bots.state(record.id) : 'stopped',
      desiredState: record.desiredState,
      pendingMediaJobs: OPEN_JOB_STATES.reduce((sum, s) => sum + (counts[s] ?? 0), 0),
      queues,
      lastError: hosted ? runtime.bots.context(record.id).lastError : null,
      settings: record.settings as BotSettings,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  async function simulatorBot(id: string): Promise<SimulatorControl> {
    const record = await botRecord(id);
    if (record.provider !== SIMULATOR_PROVIDER || deps.simulator === undefined) {
      throw new ParleyError('NOT_SUPPORTED_BY_PROVIDER', `Bot ${id} runs on provider ${record.provider}, not the simulator`);
    }
    return deps.simulator;
  }

  return {
    async createBot(request: CreateBotRequest): Promise<BotView> {
      if (!deps.providers.includes(request.provider)) {
        throw new ParleyError('VALIDATION_FAILED', `body.provider: provider ${request.provider} is not available in this process (available: ${deps.providers.join(', ')})`, {
          details: { field: 'provider' },
        });
      }
      const problems = validateLimits({ ...DEFAULT_LIMITS, ...request.queue });
      if (problems.length > 0) throw new ParleyError('VALIDATION_FAILED', `body.queue: ${problems.join('; ')}`, { details: { field: 'queue' } });
      const settings: BotSettings & Record<string, unknown> = {
        ...(request.queue === undefined ? {} : { queue: request.queue }),
        ...(request.ai === undefined ? {} : { ai: request.ai }),
        ...(request.media === undefined ? {} : { media: request.media }),
      };
      let record: BotRecord;
      try {
        record = await runtime.bots.create({ id: request.id, provider: request.provider, settings, desiredState: 'stopped' });
      } catch (err) {
        if (isParleyError(err, 'STORE_DUPLICATE_KEY')) throw new ParleyError('CONFLICT', `Bot ${request.id} already exists`, { cause: err });
        throw err;
      }
      deps.directory.remember(record);
      return view(record);
    },

    async listBots(): Promise<{ bots: BotView[] }> {
      const records = await store.bots.list();
      return { bots: await Promise.all(records.map(view)) };
    },

    async getBot(id: string): Promise<BotView> {
      return view(await botRecord(id));
    },

    async startBot(id: string): Promise<BotView> {
      await botRecord(id);
      await runtime.bots.start(id);
      return view(await botRecord(id));
    },

    async stopBot(id: string): Promise<BotView> {
      await botRecord(id);
      await runtime.bots.stop(id);
      return view(await botRecord(id));
    },

    async deleteBot(id: string): Promise<void> {
      await botRecord(id);
      await runtime.bots.delete(id);
      deps.directory.forget(id);
    },

    async qr(id: string): Promise<{ qr: string | null }> {
      const record = await botRecord(id);
      if (record.provider === SIMULATOR_PROVIDER) throw new ParleyError('NOT_SUPPORTED_BY_PROVIDER', 'The simulator needs no QR code');
      return { qr: runtime.bots.has(id) ? runtime.bots.context(id).qr : null };
    },

    async pairingCode(id: string, phoneNumber: string): Promise<{ code: string }> {
      const record = await botRecord(id);
      if (record.provider === SIMULATOR_PROVIDER) throw new ParleyError('NOT_SUPPORTED_BY_PROVIDER', 'The simulator needs no pairing code');
      const session = runtime.bots.session(id);
      if (session === undefined) throw new ParleyError('CONFLICT', `Bot ${id} is not running; start it first`);
      if (session.requestPairingCode === undefined) {
        throw new ParleyError('NOT_SUPPORTED_BY_PROVIDER', `Provider ${record.provider} does not link by pairing code`);
      }
      return { code: await session.requestPairingCode(phoneNumber) };
    },

    async correspondents(id: string): Promise<{ correspondents: CorrespondentSummary[] }> {
      await botRecord(id);
      const correspondents = queuesOf(id).map((q) => {
        const { correspondentId, window } = q.getSnapshot().context;
        const last = window.messages.at(-1);
        return {
          id: correspondentId,
          messages: window.messages.length,
          characters: window.totalChars,
          placeholders: window.messages.filter((m) => m.mediaJobId !== null).length,
          lastAcceptedAt: last?.acceptedAt ?? null,
        };
      });
      correspondents.sort((a, b) => (b.lastAcceptedAt ?? 0) - (a.lastAcceptedAt ?? 0) || a.id.localeCompare(b.id));
      return { correspondents };
    },

    async queueMessages(id: string, correspondentId: string): Promise<{ messages: readonly QueueMessage[] }> {
      await botRecord(id);
      const actorId = queueActorId(id, correspondentId);
      const q = runtime.conversations.actors().find((a) => a.id === actorId);
      if (q === undefined) throw new ParleyError('NOT_FOUND', `Bot ${id} has no conversation with ${correspondentId}`);
      return { messages: q.getSnapshot().context.window.messages };
    },

    async history(id: string, correspondentId: string, page: { limit?: number; beforeSeq?: number }): Promise<{ messages: HistoryRecord[] }> {
      await botRecord(id);
      const options = { limit: page.limit ?? 100, ...(page.beforeSeq === undefined ? {} : { beforeSeq: page.beforeSeq }) };
      return { messages: await store.history.list(id, correspondentId, options) };
    },

    async sendMessage(id: string, message: { to: string; text: string }): Promise<{ id: string; state: OutboxState }> {
      await botRecord(id);
      const queued = await store.outbox.enqueue({ id: randomUUID(), botId: id, to: message.to, text: message.text }, new Date(clock()));
      deps.outbox?.wake();
      return { id: queued.id, state: queued.state };
    },

    async outbox(id: string, filter: { state?: OutboxState; limit?: number }): Promise<{ messages: OutboxView[] }> {
      await botRecord(id);
      const records = await store.outbox.list(id, { ...(filter.state === undefined ? {} : { states: [filter.state] }), limit: filter.limit ?? 100 });
      return { messages: records.map(outboxView) };
    },

    async listJobs(filter: { botId?: string; state?: MediaJobState }): Promise<{ jobs: JobView[] }> {
      const jobs = await store.mediaJobs.list({
        ...(filter.botId === undefined ? {} : { botId: filter.botId }),
        ...(filter.state === undefined ? {} : { states: [filter.state] }),
        limit: deps.maxJobs ?? 1000,
      });
      return { jobs: jobs.map(jobView) };
    },

    async retryJob(jobId: string): Promise<JobView> {
      const job = await store.mediaJobs.get(jobId);
      if (job === null) throw new ParleyError('NOT_FOUND', `Media job ${jobId} not found`);
      if (job.state !== 'failed') throw new ParleyError('CONFLICT', `Media job ${jobId} is ${job.state}; only failed jobs can be retried`);
      const retried = await runtime.jobs.dispatch(jobId, { type: 'job.retry' });
      if (retried.state === 'failed') throw new ParleyError('CONFLICT', `Media job ${jobId} could not be retried`);
      return jobView(retried);
    },

    async simulatorInbound(id: string, payload: SimulatorInboundRequest): Promise<{ messageId: string }> {
      return (await simulatorBot(id)).inbound(id, payload);
    },

    async simulatorOutbound(id: string): Promise<{ messages: readonly SimulatorOutboundView[] }> {
      return { messages: (await simulatorBot(id)).outbound(id) };
    },
  };
}

export type ControlPlane = ReturnType<typeof createControlPlane>;

function queueSettingsOf(settings: Readonly<Record<string, unknown>>): Partial<QueueLimits> {
  const queue = settings['queue'];
  if (typeof queue !== 'object' || queue === null) return {};
  const out: Partial<Record<keyof QueueLimits, number>> = {};
  for (const key of ['maxMessages', 'maxCharacters', 'maxAgeDays', 'maxCharactersPerMessage'] as const) {
    const value = (queue as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}

function jobView(job: MediaJobRecord): JobView {
  return { id: job.id, botId: job.botId, correspondentId: job.correspondentId, kind: job.kind, state: job.state, attempt: job.attempt, error: job.error };
}

function outboxView(r: OutboxRecord): OutboxView {
  return { id: r.id, to: r.to, text: r.text, state: r.state, attempt: r.attempt, lastError: r.lastError, nextAttemptAt: r.nextAttemptAt, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

export interface ParleyServicesDeps extends Omit<RuntimeDeps, 'limitsFor' | 'hooks'> {
  readonly simulator?: SimulatorControl;
  readonly outbox?: Partial<Pick<OutboxSenderOptions, 'pollMs' | 'retryDelaysMs'>>;
  readonly metrics?: MetricsOptions;
}

/**
 * Everything behind the REST API, wired once for `main.ts` and tests alike: the bot directory
 * feeding queue limits, the runtime on a metrics-instrumented store, the outbox sender, the
 * Prometheus registry and the control plane the routes call.
 */
export function createParleyServices(deps: ParleyServicesDeps) {
  const { simulator, outbox: outboxOptions, metrics: metricsOptions, ...runtimeDeps } = deps;
  const directory = createBotDirectory();
  const metrics = createMetrics(metricsOptions);
  const store = metrics.instrumentStore(deps.store);
  const runtime = createParleyRuntime({ ...runtimeDeps, store, limitsFor: directory.limitsFor, hooks: { onClaim: metrics.onClaim } });
  const outbox = createOutboxSender({
    outbox: store.outbox,
    bots: runtime.bots,
    owner: runtime.owner,
    logger: deps.logger,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...outboxOptions,
  });
  metrics.attach({ bots: runtime.bots, conversations: runtime.conversations, stats: runtime.stats, countJobs: () => store.mediaJobs.countByState(), outbox });
  const controlPlane = createControlPlane({
    store,
    runtime,
    directory,
    providers: Object.keys(deps.providers),
    outbox,
    ...(simulator === undefined ? {} : { simulator }),
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
  return {
    store,
    runtime,
    controlPlane,
    metrics,
    outbox,
    directory,
    /** Loads bot settings, restores the runtime (bots that should run start again), starts sending. */
    async start(): Promise<void> {
      await directory.load(store.bots);
      await runtime.start();
      outbox.start();
    },
    /** Stops sending, then stops bots and workers and writes every snapshot. */
    async shutdown(graceMs?: number): Promise<void> {
      await outbox.stop();
      await runtime.shutdown(graceMs);
    },
  };
}

export type ParleyServices = ReturnType<typeof createParleyServices>;
