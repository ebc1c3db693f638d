import type { WorkItem, WorkQueueStore } from './work-queue.port.ts';

/** Top-level states of the outbox-delivery machine, as stored in the `state` field. */
export type OutboxState = 'pending' | 'holding' | 'sending' | 'sent' | 'failed';

/** What an outgoing message stores beside the work queue's fields. Its line is its conversation. */
export interface OutboxData {
  /** The correspondent the message goes to. */
  readonly correspondentId: string;
  readonly text: string;
  /** History seq of the message's outbound row. */
  readonly seq: number;
}

/** An outgoing message as stored: a work item and the outbox-delivery actor's snapshot. */
export type OutboxRecord = WorkItem<OutboxData, OutboxState>;

/** The outbox: the work queue of outgoing messages, one line per conversation. */
export type OutboxStore = WorkQueueStore<OutboxData, OutboxState>;
