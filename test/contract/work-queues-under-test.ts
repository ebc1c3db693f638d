import type { Store } from '../../src/ports/store.port.ts';
import type { WorkItemWrite, WorkQueueStore } from '../../src/ports/work-queue.port.ts';

export const T0 = new Date('2026-01-01T00:00:00Z');
export const at = (ms: number): Date => new Date(T0.getTime() + ms);
export const LEASE = 30_000;

/** One queue of the store, with how to make its rows and which state a claim moves them to. */
export interface QueueUnderTest {
  readonly name: string;
  readonly of: (store: Store) => WorkQueueStore<object>;
  readonly data: (id: string) => object;
  readonly claimedState: string;
  readonly lines: boolean;
}

/** Every work queue the store has; the work-queue contract suites run on each. */
export const QUEUES: readonly QueueUnderTest[] = [
  {
    name: 'media jobs',
    of: (s) => s.mediaJobs,
    data: () => ({ correspondentId: 'c1', messageId: 1, mimetype: 'audio/ogg', mediaKey: null, sizeBytes: null, stagingError: null, pool: 'media', caption: null, fileName: null }),
    claimedState: 'processing',
    lines: false,
  },
  {
    name: 'outbox',
    of: (s) => s.outbox,
    data: (id) => ({ correspondentId: 'c1', text: `text of ${id}`, seq: 1 }),
    claimedState: 'sending',
    lines: true,
  },
  {
    name: 'webhook deliveries',
    of: (s) => s.webhookDeliveries,
    data: (id) => ({ subscriptionId: 'wh-1', eventId: `event of ${id}`, eventType: 'message.received', body: `{"id":"${id}"}`, eventAt: T0 }),
    claimedState: 'delivering',
    lines: false,
  },
];

/** A transition's write, pending unless `over` says otherwise. */
export const write = (over: Partial<WorkItemWrite>): WorkItemWrite => ({
  state: 'pending', statePath: 'pending', attempt: 1, owner: null, leaseUntil: null, notBefore: null, error: null,
  machineVersion: 1, snapshot: { value: over.statePath ?? 'pending' }, ...over,
});
