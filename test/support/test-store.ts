import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { afterAll, beforeAll, inject } from 'vitest';
import { createSecretBox } from '../../src/adapters/crypto/secret-box.ts';
import { openMongoStore } from '../../src/adapters/mongodb/mongo-store.ts';
import type { Store } from '../../src/ports/store.port.ts';

export interface TestStore {
  readonly store: Store;
  /** A raw driver handle on the same database, for assertions the repositories do not expose. */
  readonly db: Db;
  readonly dbName: string;
  readonly kind: string;
  dispose(): Promise<void>;
}

/** Opens the run's store on a fresh database so test files never see each other's data. */
export async function openTestStore(prefix = 'parley_test'): Promise<TestStore> {
  const uri = inject('mongoUri');
  const dbName = `${prefix}_${randomBytes(4).toString('hex')}`;
  const store = await openMongoStore({ uri, dbName, secrets: createSecretBox(randomBytes(32)) });
  const client = await new MongoClient(uri).connect();
  const db = client.db(dbName);
  return {
    store,
    db,
    dbName,
    kind: inject('mongoKind'),
    async dispose() {
      await db.dropDatabase();
      await client.close();
      await store.close();
    },
  };
}

/**
 * The store of the enclosing `describe`: a fresh database opened before its tests and dropped
 * after them. Read its fields inside tests and hooks, where it is open.
 */
export function useTestStore(prefix: string): TestStore {
  let current: TestStore | undefined;
  beforeAll(async () => {
    current = await openTestStore(prefix);
  });
  afterAll(async () => {
    await current?.dispose();
    current = undefined;
  });
  const open = (): TestStore => {
    if (current === undefined) throw new Error('the test store is open only inside tests and hooks');
    return current;
  };
  return {
    get store() { return open().store; },
    get db() { return open().db; },
    get dbName() { return open().dbName; },
    get kind() { return open().kind; },
    dispose: () => open().dispose(),
  };
}
