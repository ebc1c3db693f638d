import type { BotCreateBody, BotList, BotPatchBody, BotView, PairingCodeView, QrView } from './dto/bot.dto.ts';
import type { CorrespondentList, CorrespondentQuery, HistoryList, HistoryQuery, QueueMessageList } from './dto/conversation.dto.ts';
import type { JobList, JobListQuery, JobView } from './dto/job.dto.ts';
import type { OutboxEntry, OutboxList, OutboxQuery, SendMessageAccepted, SendMessageBody } from './dto/message.dto.ts';
import type { SimulatorInboundAccepted, SimulatorInboundBody, SimulatorOutboundList, SimulatorSessionList } from './dto/simulator.dto.ts';
import type { InstanceList } from './dto/instance.dto.ts';
import QRCode from 'qrcode';
import { ParleyError, isParleyError } from '../domain/errors.ts';
import { WHATSAPP_TEXT_CHARS, textLimitOf } from '../domain/queue-limits.ts';
import { canonicalCorrespondent } from '../domain/whatsapp-id.ts';
import type { BotRecord } from '../ports/bot-store.port.ts';
import type { Cluster } from '../ports/cluster.port.ts';
import type { Store } from '../ports/store.port.ts';
import type { BotQueueLimits } from './bot-queue-limits.ts';
import type { BotMediaKinds } from './bot-media-kinds.ts';
import { checkSettings, patchedSettings, poolsOf } from './bot-settings.ts';
import { CLOUD_API_PROVIDER, cloudApiMisplaced, cloudApiOfCreate, createCloudWebhookControl, secretsOf } from './cloud-api-control.ts';
import type { CloudApiWebhooks } from '../ports/cloud-api.port.ts';
import { writeCloudApiSecrets } from '../runtime/bots/cloud-api-credentials.ts';
import { createLanes } from '../runtime/actors/lanes.ts';
import { createBotHosting } from './bot-hosting.ts';
import type { HostingReader } from './bot-hosting.ts';
import { botView, correspondentList, jobView, outboxView, queueMessageView } from './control-plane-views.ts';
import { decodeJobCursor, decodeQueueCursor, encodeJobCursor, encodeQueueCursor } from './page-cursors.ts';
import { queueActorId } from '../runtime/conversations/conversations.ts';
import type { ParleyRuntime } from '../runtime/parley-runtime.ts';
import type { Outbox } from '../runtime/outbox/outbox.ts';
import { queuePage, queueSummaries, queueWindow } from './queue-summaries.ts';
import type { QueueReader, QueueSummary } from './queue-summaries.ts';
import { SIMULATOR_PROVIDER } from './simulator-control.ts';
import type { SimulatorControl } from './simulator-control.ts';
import { createWebhookControl } from './webhook-control.ts';
import type { BotReplySettings } from './bot-reply-settings.ts';
import type { ReplyView } from '../runtime/replies/replies.ts';

/** Conversations on one page of `GET /v1/bots/:id/correspondents` unless the request asks for another number. */
export const DEFAULT_CORRESPONDENT_PAGE = 100;

/** Jobs on one page of `GET /v1/jobs` unless the request asks for another number. */
export const DEFAULT_JOB_PAGE = 100;

export interface ControlPlaneDeps {
  readonly store: Store;
  readonly runtime: ParleyRuntime;
  readonly queueLimits: BotQueueLimits;
  /** Media kinds each bot processes, read by ingestion; told of every settings change. */
  readonly mediaKinds: BotMediaKinds;
  /** AI reply settings each bot runs with, read by the reply runtime; told of every settings change. */
  readonly replySettings?: BotReplySettings;
  /** Provider kinds this process can run. */
  readonly providers: readonly string[];
  readonly simulator?: SimulatorControl;
  /** Meta's webhooks of Cloud API bots; without it their webhook routes answer 404. */
  readonly cloudApiWebhooks?: CloudApiWebhooks;
  /** Told when a message is queued so it goes out without waiting for a poll. */
  /** Queues outgoing messages (history row first) and retries failed ones. */
  readonly outbox: Pick<Outbox, 'send' | 'retry'>;
  /** Per-bot observations to drop when a bot is deleted. */
  readonly metrics?: { forgetBot(botId: string): void };
  /** Longest text or caption this instance accepts; the simulator refuses longer ones. */
  readonly maxInboundTextChars?: number;
  /** Most bots that may exist; default 10,000. */
  readonly maxBots?: number;
  /** Which instance hosts each bot; absent for a single instance, which hosts every bot itself. */
  readonly cluster?: Cluster;
}

/**
 * What the REST routes call: one method per route, each taking validated input and returning the
 * response body, both typed by the route's schemas. Errors are ParleyErrors from the catalogue.
 */
