import { CORRESPONDENT_QUEUE_MACHINE_VERSION, correspondentQueueMachine } from '../../machines/correspondent-queue.machine.ts';
import type { CorrespondentQueueEffects } from '../../machines/correspondent-queue.machine.ts';
import type { FinalizePlaceholderParams, ReopenPlaceholderParams } from '../../machines/media-job.machine.ts';
import { ParleyError } from '../domain/errors.ts';
import { formatPendingMedia } from '../domain/media-content.ts';
import type { MediaDescriptor } from '../domain/media-kind.ts';
import { contentSize } from '../domain/queue-message.ts';
import type { PlaceholderMessage, QueueLimits, QueueMessage, Sender } from '../domain/queue-message.ts';
import { findByProviderMessageId } from '../domain/queue-window.ts';
import type { Logger } from '../logging/logger.ts';
import type { Store } from '../ports/store.port.ts';
import type { HistoryRecord } from '../ports/history-store.port.ts';
import type { EffectTable } from './actors/effect-table.ts';
import { createPersistedActor, restorePersistedActor } from './actors/persisted-actor.ts';
import type { ActorScope, PersistedActor, PersistedActorOptions, PersistenceStats } from './actors/persisted-actor.ts';
import type { HistoryWriter } from './history-writer.ts';
import type { ListenerRegistry } from './listener-registry.ts';
import type { InspectionHub } from './inspection-hub.ts';

export type QueueActor = PersistedActor<typeof correspondentQueueMachine>;

/** An inbound message as ingestion sees it. */
export interface Arrival {
  readonly botId: string;
  readonly correspondentId: string;
  readonly providerMessageId: string | null;
  readonly sender: Sender;
  readonly group: string | null;
  readonly originatingAt: number | null;
}

export interface ConversationsDeps {
  readonly store: Store;
  readonly history: HistoryWriter;
  readonly listeners: ListenerRegistry;
  readonly inspection: InspectionHub;
  readonly stats: PersistenceStats & { duplicates: number };
  readonly logger: Logger;
  readonly clock: () => number;
  readonly limitsFor: (botId: string) => QueueLimits;
  /** Queue snapshots are rebuilt from history on restore, so a burst may share one write. */
  readonly snapshotCoalesceMs?: number;
}

export const queueActorId = (botId: string, correspondentId: string): string => `${botId}|${correspondentId}`;

/**
 * Correspondent queues and the write-on-arrival path. Work on one conversation is serialized so
 * the message id reserved for a history row is the id the queue machine assigns next; different
 * conversations proceed concurrently and share the history group commit.
 */
