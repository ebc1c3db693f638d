import { randomUUID } from 'node:crypto';
import { formatMediaContent, formatPendingMedia, mediaLabel } from '../../domain/media-content.ts';
import type { MediaDescriptor, MediaKind } from '../../domain/media-kind.ts';
import type { FinalizePlaceholderParams, MediaJobInput, ReopenPlaceholderParams } from '../../../machines/media-job.machine.ts';
import { ParleyError } from '../../domain/errors.ts';
import type { QueueLimits } from '../../domain/queue-message.ts';
import { WHATSAPP_TEXT_CHARS, truncateContent } from '../../domain/queue-limits.ts';
import { findByProviderMessageId } from '../../domain/queue-window.ts';
import type { Logger } from '../../logging/logger.ts';
import type { OutboundOutcome } from '../../ports/history-store.port.ts';
import type { InboundMessage } from '../../ports/provider.port.ts';
import type { Store } from '../../ports/store.port.ts';
import { createLanes } from '../actors/lanes.ts';
import { queueResidency } from './queue-residency.ts';
import type { ActorFence, PersistenceStats } from '../actors/persisted-actor.ts';
import { REACTION_KIND, inboundRow, outboundMessage, outboundRow, ownerRow } from './history-rows.ts';
import type { Arrival } from './history-rows.ts';
import { queueActorId, queueActorOptions } from './queue-actor.ts';
import type { QueueActor } from './queue-actor.ts';
import { queueRecovery } from './recovery.ts';
import type { HistoryWriteOutcome, HistoryWriter } from './history-writer.ts';
import type { ListenerRegistry } from './listener-registry.ts';
import type { InspectionHub } from '../actors/inspection-hub.ts';
import type { Downloadable, StagingOutcome } from '../media-jobs/media-staging.ts';

export { queueActorId };
export type { Arrival, QueueActor };

export interface ConversationsDeps {
  readonly store: Store;
  readonly history: HistoryWriter;
  readonly listeners: ListenerRegistry;
  readonly inspection: InspectionHub;
  readonly stats: PersistenceStats & { duplicates: number };
  readonly logger: Logger;
  readonly clock: () => number;
  readonly limitsFor: (botId: string) => QueueLimits;
  /** Media kinds a bot turns into text (its `media.kinds` setting); every kind when absent. */
  readonly mediaKindsFor?: (botId: string) => ReadonlySet<MediaKind>;
  /** Queue snapshots are rebuilt from history on restore, so a burst may share one write. */
  readonly snapshotCoalesceMs?: number;
  /** Where a media message's job goes once its placeholder row is durable. */
  readonly placeholderJobs: PlaceholderJobs;
  /** Where a media message's bytes are downloaded to before the message is written. */
  readonly staging: MediaStagingArea;
  /** How long a queue stays in memory untouched; default ten minutes. */
  readonly idleMs?: number;
  /** Placeholders one conversation may hold at once; default `MAX_PENDING_MEDIA`. */
  readonly maxPendingMedia?: number;
  /** Longer inbound texts and captions are stored cut, with the truncation marker; default WhatsApp's own ceiling. */
  readonly maxInboundTextChars?: number;
  /** Most queues in memory at once; default `DEFAULT_MAX_RESIDENT`. */
  readonly maxResident?: number;
  /** Ownership fencing (I14): queues of bots this instance does not hold are neither loaded nor written. */
  readonly fence?: ActorFence;
}

export const DEFAULT_QUEUE_IDLE_MS = 10 * 60_000;
export const DEFAULT_MAX_RESIDENT = 20_000;

/**
 * Placeholders one conversation may hold at once. A placeholder is never evicted, so without a
 * ceiling a sender could grow a stored queue towards MongoDB's 16 MiB document limit while media
 * waits; past it a media message is kept as a note that it was not processed.
 */
export const MAX_PENDING_MEDIA = 1_000;

/** How one inbound message is written and decided, chosen in its conversation's turn. */
interface IngestPlan {
  write(seq: number, now: number): Promise<HistoryWriteOutcome>;
  decide(q: QueueActor, now: number): Promise<void>;
  /** What must follow the row before the message is acknowledged (a media message's job). */
  afterRow?(seq: number): Promise<void>;
  /** Repairs what a replay's first delivery may have left undone. */
  onDuplicate?(): Promise<void>;
  readonly mediaJobId: string | null;
}

