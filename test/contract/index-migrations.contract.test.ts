import { randomBytes } from 'node:crypto';
import { Collection, MongoClient, MongoServerError } from 'mongodb';
import type { Db, Document } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { COLLECTIONS, INDEXES } from '../../src/adapters/mongodb/collections.ts';
import { indexDifferences } from '../../src/adapters/mongodb/index-migrations.ts';
import type { IndexMigrationLog } from '../../src/adapters/mongodb/index-migrations.ts';
import { openMongoStore } from '../../src/adapters/mongodb/mongo-store.ts';
import { isParleyError } from '../../src/domain/errors.ts';

const PHONE = '+15550001111';

/** Start-up on a database an earlier version left behind, as `npm start` opens it. */
describe('index migrations at start-up', () => {
  const uri = inject('mongoUri');
  let client: MongoClient;
  const databases: Db[] = [];

  beforeAll(async () => {
    client = await new MongoClient(uri).connect();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    for (const db of databases) await db.dropDatabase();
    await client.close();
  });

  function freshDb(): Db {
    const db = client.db(`parley_ixmig_${randomBytes(4).toString('hex')}`);
    databases.push(db);
    return db;
  }

  async function start(db: Db): Promise<{ lines: Record<string, unknown>[] }> {
    const lines: Record<string, unknown>[] = [];
    const logger: IndexMigrationLog = { info: (fields, message) => lines.push({ ...fields, message }) };
    const store = await openMongoStore({ uri, dbName: db.databaseName, logger });
    await store.close();
    return { lines };
  }

  async function expectDeclaredIndexes(db: Db): Promise<void> {
    for (const [collection, declared] of Object.entries(INDEXES)) {
      const existing = await db.collection(collection).listIndexes().toArray();
      expect(existing.map((ix) => ix['name']).sort(), collection).toEqual(['_id_', ...declared.map((ix) => ix.name)].sort());
      for (const ix of declared) expect(indexDifferences(existing.find((e) => e['name'] === ix.name)!, ix), `${collection}.${ix.name}`).toEqual([]);
    }
  }

  /** An earlier version's indexes: same names in another form, and the same keys under another name. */
  async function seedEarlierVersion(db: Db): Promise<Document[]> {
    const messages = db.collection(COLLECTIONS.messages);
    await messages.createIndex({ botId: 1, mediaJobId: 1 }, { name: 'botId_mediaJobId' });
    await messages.createIndex({ botId: 1, correspondentId: 1, seq: 1 }, { name: 'conversation_seq_unique' });
    await db.collection(COLLECTIONS.mediaJobs).createIndex({ state: 1, createdAt: 1 }, { name: 'claim_order' });
    await db.collection(COLLECTIONS.authState).createIndex({ botId: 1, type: 1 });
    const rows = [1, 2, 3].map((seq) => ({ _id: `b1|${PHONE}|${seq}`, botId: 'b1', correspondentId: PHONE, seq, providerMessageId: `wamid.${seq}`, content: { text: `hello ${seq}` } }));
    await messages.insertMany(rows as never[]);
    await db.collection(COLLECTIONS.mediaJobs).insertOne({ _id: 'job-1', botId: 'b1', state: 'pending', createdAt: new Date(0) } as never);
    return [...rows, ...(await db.collection(COLLECTIONS.mediaJobs).find().toArray())];
  }

  it('meets MongoDB refusing a changed declaration under an existing name (85/86), which is why start-up reconciles', async () => {
    const db = freshDb();
    await seedEarlierVersion(db);
    const optionsChanged = await db.collection(COLLECTIONS.messages).createIndexes([...INDEXES[COLLECTIONS.messages]!]).catch((e: unknown) => e);
    expect(optionsChanged).toBeInstanceOf(MongoServerError);
    expect((optionsChanged as MongoServerError).code).toBe(85); // IndexOptionsConflict
    const keysChanged = await db.collection(COLLECTIONS.mediaJobs).createIndexes([...INDEXES[COLLECTIONS.mediaJobs]!]).catch((e: unknown) => e);
    expect((keysChanged as MongoServerError).code).toBe(86); // IndexKeySpecsConflict
    const sameKeysOtherName = await db.collection(COLLECTIONS.authState).createIndexes([...INDEXES[COLLECTIONS.authState]!]).catch((e: unknown) => e);
    expect((sameKeysOtherName as MongoServerError).code).toBe(85);
  });

  it('rebuilds every index whose declared form changed, drops the one in its way, and leaves the rows untouched', async () => {
    const db = freshDb();
    const before = await seedEarlierVersion(db);

    const { lines } = await start(db);

    await expectDeclaredIndexes(db);
    const after = [...(await db.collection(COLLECTIONS.messages).find().sort({ _id: 1 }).toArray()), ...(await db.collection(COLLECTIONS.mediaJobs).find().toArray())];
    expect(after).toEqual(before);
    const dropped = lines.filter((l) => l['message'] === 'index dropped').map((l) => `${String(l['collection'])}.${String(l['index'])}`);
    expect(dropped.sort()).toEqual(['auth_state.botId_1_type_1', 'media_jobs.claim_order', 'messages.botId_mediaJobId', 'messages.conversation_seq_unique']);
    expect(lines.find((l) => l['index'] === 'conversation_seq_unique' && l['message'] === 'index dropped')).toMatchObject({ changed: ['unique'] });
    expect(lines.find((l) => l['index'] === 'claim_order' && l['message'] === 'index dropped')).toMatchObject({ changed: ['key'] });
    expect(lines.filter((l) => l['message'] === 'index built').length).toBeGreaterThanOrEqual(4);
    expect(JSON.stringify(lines)).not.toContain(PHONE);
  });

  it('changes nothing on a second start-up', async () => {
    const db = freshDb();
    await seedEarlierVersion(db);
    await start(db);
    const drops = vi.spyOn(Collection.prototype, 'dropIndex');
    const builds = vi.spyOn(Collection.prototype, 'createIndexes');

    const { lines } = await start(db);

    expect(lines).toEqual([]);
    expect(drops).not.toHaveBeenCalled();
    expect(builds).not.toHaveBeenCalled();
    await expectDeclaredIndexes(db);
  });

  it('refuses to start over rows that break a new unique index, saying where they are and how to list them', async () => {
    const db = freshDb();
    const messages = db.collection(COLLECTIONS.messages);
    await messages.createIndex({ botId: 1, correspondentId: 1, seq: 1 }, { name: 'conversation_seq_unique' });
    await messages.insertMany([
      { _id: 'a', botId: 'b1', correspondentId: PHONE, seq: 7, content: { text: 'first' } },
      { _id: 'b', botId: 'b1', correspondentId: PHONE, seq: 7, content: { text: 'second' } },
      { _id: 'c', botId: 'b1', correspondentId: PHONE, seq: 8, content: { text: 'third' } },
    ] as never[]);

    const err = await start(db).catch((e: unknown) => e);

    expect(isParleyError(err, 'STORE_MIGRATION_REQUIRED')).toBe(true);
    const { message, details } = err as { message: string; details: { collection: string; duplicatesPipeline: Document[] } };
    expect(message).toMatch(/^Index conversation_seq_unique of collection messages cannot be built: rows share its unique key \(botId, correspondentId, seq\)/);
    expect(message).toContain('db.getCollection("messages").aggregate(');
    expect(message).not.toMatch(/E11000|dup key/);
    expect(message).not.toContain(PHONE);
    // The advice works: the aggregation it gives finds exactly the clashing rows.
    const groups = await db.collection(details.collection).aggregate(details.duplicatesPipeline).toArray();
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ count: 2 });
    expect([...(groups[0]!['ids'] as string[])].sort()).toEqual(['a', 'b']);
    expect(await messages.countDocuments()).toBe(3);

    await messages.deleteOne({ _id: 'b' as never });
    await start(db);
    await expectDeclaredIndexes(db);
  });
});
