import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import type { SecretBox } from '../../ports/secret-box.port.ts';
import type { Store, StoreFactory, StoreOptions } from '../../ports/store.port.ts';
import { createActorSnapshotRepository } from './actor-snapshot.repository.ts';
import { createAuthStateRepository } from './auth-state.repository.ts';
import { createBotRepository } from './bot.repository.ts';
import { INDEXES, RETIRED_INDEXES } from './collections.ts';
import { createHistoryRepository } from './history.repository.ts';
import { createInstanceRegistryRepository } from './instance-registry.repository.ts';
import { reconcileIndexes } from './index-migrations.ts';
import type { IndexMigrationLog } from './index-migrations.ts';
import { createMediaJobRepository } from './media-job.repository.ts';
import { guard } from './mongo-errors.ts';
import { createOutboxRepository } from './outbox.repository.ts';
import { createOwnershipRepository } from './ownership.repository.ts';
import { createSimulatorWorldRepository } from './simulator-world.repository.ts';
import { createWebhookDeliveryRepository } from './webhook-delivery.repository.ts';
import { createWebhookSubscriptionRepository } from './webhook-subscription.repository.ts';

/** Tuning for the driver connection; defaults suit a single-host deployment. */
export interface MongoStoreOptions extends StoreOptions {
  /** How long an operation waits for a reachable server before failing with STORE_UNAVAILABLE. */
  readonly serverSelectionTimeoutMS?: number;
  readonly appName?: string;
  /** Start-up reports here each index it drops or builds. */
  readonly logger?: IndexMigrationLog;
  /** Seals provider credentials and webhook secrets; without it the store refuses to hold any. */
  readonly secrets?: SecretBox;
}

const SILENT: IndexMigrationLog = { info: () => {} };

/**
 * Brings the declared indexes into force, dropping retired ones and rebuilding changed ones; on a
 * database that already matches it changes nothing, so it is safe at every start-up.
 */
export async function ensureIndexes(db: Db, log: IndexMigrationLog = SILENT): Promise<void> {
  await reconcileIndexes(db, { indexes: INDEXES, retired: RETIRED_INDEXES }, log);
}

/** Connects with the official driver, applies indexes and returns the repositories. */
export async function openMongoStore(options: MongoStoreOptions): Promise<Store> {
  const client = new MongoClient(options.uri, {
    appName: options.appName ?? 'parley',
    // The URI's own setting wins; otherwise the default outlasts an election.
    ...(/[?&]serverSelectionTimeoutMS=/i.test(options.uri) ? {} : { serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 30_000 }),
  });
  await guard('connect', () => client.connect());
  const db = client.db(options.dbName);
  try {
    await ensureIndexes(db, options.logger);
  } catch (err) {
    await client.close();
    throw err;
  }
  return {
    actors: createActorSnapshotRepository(db),
    mediaJobs: createMediaJobRepository(db),
    history: createHistoryRepository(db),
    bots: createBotRepository(db),
    outbox: createOutboxRepository(db),
    authState: createAuthStateRepository(db, options.secrets),
    webhookSubscriptions: createWebhookSubscriptionRepository(db, options.secrets),
    webhookDeliveries: createWebhookDeliveryRepository(db),
    ownership: createOwnershipRepository(db),
    instances: createInstanceRegistryRepository(db),
    simulator: createSimulatorWorldRepository(db),
    async ping() {
      await guard('ping', () => db.command({ ping: 1 }));
    },
    async close() {
      await client.close();
    },
  };
}

/** The MongoDB adapter as a port factory. */
export const mongoStoreFactory: StoreFactory = openMongoStore;