/** The media jobs as a conversation needs them: one per placeholder, created before the message is acknowledged. */
export interface PlaceholderJobs {
  create(
    job: Pick<MediaJobInput, 'jobId' | 'botId' | 'correspondentId' | 'messageId' | 'kind' | 'caption' | 'fileName'>,
    media: Pick<MediaDescriptor, 'mimetype'>,
    staged: StagingOutcome,
  ): Promise<unknown>;
}

/** The staging area as ingestion needs it. */
export interface MediaStagingArea {
  stage(source: Downloadable): Promise<StagingOutcome>;
  release(key: string): Promise<void>;
}

/** Media that was not downloaded because the message is kept as a note whatever its bytes. */
const NOT_STAGED: StagingOutcome = { status: 'failed', reason: 'not downloaded' };

/**
 * Correspondent queues and the write-on-arrival path. Work on one conversation is serialized so
 * the message id reserved for a history row is the id the queue machine assigns next; different
 * conversations proceed concurrently and share the history group commit.
 */
export function createConversations(deps: ConversationsDeps) {
  const lanes = createLanes();
  const log = deps.logger.child({ scope: 'conversations' });

  const options = queueActorOptions({ ...deps, log, coalesceMs: deps.snapshotCoalesceMs ?? 10 });
  const recovery = queueRecovery({ store: deps.store, clock: deps.clock, log });
  const residency = queueResidency({
    actors: deps.store.actors, options, lanes, catchUp: (q) => recovery.catchUp(q), limitsFor: deps.limitsFor,
    clock: deps.clock, log, idleMs: deps.idleMs ?? DEFAULT_QUEUE_IDLE_MS, maxResident: deps.maxResident ?? DEFAULT_MAX_RESIDENT,
    ...(deps.fence === undefined ? {} : { hosts: (botId: string) => deps.fence?.holds(botId) ?? true }),
  });
  const serialized = lanes.run;
  // Only the bot's host writes its conversations (I14): elsewhere a write is refused before it starts.
  const hostOnly = (botId: string): void => {
    if (residency.refuses(botId)) throw new ParleyError('NOT_FOUND', `Bot ${botId} was deleted`);
    deps.fence?.epochOf(botId);
  };
  const queue = residency.get;
  let idleSweep: NodeJS.Timeout | undefined;

  /**
   * Shared shape of both ingest paths: dedupe, take the next seq, write history, run what must
   * follow the row (a media message's job), then decide. One `now` serves the row and the queue
   * event, so the window rebuilt from the row is the window decided.
   *
   * A seq is never reused: once the row is written the queue takes the message even when the step
   * after the row failed (the error still reaches the provider, whose retry is then a replay that
   * repairs the step). A seq another row already holds is no replay: the window is behind history
   * (a write landed unacknowledged) and catches up before the message is tried again.
   */
  async function ingest(arrival: Arrival, planFor: (q: QueueActor) => IngestPlan | Promise<IngestPlan>) {
    return serialized(queueActorId(arrival.botId, arrival.correspondentId), async () => {
      const q = await queue(arrival.botId, arrival.correspondentId);
      // Decided in the conversation's turn, so what the plan reads of the window is current.
      const { write, decide, afterRow, onDuplicate, mediaJobId } = await planFor(q);
      const duplicate = async () => {
        deps.stats.duplicates += 1;
        await onDuplicate?.();
        return { outcome: 'duplicate' as const, messageId: null, mediaJobId: null };
      };
      for (let attempt = 0; ; attempt++) {
        const window = q.getSnapshot().context.window;
        if (arrival.providerMessageId !== null && findByProviderMessageId(window, arrival.providerMessageId) !== undefined) return duplicate();
        const seq = window.nextId;
        const now = deps.clock();
        const outcome = await write(seq, now);
        if (outcome === 'duplicate') {
          // A replay of a row the window has not taken yet (its first write landed, its decision
          // did not): the window catches up from history, so the message is not lost to it.
          const row = arrival.providerMessageId === null ? null : await deps.store.history.findByProviderMessageId(arrival.botId, arrival.correspondentId, arrival.providerMessageId);
          if (row !== null && row.seq >= seq) await recovery.catchUp(q);
          return duplicate();
        }
        if (outcome === 'seq-taken') {
          // The window is behind history (a row landed whose decision did not, perhaps this very
          // message's): it catches up, and the message is tried again, as a replay if it was.
          if (attempt >= 3) throw new ParleyError('STORE_WRITE_CONFLICT', `conversation ${queueActorId(arrival.botId, arrival.correspondentId)}: seq ${seq} stays taken`);
          log.warn({ botId: arrival.botId, seq }, 'queue behind history: catching up before taking a seq');
          await recovery.catchUp(q);
          continue;
        }
        let failed: unknown = null;
        await afterRow?.(seq).catch((err: unknown) => void (failed = err));
        // Durable in history already: the window write and the listeners follow off this path.
        decide(q, now).catch((err: unknown) => log.error({ err, botId: arrival.botId }, 'queue decision refused'));
        if (failed !== null) throw failed;
        return { outcome: 'accepted' as const, messageId: seq, mediaJobId };
      }
    });
  }

  function textPlan(arrival: Arrival, text: string, kind: string): IngestPlan {
    return {
      write: (seq, now) => deps.history.write(inboundRow(arrival, seq, now, { kind, content: text, status: 'final', mediaJobId: null })),
      decide: (q, now) => q.send({ type: 'message.text-received', message: { ...arrival, content: text, source: 'user' }, now }),
      mediaJobId: null,
    };
  }

  /** A reaction joins the conversation quietly: nothing answers or announces it. */
  function reactionPlan(arrival: Arrival, text: string): IngestPlan {
    return {
      write: (seq, now) => deps.history.write(inboundRow(arrival, seq, now, { kind: REACTION_KIND, content: text, status: 'final', mediaJobId: null })),
      decide: (q, now) => q.send({ type: 'message.recorded', message: { ...arrival, content: text, source: 'user' }, now }),
      mediaJobId: null,
    };
  }

  /** `onJob` hears that a job now refers to the staged file, which then is the job's to release. */
  function mediaPlan(arrival: Arrival, media: MediaDescriptor, mediaJobId: string, staged: StagingOutcome, onJob: () => void): IngestPlan {
    const createJob = async (messageId: number, jobId: string): Promise<void> => {
      const { botId, correspondentId } = arrival;
      await deps.placeholderJobs.create(
        { jobId, botId, correspondentId, messageId, kind: media.kind, caption: media.caption, fileName: media.fileName },
        { mimetype: media.mimetype },
        staged,
      );
      onJob();
    };
    return {
      write: (seq, now) => deps.history.write(inboundRow(arrival, seq, now, { kind: media.kind, content: formatPendingMedia(media), status: 'placeholder', mediaJobId })),
      decide: (q, now) => q.send({ type: 'message.media-received', message: { ...arrival, source: 'user', media, mediaJobId }, now }),
      afterRow: (seq) => createJob(seq, mediaJobId),
      onDuplicate: () => recovery.repairJob(arrival, createJob),
      mediaJobId,
    };
  }

  const maxPending = deps.maxPendingMedia ?? MAX_PENDING_MEDIA;
  const pendingIn = (q: QueueActor) => q.getSnapshot().context.window.messages.filter((m) => m.mediaJobId !== null).length;

  return {
    queue,
    /** The queues in memory now. */
    actors: residency.loaded,

    /** Unloads idle queues every so often (a quarter of the idle time, at least every second). */
    start(): void {
      clearInterval(idleSweep);
      const everyMs = Math.max(1000, Math.min(60_000, (deps.idleMs ?? DEFAULT_QUEUE_IDLE_MS) / 4));
      idleSweep = setInterval(() => void residency.unloadIdle(), everyMs);
      idleSweep.unref();
    },
    unloadIdle: residency.unloadIdle,
    applyLimits: residency.applyLimits,

    /** Stops every queue at once without writing or notifying anything more (the process is going away). */
    halt(): void {
      clearInterval(idleSweep);
      residency.halt();
    },

    /** Text: durable in history before this resolves; listeners hear it once the window is stored. */
    ingestText(arrival: Arrival, text: string) {
      return ingest(arrival, () => textPlan(arrival, text, 'text'));
    },

    /**
     * One inbound message from a provider: durable in history (and a media message's job created)
     * before this resolves, so the provider may acknowledge it then.
     */
    async receive(botId: string, message: InboundMessage) {
      const arrival: Arrival = {
        botId, correspondentId: message.correspondentId, providerMessageId: message.providerMessageId,
        sender: message.sender, group: message.group, originatingAt: message.originatingAt,
      };
      // Providers deliver what WhatsApp accepted; what this instance does not take whole is cut visibly.
      const maxChars = deps.maxInboundTextChars ?? WHATSAPP_TEXT_CHARS;
      const cut = (text: string) => truncateContent(text, maxChars);
      if (message.media === null && message.reaction === true) return ingest(arrival, () => reactionPlan(arrival, cut(message.text ?? '')));
      if (message.media === null) return this.ingestText(arrival, cut(message.text ?? ''));
      const { kind, mimetype, fileName } = message.media;
      const caption = message.media.caption === null ? null : cut(message.media.caption);
      return this.ingestMedia(arrival, { kind, mimetype, caption, fileName }, randomUUID(), message.media);
    },

    /**
     * A message the account owner wrote from the phone: part of the conversation on the account's
     * side (an outbound row, `source: 'owner'`, already sent), durable before this resolves. Its
     * media is not downloaded: the owner knows what it shows; the conversation keeps its label.
     */
    recordOwn(botId: string, message: InboundMessage) {
      const arrival: Arrival = {
        botId, correspondentId: message.correspondentId, providerMessageId: message.providerMessageId,
        sender: message.sender, group: message.group, originatingAt: message.originatingAt,
      };
      const media = message.media;
      const content = truncateContent(media === null ? (message.text ?? '') : [mediaLabel(media), media.caption].filter((p) => p !== null && p !== '').join(' '), deps.maxInboundTextChars ?? WHATSAPP_TEXT_CHARS);
      return ingest(arrival, () => ({
        write: (seq, now) => deps.history.write(ownerRow(arrival, seq, now, media?.kind ?? 'text', content)),
        decide: (q, now) => q.send({ type: 'message.recorded', message: { ...arrival, content, source: 'owner' }, now }),
        mediaJobId: null,
      }));
    },

    /**
     * Media: placeholder row and job are durable before this resolves; listeners wait for the
     * result. The bytes are downloaded (`source`) in the conversation's turn, so history keeps
     * arrival order (I9), and are durable before the message is acknowledged; a download that
     * fails becomes the job's note. Media of a kind the bot does not process, and media past the
     * placeholder ceiling, is kept as a note that it was not processed, and not downloaded.
     */
    async ingestMedia(arrival: Arrival, media: MediaDescriptor, mediaJobId: string, source?: Downloadable) {
      let staged: StagingOutcome = NOT_STAGED;
      let taken = false;
      try {
        return await ingest(arrival, async (q) => {
          if (deps.mediaKindsFor?.(arrival.botId).has(media.kind) === false) {
            return textPlan(arrival, formatMediaContent(media, { status: 'unreadable', reason: 'media of this kind is not processed for this bot' }), media.kind);
          }
          if (pendingIn(q) >= maxPending) {
            const reason = `${maxPending} earlier media messages of this conversation are still waiting to be processed`;
            return textPlan(arrival, formatMediaContent(media, { status: 'unreadable', reason }), media.kind);
          }
          if (source !== undefined && staged === NOT_STAGED) staged = await deps.staging.stage(source);
          return mediaPlan(arrival, media, mediaJobId, staged, () => (taken = true));
        });
      } finally {
        // No job refers to the file (a replay, a failed write): it goes now; a retry downloads again.
        if (!taken && staged.status === 'staged') await deps.staging.release(staged.key).catch((err: unknown) => log.warn({ err, botId: arrival.botId }, 'releasing unused media failed'));
      }
    },

    /** Writes a job's content into its placeholder: history row first, then the live window. */
    finalize(params: FinalizePlaceholderParams) {
      return serialized(queueActorId(params.botId, params.correspondentId), async () => {
        hostOnly(params.botId);
        const firstTime = await deps.store.history.finalize(params.botId, params.jobId, params.content, params.status, new Date(deps.clock()));
        const q = await queue(params.botId, params.correspondentId);
        if (!firstTime && recovery.leftWindow(q, params)) return;
        await recovery.ensurePlaceholder(q, params);
        // Its listeners have waited for the media to be processed; the write does not wait for company.
        await q.send({ type: 'media.finalized', mediaJobId: params.jobId, content: params.content, now: deps.clock() }, { urgent: true });
      });
    },

    /** Turns a finalized message back into a placeholder for an operator retry. */
    reopen(params: ReopenPlaceholderParams) {
      return serialized(queueActorId(params.botId, params.correspondentId), async () => {
        hostOnly(params.botId);
        await deps.store.history.reopen(params.botId, params.jobId, params.content);
        const q = await queue(params.botId, params.correspondentId);
        await recovery.ensurePlaceholder(q, params, params.content);
      });
    },

    /**
     * The bot's own messages as the outbox records them: a pending outbound history row in the
     * conversation's order (its seq is the conversation's next), the message in the window (the AI
     * sees its own replies; listeners do not hear them), then the outcome on the row.
     */
    outbound: {
      record(botId: string, correspondentId: string, text: string, outboxId: string): Promise<number> {
        return serialized(queueActorId(botId, correspondentId), async () => {
          const q = await queue(botId, correspondentId);
          for (let attempt = 0; ; attempt++) {
            const seq = q.getSnapshot().context.window.nextId;
            const now = deps.clock();
            let outcome: HistoryWriteOutcome;
            try {
              outcome = await deps.history.write(outboundRow(botId, correspondentId, seq, text, now, outboxId));
            } catch (err) {
              // A write whose reply was lost may have landed: the row then carries this delivery's id.
              const [holder] = await deps.store.history.listBySeq(botId, correspondentId, [[seq, seq]]).catch(() => []);
              if (holder?.outboxId !== outboxId) {
                if (attempt >= 3 || holder !== undefined) throw err;
                continue;
              }
              outcome = 'inserted';
            }
            if (outcome !== 'inserted') {
              // The window is behind history: catch up, then take the next free seq.
              if (attempt >= 3) throw new ParleyError('STORE_WRITE_CONFLICT', `conversation ${queueActorId(botId, correspondentId)}: seq ${seq} stays taken`);
              await recovery.catchUp(q);
              continue;
            }
            q.send({ type: 'message.recorded', message: outboundMessage(botId, text), now }).catch((err: unknown) => log.error({ err, botId }, 'queue decision refused'));
            return seq;
          }
        });
      },
      async recorded(botId: string, correspondentId: string, outboxId: string): Promise<number | null> {
        return (await deps.store.history.findOutbound(botId, correspondentId, outboxId))?.seq ?? null;
      },
      async settle(botId: string, correspondentId: string, seq: number, outcome: OutboundOutcome): Promise<void> {
        await deps.store.history.settleOutbound(botId, correspondentId, seq, outcome, new Date(deps.clock()));
      },
    },

    /** Restores the queues resident when the process ended and replays history rows their snapshots had not seen. */
    restoreAll: residency.restoreResident,

    /** Resolves `true` once the work under way on the bot's conversations is done, `false` past `timeoutMs`. */
    async settle(botId: string, timeoutMs: number): Promise<boolean> {
      const work = lanes.idle(queueActorId(botId, '')).then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      return Promise.race([work, late]).finally(() => clearTimeout(timer));
    },

    async flush(): Promise<void> {
      clearInterval(idleSweep);
      await lanes.idle();
      await residency.flush();
    },

    /**
     * Unloads every queue of a bot being deleted, once the work already queued on them is done, and
     * refuses new work for the bot until `admitBot`. Resolves with how many queues were unloaded.
     */
    async dropBot(botId: string): Promise<number> {
      residency.refuseBot(botId);
      await lanes.idle(queueActorId(botId, ''));
      return residency.dropBot(botId);
    },

    /** A bot was created, perhaps under the id of a deleted one: its conversations may start. */
    admitBot: residency.admitBot,

    /** Restores the queues of a bot this instance just took over that were resident where it was. */
    restoreBot: (botId: string): Promise<number> => residency.restoreResident(botId),

    /** Hands a bot's conversations over: the work queued on them finishes, then each is written and unloaded. */
    async releaseBot(botId: string): Promise<number> {
      await lanes.idle(queueActorId(botId, ''));
      return residency.releaseBot(botId);
    },

    /** Forgets a lost bot's conversations at once, without writing. */
    haltBot: (botId: string): number => residency.haltBot(botId),
  };
}

export type Conversations = ReturnType<typeof createConversations>;
