import type { ActorSnapshotStore } from './actor-snapshot-store.port.ts';
import type { AuthStateStore } from './auth-state-store.port.ts';
import type { BotStore } from './bot-store.port.ts';
import type { HistoryStore } from './history-store.port.ts';
import type { MediaJobStore } from './media-job-store.port.ts';
import type { OutboxStore } from './outbox-store.port.ts';
import type { InstanceRegistry, OwnershipStore } from './ownership-store.port.ts';
import type { SimulatorWorld } from './simulator-world.port.ts';
import type { WebhookDeliveryStore, WebhookSubscriptionStore } from './webhook-store.port.ts';

/** Everything Parley persists, behind one connection. */
export interface Store {
  readonly actors: ActorSnapshotStore;
  readonly mediaJobs: MediaJobStore;
  readonly history: HistoryStore;
  readonly bots: BotStore;
  readonly outbox: OutboxStore;
  readonly authState: AuthStateStore;
  readonly webhookSubscriptions: WebhookSubscriptionStore;
  readonly webhookDeliveries: WebhookDeliveryStore;
  /** Which instance hosts each bot (multi-instance). */
  readonly ownership: OwnershipStore;
  readonly instances: InstanceRegistry;
  /** The simulator provider's fake WhatsApp, shared by every instance. */
  readonly simulator: SimulatorWorld;
  /** Resolves when the backing database answers; rejects with STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  readonly uri: string;
  readonly dbName: string;
}

/** Ports are injected as factories so tests and the composition root choose the backend. */
export type StoreFactory = (options: StoreOptions) => Promise<Store>;
