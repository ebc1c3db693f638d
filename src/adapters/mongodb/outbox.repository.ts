import type { Db } from 'mongodb';
import type { OutboxData, OutboxState, OutboxStore } from '../../ports/outbox-store.port.ts';
import { COLLECTIONS } from './collections.ts';
import { createWorkQueueRepository } from './work-queue.repository.ts';

/**
 * The outbox: outgoing messages claimed in fair order across bots, one at a time and in order
 * within a conversation (its line), so a message being retried is never overtaken.
 */
export function createOutboxRepository(db: Db): OutboxStore {
  return createWorkQueueRepository<OutboxData, OutboxState>(db, {
    collection: COLLECTIONS.outbox,
    name: 'outbox',
    claimedState: 'sending',
    lines: { finishedStates: ['sent', 'failed'] },
    fairScope: 'outbox:',
  });
}