export function createConversations(deps: ConversationsDeps) {
  const actors = new Map<string, QueueActor>();
  const loading = new Map<string, Promise<QueueActor>>();
  const chains = new Map<string, Promise<unknown>>();
  // Bots deleted in this process: a late finalize must not create a queue the deletion just removed.
  const deleted = new Set<string>();
  const log = deps.logger.child({ scope: 'conversations' });

  /**
   * The queue machine's effects. Notifying listeners is stored with the decision and acknowledged
   * once every listener returned, so a crash between the two notifies again after restart
   * (`recovered: true`); listeners dedupe by message. It runs on the queue's own effect runner,
   * never on the path that acknowledges the next message. The rest only report.
   */
  const effects = {
    notifyListeners: {
      durable: true,
      run: ({ botId, correspondentId, message }, { recovered, effectId }) =>
        deps.listeners.notify({ ...toDelivered(message, botId, correspondentId, recovered), deliveryId: effectId ?? `${botId}|${correspondentId}|${message.id}` }),
    },
    duplicateIgnored: {
      durable: false,
      run: () => {
        deps.stats.duplicates += 1;
      },
    },
    logOverLimit: { durable: false, run: ({ botId, report }) => log.warn({ botId, report }, 'window stays over its limits: only protected messages remain') },
    messagesEvicted: { durable: false, run: ({ botId, evicted }) => log.debug({ botId, evicted: evicted.length }, 'messages left the window') },
    finalizeMissed: { durable: false, run: ({ botId, mediaJobId }) => log.debug({ botId, mediaJobId }, 'media result for a message no longer a placeholder in the window') },
    messagePopped: { durable: false, run: ({ botId, skippedPlaceholders }) => log.debug({ botId, skippedPlaceholders }, 'message taken out of the window') },
    limitsRejected: { durable: false, run: ({ botId, errors }) => log.warn({ botId, errors }, 'queue limits refused') },
  } satisfies EffectTable<CorrespondentQueueEffects, ActorScope>;

  const options: PersistedActorOptions<typeof correspondentQueueMachine, CorrespondentQueueEffects> = {
    machine: correspondentQueueMachine,
    machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION,
    store: deps.store.actors,
    effects,
    inspect: deps.inspection.inspect,
    stats: deps.stats,
    coalesceMs: deps.snapshotCoalesceMs ?? 10,
    effectRunner: { onError: (err, effect) => log.error({ err, effect: effect.type }, 'queue effect failed') },
  };

  function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = chains.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    chains.set(key, settled);
    void settled.then(() => {
      if (chains.get(key) === settled) chains.delete(key);
    });
    return next;
  }

  async function queue(botId: string, correspondentId: string): Promise<QueueActor> {
    if (deleted.has(botId)) throw new ParleyError('NOT_FOUND', `Bot ${botId} was deleted`);
    const id = queueActorId(botId, correspondentId);
    const live = actors.get(id);
    if (live !== undefined) return live;
    let pending = loading.get(id);
    if (pending === undefined) {
      pending = (async () => {
        const record = await deps.store.actors.get(id);
        const actor = record === null
          ? await createPersistedActor(options, { id, kind: 'correspondent-queue', botId }, { botId, correspondentId, limits: deps.limitsFor(botId) })
          : restorePersistedActor(options, record);
        actors.set(id, actor);
        return actor;
      })().finally(() => loading.delete(id));
      loading.set(id, pending);
    }
    return pending;
  }

  function toDelivered(message: QueueMessage, botId: string, correspondentId: string, recovered: boolean) {
    return { botId, correspondentId, messageId: message.id, content: message.content, source: message.source, mediaJobId: message.mediaJobId, recovered };
  }

  function historyRow(arrival: Arrival, seq: number, fields: Pick<HistoryRecord, 'kind' | 'content' | 'status' | 'mediaJobId'>): HistoryRecord {
    return {
      botId: arrival.botId,
      correspondentId: arrival.correspondentId,
      seq,
      providerMessageId: arrival.providerMessageId,
      direction: 'inbound',
      source: 'user',
      sender: arrival.sender.id,
      acceptedAt: new Date(deps.clock()),
      finalizedAt: null,
      ...fields,
    };
  }

  /** Shared shape of both ingest paths: dedupe, reserve the id, write history, then decide. */
  async function ingest(
    arrival: Arrival,
    write: (seq: number) => Promise<'inserted' | 'duplicate'>,
    decide: (q: QueueActor) => Promise<void>,
    onDuplicate: () => Promise<void> = async () => {},
  ) {
    return serialized(queueActorId(arrival.botId, arrival.correspondentId), async () => {
      const q = await queue(arrival.botId, arrival.correspondentId);
      const window = q.getSnapshot().context.window;
      if (arrival.providerMessageId !== null && findByProviderMessageId(window, arrival.providerMessageId) !== undefined) {
        deps.stats.duplicates += 1;
        await onDuplicate();
        return { outcome: 'duplicate' as const, messageId: null };
      }
      const seq = window.nextId;
      if ((await write(seq)) === 'duplicate') {
        deps.stats.duplicates += 1;
        await onDuplicate();
        return { outcome: 'duplicate' as const, messageId: null };
      }
      // Durable in history already: the window write and the listeners follow off this path.
      decide(q).catch((err: unknown) => log.error({ err, botId: arrival.botId }, 'queue decision refused'));
      return { outcome: 'accepted' as const, messageId: seq };
    });
  }

  return {
    queue,
    actors: () => [...actors.values()],

    /** Stops every queue at once without writing or notifying anything more (the process is going away). */
    halt(): void {
      for (const actor of actors.values()) actor.halt();
    },

    /** Text: durable in history before this resolves; listeners hear it once the window is stored. */
    ingestText(arrival: Arrival, text: string) {
      return ingest(
        arrival,
        (seq) => deps.history.write(historyRow(arrival, seq, { kind: 'text', content: text, status: 'final', mediaJobId: null })),
        (q) => q.send({ type: 'message.text-received', message: { ...arrival, content: text, source: 'user' }, now: deps.clock() }),
      );
    },

    /** Media: placeholder row and job are durable before this resolves; listeners wait for the result. */
    ingestMedia(arrival: Arrival, media: MediaDescriptor, mediaJobId: string, createJob: (messageId: number, jobId: string) => Promise<void>) {
      return ingest(
        arrival,
        async (seq) => {
          const outcome = await deps.history.write(
            historyRow(arrival, seq, { kind: media.kind, content: formatPendingMedia(media), status: 'placeholder', mediaJobId }),
          );
          if (outcome === 'inserted') await createJob(seq, mediaJobId);
          return outcome;
        },
        (q) => q.send({ type: 'message.media-received', message: { ...arrival, source: 'user', media, mediaJobId }, now: deps.clock() }),
        () => repairJob(arrival, createJob),
      );
    },

    /** Writes a job's content into its placeholder: history row first, then the live window. */
    finalize(params: FinalizePlaceholderParams) {
      return serialized(queueActorId(params.botId, params.correspondentId), async () => {
        const firstTime = await deps.store.history.finalize(params.botId, params.jobId, params.content, params.status, new Date(deps.clock()));
        const q = await queue(params.botId, params.correspondentId);
        if (!firstTime && leftWindow(q, params)) return;
        await ensurePlaceholder(q, params);
        await q.send({ type: 'media.finalized', mediaJobId: params.jobId, content: params.content, now: deps.clock() });
      });
    },

    /** Turns a finalized message back into a placeholder for an operator retry. */
    reopen(params: ReopenPlaceholderParams) {
      return serialized(queueActorId(params.botId, params.correspondentId), async () => {
        await deps.store.history.reopen(params.botId, params.jobId, params.content);
        const q = await queue(params.botId, params.correspondentId);
        await ensurePlaceholder(q, params, params.content);
      });
    },

    /** Restores every stored queue and replays history rows its snapshot had not seen yet. */
    async restoreAll(): Promise<number> {
      const records = await deps.store.actors.list({ kind: 'correspondent-queue' });
      for (const record of records) {
        const actor = restorePersistedActor(options, record);
        actors.set(record.id, actor);
        await catchUp(actor);
      }
      return records.length;
    },

    async flush(): Promise<void> {
      await Promise.all([...chains.values()]);
      await Promise.all([...actors.values()].map((a) => a.flush()));
    },

    /**
     * Unloads every queue of a bot being deleted, once the work already queued on them is done, and
     * refuses new work for the bot until `admitBot`. Resolves with how many queues were unloaded.
     */
    async dropBot(botId: string): Promise<number> {
      deleted.add(botId);
      const prefix = queueActorId(botId, '');
      await Promise.all([...chains].filter(([key]) => key.startsWith(prefix)).map(([, work]) => work));
      await Promise.all([...loading].filter(([key]) => key.startsWith(prefix)).map(([, load]) => load.catch(() => undefined)));
      const mine = [...actors.values()].filter((a) => a.botId === botId);
      for (const actor of mine) {
        actors.delete(actor.id);
        await actor.stop().catch((err: unknown) => log.warn({ err, botId }, 'a queue of a deleted bot did not stop cleanly'));
      }
      return mine.length;
    },

    /** A bot was created, perhaps under the id of a deleted one: its conversations may start. */
    admitBot(botId: string): void {
      deleted.delete(botId);
    },
  };

  // A replay of a message whose process died between its placeholder row and its job: the row is
  // durable but was never acknowledged, so the job is created now, under the row's own job id.
  async function repairJob(arrival: Arrival, createJob: (messageId: number, jobId: string) => Promise<void>) {
    if (arrival.providerMessageId === null) return;
    const row = await deps.store.history.findByProviderMessageId(arrival.botId, arrival.providerMessageId);
    if (row?.status !== 'placeholder' || row.mediaJobId === null) return;
    if ((await deps.store.mediaJobs.get(row.mediaJobId)) !== null) return;
    await createJob(row.seq, row.mediaJobId);
    log.info({ botId: arrival.botId, jobId: row.mediaJobId }, 'media job recreated for a replayed placeholder');
  }

  // A repeat after a crash between the window write and `job.delivered`: the window already took
  // the result and moved past it (a placeholder is never evicted or popped, so it can only have
  // left finalized), and listeners heard it then. Injecting it again would deliver it twice.
  function leftWindow(q: QueueActor, params: { jobId: string; messageId: number }): boolean {
    const window = q.getSnapshot().context.window;
    return params.messageId < window.nextId && !window.messages.some((m) => m.mediaJobId === params.jobId || m.id === params.messageId);
  }

  async function ensurePlaceholder(q: QueueActor, params: { jobId: string; messageId: number; correspondentId: string; botId: string }, reopenedContent?: string) {
    const window = q.getSnapshot().context.window;
    // Still a placeholder, or already finalized in this window (a repeat after a crash): nothing to inject.
    if (reopenedContent === undefined && window.messages.some((m) => m.mediaJobId === params.jobId || m.id === params.messageId)) return;
    const [row] = await deps.store.history.list(params.botId, params.correspondentId, { beforeSeq: params.messageId + 1, limit: 1 });
    if (row === undefined || row.seq !== params.messageId) return;
    const placeholder: PlaceholderMessage = {
      id: row.seq,
      content: reopenedContent ?? row.content,
      sender: { id: row.sender, displayName: null },
      source: row.source,
      acceptedAt: row.acceptedAt.getTime(),
      size: contentSize(reopenedContent ?? row.content),
      originatingAt: null,
      group: null,
      providerMessageId: row.providerMessageId,
      mediaJobId: params.jobId,
    };
    await q.send({ type: 'placeholder.injected', message: placeholder, now: deps.clock() });
  }

  // Rows written after the snapshot (a crash between history and the window write) re-enter here.
  async function catchUp(q: QueueActor): Promise<void> {
    const { botId, correspondentId, window } = q.getSnapshot().context;
    const rows = (await deps.store.history.list(botId, correspondentId, { limit: 1000 })).filter((r) => r.seq >= window.nextId);
    for (const row of rows) {
      const sender = { id: row.sender, displayName: null };
      const arrival = { sender, group: null, originatingAt: null, providerMessageId: row.providerMessageId };
      if (row.status === 'placeholder' && row.mediaJobId !== null) {
        const placeholder: PlaceholderMessage = { ...arrival, id: row.seq, content: row.content, source: row.source, acceptedAt: row.acceptedAt.getTime(), size: contentSize(row.content), mediaJobId: row.mediaJobId };
        await q.send({ type: 'placeholder.injected', message: placeholder, now: deps.clock() });
      } else {
        await q.send({ type: 'message.text-received', message: { ...arrival, content: row.content, source: row.source }, now: deps.clock() });
      }
    }
    if (rows.length > 0) log.info({ botId, recovered: rows.length }, 'queue caught up from history');
  }
}

export type Conversations = ReturnType<typeof createConversations>;
