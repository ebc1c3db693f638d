import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';
import { inject } from 'vitest';
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
  const store = await openMongoStore({ uri, dbName });
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
