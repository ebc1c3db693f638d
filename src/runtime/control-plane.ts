import { randomUUID } from 'node:crypto';
import { ParleyError, isParleyError } from '../domain/errors.ts';
import { validateLimits } from '../domain/queue-limits.ts';
import type { QueueMessage } from '../domain/queue-message.ts';
import type { BotRecord } from '../ports/bot-store.port.ts';
import type { HistoryRecord } from '../ports/history-store.port.ts';
import type { MediaJobState } from '../ports/media-job-store.port.ts';
import type { OutboxState } from '../ports/outbox-store.port.ts';
import type { Store } from '../ports/store.port.ts';
import type { BotDirectory } from './bot-directory.ts';
import { botView, correspondentList, jobView, outboxView } from './control-plane-views.ts';
import type { BotSettings, BotView, CorrespondentSummary, CreateBotRequest, JobPage, JobView, OutboxView } from './control-plane-views.ts';
import { decodeJobCursor, encodeJobCursor } from './job-cursor.ts';
import { DEFAULT_LIMITS } from './parley-runtime.ts';
import type { ParleyRuntime } from './parley-runtime.ts';
import { queueSummaries, queueWindow } from './queue-summaries.ts';
import type { QueueReader, QueueSummary } from './queue-summaries.ts';
import { SIMULATOR_PROVIDER } from './simulator-control.ts';
import type { SimulatorControl, SimulatorInboundRequest, SimulatorOutboundView } from './simulator-control.ts';

/** Jobs on one page of `GET /v1/jobs` unless the request asks for another number. */
export const DEFAULT_JOB_PAGE = 100;

export interface ControlPlaneDeps {
  readonly store: Store;
  readonly runtime: ParleyRuntime;
  readonly directory: BotDirectory;
  /** Provider kinds this process can run. */
  readonly providers: readonly string[];
  readonly simulator?: SimulatorControl;
  /** Told when a message is queued so it goes out without waiting for a poll. */
  readonly outbox?: { wake(): void };
  /** Per-bot observations to drop when a bot is deleted. */
  readonly metrics?: { forgetBot(botId: string): void };
  readonly clock?: () => number;
}

/**
 * What the REST routes call: one method per route, each taking validated input and returning the
 * response body. Errors are ParleyErrors with stable codes.
 */
export function createControlPlane(deps: ControlPlaneDeps) {
  const { store, runtime } = deps;
  const clock = deps.clock ?? Date.now;
  const reader: QueueReader = { store: store.actors, loaded: () => runtime.conversations.actors() };
  // Bots whose deletion is under way: to the API they are already gone.
  const removing = new Set<string>();

  async function botRecord(id: string): Promise<BotRecord> {
    const record = removing.has(id) ? null : await store.bots.get(id);
    if (record === null) throw new ParleyError('NOT_FOUND', `Bot ${id} not found`);
    return record;
  }

  async function view(record: BotRecord, conversations?: readonly QueueSummary[]): Promise<BotView> {
    const [jobs, queues] = await Promise.all([store.mediaJobs.countByState(record.id), conversations ?? queueSummaries(reader, record.id)]);
    const live = runtime.bots.has(record.id) ? { state: runtime.bots.state(record.id), lastError: runtime.bots.context(record.id).lastError } : null;
    return botView(record, live, jobs, queues);
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
      if (removing.has(request.id)) throw new ParleyError('CONFLICT', `Bot ${request.id} is being deleted; create it again once that is done`);
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
      const [records, conversations] = await Promise.all([store.bots.list(), queueSummaries(reader)]);
      const byBot = Map.groupBy(conversations, (c) => c.botId);
      return { bots: await Promise.all(records.filter((r) => !removing.has(r.id)).map((r) => view(r, byBot.get(r.id) ?? []))) };
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

    /** Stops the bot and removes it with everything it owned; the id is free again afterwards. */
    async deleteBot(id: string): Promise<void> {
      await botRecord(id);
      removing.add(id);
      try {
        await runtime.bots.delete(id);
      } finally {
        removing.delete(id);
      }
      deps.directory.forget(id);
      deps.metrics?.forgetBot(id);
      deps.simulator?.forget(id);
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
      return { correspondents: correspondentList(await queueSummaries(reader, id)) };
    },

    async queueMessages(id: string, correspondentId: string): Promise<{ messages: readonly QueueMessage[] }> {
      await botRecord(id);
      const messages = await queueWindow(reader, id, correspondentId);
      if (messages === null) throw new ParleyError('NOT_FOUND', `Bot ${id} has no conversation with ${correspondentId}`);
      return { messages };
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

    /** One page of jobs, oldest first; pass `nextCursor` back as `after` for the next page. */
    async listJobs(query: { botId?: string; state?: MediaJobState; limit?: number; after?: string }): Promise<JobPage> {
      const limit = query.limit ?? DEFAULT_JOB_PAGE;
      // One job more than asked for tells whether another page follows.
      const jobs = await store.mediaJobs.list({
        ...(query.botId === undefined ? {} : { botId: query.botId }),
        ...(query.state === undefined ? {} : { states: [query.state] }),
        ...(query.after === undefined ? {} : { after: decodeJobCursor(query.after) }),
        limit: limit + 1,
      });
      const page = jobs.slice(0, limit);
      const last = page.at(-1);
      return { jobs: page.map(jobView), nextCursor: jobs.length > limit && last !== undefined ? encodeJobCursor(last) : null };
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
