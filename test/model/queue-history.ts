import type { Db } from 'mongodb';
import type { EventObject } from 'xstate';
import type { CorrespondentQueueContext, CorrespondentQueueEvent } from '../../machines/correspondent-queue.machine.ts';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { formatPendingMedia } from '../../src/domain/media-content.ts';
import { findByProviderMessageId } from '../../src/domain/queue-window.ts';
import type { Store } from '../../src/ports/store.port.ts';
import { inboundRow, outboundRow } from '../../src/runtime/conversations/history-rows.ts';
import type { Arrival } from '../../src/runtime/conversations/history-rows.ts';
import type { Observation } from './model-types.ts';

/**
 * The history rows the runtime writes before the queue decides each event the model sends: a
 * row on arrival (text final, media a placeholder), finalized in place, and the row a recovered
 * placeholder is injected from. A queue restored from the store rebuilds its window from them.
 */
export function queueHistory(store: () => Store, db: () => Db, botId: string) {
  // The model sends a provider id again once its first message left the window, which history's
  // unique index refuses (ingest would have called it a replay); the earlier row, no longer in any
  // window, gives the id up so the new row can carry it.
  async function freeProviderId(providerMessageId: string | null): Promise<void> {
    if (providerMessageId === null) return;
    await db().collection(COLLECTIONS.messages).updateMany({ botId, providerMessageId }, { $set: { providerMessageId: null } });
  }

  async function append(arrival: Arrival, seq: number, now: number, fields: Parameters<typeof inboundRow>[3]): Promise<void> {
    await freeProviderId(arrival.providerMessageId);
    const { duplicates } = await store().history.append([inboundRow(arrival, seq, now, fields)]);
    if (duplicates.length > 0) throw new Error(`history row ${seq} written twice`);
  }

  return {
    async prepare(untyped: EventObject, before: Observation<unknown>): Promise<void> {
      const event = untyped as CorrespondentQueueEvent;
      const { correspondentId, window } = before.context as CorrespondentQueueContext;
      switch (event.type) {
        case 'message.text-received':
        case 'message.media-received': {
          const { providerMessageId, sender, group, originatingAt } = event.message;
          if (providerMessageId !== null && findByProviderMessageId(window, providerMessageId) !== undefined) return;
          const arrival = { botId, correspondentId, providerMessageId, sender, group, originatingAt };
          const fields = event.type === 'message.text-received'
            ? { kind: 'text', content: event.message.content, status: 'final' as const, mediaJobId: null }
            : { kind: event.message.media.kind, content: formatPendingMedia(event.message.media), status: 'placeholder' as const, mediaJobId: event.message.mediaJobId };
          return append(arrival, window.nextId, event.now, fields);
        }
        case 'message.recorded': {
          const { sender, content } = event.message;
          await store().history.append([outboundRow(botId, correspondentId, window.nextId, content, event.now)]);
          void sender;
          return;
        }
        case 'placeholder.injected': {
          const { id, acceptedAt, content, mediaJobId, providerMessageId, sender, group, originatingAt } = event.message;
          return append({ botId, correspondentId, providerMessageId, sender, group, originatingAt }, id, acceptedAt, { kind: 'image', content, status: 'placeholder', mediaJobId });
        }
        case 'media.finalized':
          await store().history.finalize(botId, event.mediaJobId, event.content, 'final', new Date(event.now));
          return;
        default:
          return;
      }
    },
    async cleanUp(): Promise<void> {
      await store().history.deleteByBot(botId);
    },
  };
}