export function createControlPlane(deps: ControlPlaneDeps) {
  const { store, runtime } = deps;
  const reader: QueueReader = { store: store.actors, history: store.history, loaded: () => runtime.conversations.actors() };
  // Bots whose deletion is under way: to the API they are already gone.
  const removing = new Set<string>();
  // Patches of one bot read and write its settings one after another, so none is lost.
  const patching = createLanes();
  const hosting = createBotHosting({ cluster: deps.cluster, store, bots: runtime.bots });

  async function botRecord(id: string): Promise<BotRecord> {
    const record = removing.has(id) ? null : await store.bots.get(id);
    if (record === null) throw ParleyError.of('NOT_FOUND', { resource: `Bot ${id}` });
    return record;
  }

  /** The conversation a correspondent id given over REST names, in the bot's provider's form. */
  async function conversationOf(id: string, correspondentId: string): Promise<string> {
    return canonicalCorrespondent((await botRecord(id)).provider, correspondentId);
  }

  async function view(record: BotRecord, conversations?: readonly QueueSummary[], hosts: HostingReader = hosting.reader([record.id])): Promise<BotView> {
    const [jobs, queues, live, owner] = await Promise.all([
      store.mediaJobs.countByState(record.id), conversations ?? queueSummaries(reader, record.id), hosts.report(record.id), hosts.owner(record.id),
    ]);
    return botView(record, live, jobs, queues, owner);
  }

  async function simulatorBot(id: string): Promise<SimulatorControl> {
    const record = await botRecord(id);
    if (record.provider !== SIMULATOR_PROVIDER || deps.simulator === undefined) {
      throw ParleyError.of('NOT_SUPPORTED_BY_PROVIDER', { provider: record.provider, feature: 'the simulator routes' });
    }
    return deps.simulator;
  }

  return {
    ...createWebhookControl(runtime.webhooks),
    ...createCloudWebhookControl({ store, webhooks: deps.cloudApiWebhooks, runtime }),

    async createBot(request: BotCreateBody): Promise<BotView> {
      if (!deps.providers.includes(request.provider)) {
        const problem = `provider ${request.provider} is not available in this process (available: ${deps.providers.join(', ')})`;
        throw ParleyError.of('VALIDATION_FAILED', { field: 'body.provider', problem }, { details: { field: 'provider' } });
      }
      if (removing.has(request.id)) throw ParleyError.of('BOT_BEING_DELETED', { id: request.id });
      const maxBots = deps.maxBots ?? 10_000;
      if (runtime.bots.ids().length >= maxBots) throw ParleyError.of('LIMIT_REACHED', { limit: String(maxBots), what: 'bots', setting: 'MAX_BOTS' });
      const cloud = cloudApiOfCreate(request);
      const settings = checkSettings({
        ...(request.queue === undefined ? {} : { queue: request.queue }),
        ...(request.ai === undefined ? {} : { ai: request.ai }),
        ...(request.media === undefined ? {} : { media: request.media }),
        ...(cloud === null ? {} : { cloudApi: cloud.settings }),
      });
      const record = await patching.run(request.id, async () => {
        // Secrets first, under the id no bot holds yet: a crash between the two writes leaves
        // secrets of no bot (replaced by the next create), never a bot that cannot connect.
        if (cloud !== null) {
          if ((await store.bots.get(request.id)) !== null) throw ParleyError.of('BOT_EXISTS', { id: request.id });
          await writeCloudApiSecrets(store.authState, request.id, cloud.secrets);
        }
        try {
          return await runtime.bots.create({ id: request.id, provider: request.provider, settings, desiredState: 'stopped' });
        } catch (err) {
          if (isParleyError(err, 'STORE_DUPLICATE_KEY')) throw ParleyError.of('BOT_EXISTS', { id: request.id }, { cause: err });
          throw err;
        }
      });
      deps.queueLimits.remember(record);
      deps.mediaKinds.remember(record);
      deps.replySettings?.remember(record);
      await runtime.mediaJobs.pools.setBotPools(record.id, poolsOf(record));
      return view(record);
    },

    /** Changes a bot's settings by merge patch; running conversations take new queue limits and media kinds at once. */
    async updateBot(id: string, patch: BotPatchBody): Promise<BotView> {
      return patching.run(id, async () => {
        const current = await botRecord(id);
        const settings = patchedSettings(current.settings, patch);
        if (patch.cloudApi !== undefined) {
          if (current.provider !== CLOUD_API_PROVIDER) throw cloudApiMisplaced();
          // A rotated token or secret is stored before the settings say anything changed.
          await writeCloudApiSecrets(store.authState, id, secretsOf(patch.cloudApi));
        }
        const record = await store.bots.update(id, { settings }, new Date());
        if (record === null || removing.has(id)) throw ParleyError.of('NOT_FOUND', { resource: `Bot ${id}` });
        deps.queueLimits.remember(record);
        deps.mediaKinds.remember(record);
        deps.replySettings?.remember(record);
        await runtime.conversations.applyLimits(id);
        await runtime.mediaJobs.pools.setBotPools(id, poolsOf(record));
        return view(record);
      });
    },

    /** Every bot in the store, wherever it is hosted. */
    async listBots(): Promise<BotList> {
      const [all, conversations] = await Promise.all([store.bots.list(), queueSummaries(reader)]);
      const records = all.filter((r) => !removing.has(r.id));
      const byBot = Map.groupBy(conversations, (c) => c.botId);
      const hosts = hosting.reader(records.map((r) => r.id));
      return { bots: await Promise.all(records.map((r) => view(r, byBot.get(r.id) ?? [], hosts))) };
    },

    async getBot(id: string): Promise<BotView> {
      return view(await botRecord(id));
    },

    /** Whether the bot exists (and is not being deleted). */
    async hasBot(id: string): Promise<boolean> {
      return !removing.has(id) && (await store.bots.get(id)) !== null;
    },

    /** The live instances sharing the store, each with the bots it hosts. */
    async instances(): Promise<InstanceList> {
      return hosting.instances();
    },

    /** A conversation's AI reply: its state, pause, counts and last error. */
    async aiStatus(id: string, correspondentId: string): Promise<ReplyView> {
      const cid = await conversationOf(id, correspondentId);
      return runtime.replies.view(id, cid);
    },

    /** Pauses the AI in one conversation for `durationMs`, or until resumed when absent; a reply being made is dropped. */
    async pauseAi(id: string, correspondentId: string, durationMs: number | null): Promise<ReplyView> {
      const cid = await conversationOf(id, correspondentId);
      return runtime.replies.pause(id, cid, durationMs);
    },

    async resumeAi(id: string, correspondentId: string): Promise<ReplyView> {
      const cid = await conversationOf(id, correspondentId);
      return runtime.replies.resume(id, cid);
    },

    /** Starts a bot hosted here; one no instance hosts right now starts where it is taken next. */
    async startBot(id: string): Promise<BotView> {
      await botRecord(id);
      if (runtime.bots.has(id)) await runtime.bots.start(id);
      else await runtime.bots.want(id, 'running');
      return view(await botRecord(id));
    },

    /** Stops a bot hosted here; one no instance hosts right now stays stopped where it is taken next. */
    async stopBot(id: string): Promise<BotView> {
      await botRecord(id);
      if (runtime.bots.has(id)) await runtime.bots.stop(id);
      else await runtime.bots.want(id, 'stopped');
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
      deps.queueLimits.forget(id);
      deps.mediaKinds.forget(id);
      deps.replySettings?.forget(id);
      await runtime.mediaJobs.pools.setBotPools(id, undefined);
      deps.metrics?.forgetBot(id);
      await deps.simulator?.forget(id);
    },

    async qr(id: string): Promise<QrView> {
      const record = await botRecord(id);
      if (record.provider === SIMULATOR_PROVIDER) throw ParleyError.of('NOT_SUPPORTED_BY_PROVIDER', { provider: record.provider, feature: 'QR codes' });
      const pending = runtime.bots.has(id) ? runtime.bots.pendingQr(id) : null;
      if (pending === null) return { qr: null, dataUrl: null, expiresAt: null };
      return {
        qr: pending.qr,
        dataUrl: await QRCode.toDataURL(pending.qr, { errorCorrectionLevel: 'L', margin: 2, width: 264 }),
        expiresAt: pending.expiresAt === null ? null : new Date(pending.expiresAt),
      };
    },

    async pairingCode(id: string, phoneNumber: string): Promise<PairingCodeView> {
      const record = await botRecord(id);
      const unsupported = () => ParleyError.of('NOT_SUPPORTED_BY_PROVIDER', { provider: record.provider, feature: 'pairing codes' });
      if (record.provider === SIMULATOR_PROVIDER) throw unsupported();
      const session = runtime.bots.session(id);
      if (session === undefined) throw ParleyError.of('BOT_NOT_RUNNING', { id });
      if (session.requestPairingCode === undefined) throw unsupported();
      return { code: await session.requestPairingCode(phoneNumber) };
    },

    async correspondents(id: string, query: CorrespondentQuery = {}): Promise<CorrespondentList> {
      await botRecord(id);
      const { summaries, next } = await queuePage(reader, id, { limit: query.limit ?? DEFAULT_CORRESPONDENT_PAGE, ...(query.after === undefined ? {} : { after: decodeQueueCursor(query.after) }) });
      return { correspondents: correspondentList(summaries), nextCursor: next === null ? null : encodeQueueCursor(next) };
    },

    async queueMessages(id: string, correspondentId: string): Promise<QueueMessageList> {
      const cid = await conversationOf(id, correspondentId);
      const messages = await queueWindow(reader, id, cid);
      if (messages === null) throw ParleyError.of('NOT_FOUND', { resource: `Conversation of bot ${id} with ${cid}` });
      return { messages: messages.map(queueMessageView) };
    },

    async history(id: string, correspondentId: string, page: HistoryQuery): Promise<HistoryList> {
      const cid = await conversationOf(id, correspondentId);
      const options = { limit: page.limit ?? 100, ...(page.beforeSeq === undefined ? {} : { beforeSeq: page.beforeSeq }) };
      const messages = await store.history.list(id, cid, options);
      // An empty page of a conversation is a page; no conversation at all is not found, as for its window.
      if (messages.length === 0 && (await store.actors.get(queueActorId(id, cid))) === null && (await store.history.list(id, cid, { limit: 1 })).length === 0) {
        throw ParleyError.of('NOT_FOUND', { resource: `Conversation of bot ${id} with ${cid}` });
      }
      return { messages };
    },

    async sendMessage(id: string, message: SendMessageBody): Promise<SendMessageAccepted> {
      const record = await botRecord(id);
      const limit = textLimitOf(record.provider);
      if (message.text.length > limit) {
        throw ParleyError.of('VALIDATION_FAILED', { field: 'body.text', problem: `is longer than the ${limit} characters one ${record.provider} message carries` }, { details: { field: 'text' } });
      }
      const queued = await deps.outbox.send(id, canonicalCorrespondent(record.provider, message.to), message.text);
      return { id: queued.id, state: queued.state };
    },

    async outbox(id: string, filter: OutboxQuery): Promise<OutboxList> {
      await botRecord(id);
      const records = await store.outbox.list({ botId: id, ...(filter.state === undefined ? {} : { states: [filter.state] }), limit: filter.limit ?? 100 });
      return { messages: records.map(outboxView) };
    },

    /** One page of jobs, oldest first; pass `nextCursor` back as `after` for the next page. */
    async listJobs(query: JobListQuery): Promise<JobList> {
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

    /** Sends a message that failed for good once more, in its conversation's order. */
    async retryMessage(id: string, messageId: string): Promise<OutboxEntry> {
      await botRecord(id);
      const message = await store.outbox.get(messageId);
      if (message === null || message.botId !== id) throw ParleyError.of('NOT_FOUND', { resource: `Outgoing message ${messageId} of bot ${id}` });
      if (message.state !== 'failed') throw ParleyError.of('MESSAGE_NOT_RETRYABLE', { id: messageId, state: message.state });
      const retried = await deps.outbox.retry(messageId);
      if (retried.state === 'failed') throw ParleyError.of('CONFLICT', { reason: `Outgoing message ${messageId} could not be retried` });
      return outboxView(retried);
    },

    async retryJob(jobId: string): Promise<JobView> {
      const job = await store.mediaJobs.get(jobId);
      if (job === null) throw ParleyError.of('NOT_FOUND', { resource: `Media job ${jobId}` });
      if (job.state !== 'failed') throw ParleyError.of('JOB_NOT_RETRYABLE', { id: jobId, state: job.state });
      const retried = await runtime.jobs.dispatch(jobId, { type: 'job.retry' });
      // It was failed when read; a retry that did not move it lost to another change in between.
      if (retried.state === 'failed') throw ParleyError.of('CONFLICT', { reason: `Media job ${jobId} could not be retried` });
      return jobView(retried);
    },

    async simulatorInbound(id: string, payload: SimulatorInboundBody): Promise<SimulatorInboundAccepted> {
      const max = deps.maxInboundTextChars ?? WHATSAPP_TEXT_CHARS;
      for (const [field, text] of [['body.text', payload.text], ['body.media.caption', payload.media?.caption]] as const) {
        if (text !== undefined && text.length > max) throw ParleyError.of('VALIDATION_FAILED', { field, problem: `must not be longer than ${max} characters (INBOUND_TEXT_MAX_CHARS)` });
      }
      return (await simulatorBot(id)).inbound(id, payload);
    },

    async simulatorOutbound(id: string): Promise<SimulatorOutboundList> {
      return { messages: [...(await (await simulatorBot(id)).outbound(id))] };
    },

    async simulatorSessions(id: string): Promise<SimulatorSessionList> {
      return { sessions: [...(await (await simulatorBot(id)).sessions(id))] };
    },
  };
}

export type ControlPlane = ReturnType<typeof createControlPlane>;
