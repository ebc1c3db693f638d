import type { Logger } from '../../logging/logger.ts';
import type { Store } from '../../ports/store.port.ts';
import { REACTION_KIND, historyMessage, placeholderFromRow } from './history-rows.ts';
import type { Arrival } from './history-rows.ts';
import type { QueueActor } from './queue-actor.ts';

export interface QueueRecoveryDeps {
  readonly store: Store;
  readonly clock: () => number;
  readonly log: Logger;
}

interface PlaceholderRef {
  readonly botId: string;
  readonly correspondentId: string;
  readonly jobId: string;
  readonly messageId: number;
}

/** How a queue gets back what a crash left only in history. Each step is safe to repeat. */
export function queueRecovery({ store, clock, log }: QueueRecoveryDeps) {
  return {
    // A replay of a message whose process died between its placeholder row and its job: the row is
    // durable but was never acknowledged, so the job is created now, under the row's own job id.
    async repairJob(arrival: Arrival, createJob: (messageId: number, jobId: string) => Promise<void>): Promise<void> {
      if (arrival.providerMessageId === null) return;
      const row = await store.history.findByProviderMessageId(arrival.botId, arrival.correspondentId, arrival.providerMessageId);
      if (row?.status !== 'placeholder' || row.mediaJobId === null) return;
      if ((await store.mediaJobs.get(row.mediaJobId)) !== null) return;
      await createJob(row.seq, row.mediaJobId);
      log.info({ botId: arrival.botId, jobId: row.mediaJobId }, 'media job recreated for a replayed placeholder');
    },

    // A repeat after a crash between the window write and `job.delivered`: the window already took
    // the result and moved past it (a placeholder is never evicted or popped, so it can only have
    // left finalized), and listeners heard it then. Injecting it again would deliver it twice.
    leftWindow(q: QueueActor, ref: PlaceholderRef): boolean {
      const window = q.getSnapshot().context.window;
      return ref.messageId < window.nextId && !window.messages.some((m) => m.mediaJobId === ref.jobId || m.id === ref.messageId);
    },

    async ensurePlaceholder(q: QueueActor, ref: PlaceholderRef, reopenedContent?: string): Promise<void> {
      const window = q.getSnapshot().context.window;
      // Still a placeholder, or already finalized in this window (a repeat after a crash): nothing to inject.
      if (reopenedContent === undefined && window.messages.some((m) => m.mediaJobId === ref.jobId || m.id === ref.messageId)) return;
      const [row] = await store.history.listBySeq(ref.botId, ref.correspondentId, [[ref.messageId, ref.messageId]]);
      if (row === undefined) return;
      await q.send({ type: 'placeholder.injected', message: placeholderFromRow(row, ref.jobId, reopenedContent), now: clock() });
    },

    // Rows written after the snapshot (a crash between history and the window write) re-enter here,
    // each accepted at its row's time so the window matches what history says of it.
    async catchUp(q: QueueActor): Promise<void> {
      const { botId, correspondentId, window } = q.getSnapshot().context;
      // Only the rows past the window: an indexed range read however long the history is.
      const rows = await store.history.listBySeq(botId, correspondentId, [[window.nextId, Number.MAX_SAFE_INTEGER]]);
      for (const row of rows) {
        if (row.status === 'placeholder' && row.mediaJobId !== null) {
          await q.send({ type: 'placeholder.injected', message: placeholderFromRow(row, row.mediaJobId), now: clock() });
        } else if (row.direction === 'outbound' || row.kind === REACTION_KIND) {
          const { id: _seq, acceptedAt, ...message } = historyMessage(row);
          await q.send({ type: 'message.recorded', message, now: acceptedAt });
        } else {
          const { id: _seq, acceptedAt, ...message } = historyMessage(row);
          await q.send({ type: 'message.text-received', message, now: acceptedAt });
        }
      }
      if (rows.length === 0) return;
      // Accepting at the rows' own times judged ages from then; the limits apply from now on.
      await q.send({ type: 'queue.evict', now: clock() });
      log.info({ botId, recovered: rows.length }, 'queue caught up from history');
    },
  };
}
