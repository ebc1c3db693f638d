import { MongoServerError } from 'mongodb';
import type { Collection } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useTestStore } from '../support/test-store.ts';

// Behaviour of the MongoDB server itself that Parley's store code depends on. The same file runs
// against a real mongod (MONGODB_URI=...) and the bundled server, which holds the latter to the former.
describe('MongoDB behaviour Parley relies on', () => {
  const t = useTestStore('parley_behaviour');

  async function fresh(name: string): Promise<Collection> {
    const coll = t.db.collection(name);
    await coll.deleteMany({});
    return coll;
  }

  it('rejects a duplicate on a unique index with MongoServerError 11000 naming the key', async () => {
    const coll = await fresh('dup');
    await coll.createIndex({ botId: 1, pid: 1 }, { unique: true, name: 'bot_pid' });
    await coll.insertOne({ botId: 'b1', pid: 'X' });
    const err = await coll.insertOne({ botId: 'b1', pid: 'X' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect((err as MongoServerError).message).toMatch(/E11000 duplicate key error collection: .*dup index: bot_pid/);
    expect((err as MongoServerError).keyValue).toEqual({ botId: 'b1', pid: 'X' });
    await coll.insertOne({ botId: 'b2', pid: 'X' });
    expect(await coll.countDocuments({ pid: 'X' })).toBe(2);
  });

  it('enforces a unique index on updates and leaves the document unchanged', async () => {
    const coll = await fresh('dup_update');
    await coll.createIndex({ key: 1 }, { unique: true });
    await coll.insertMany([{ _id: 1 as never, key: 'a' }, { _id: 2 as never, key: 'b' }]);
    const err = await coll.updateOne({ _id: 2 as never }, { $set: { key: 'a' } }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(11000);
    expect(await coll.findOne({ _id: 2 as never })).toEqual({ _id: 2, key: 'b' });
  });

  it('upserts a document seeded from the query and applies $setOnInsert only on insert', async () => {
    const coll = await fresh('upsert');
    const first = await coll.updateOne({ _id: 'k' as never }, { $inc: { n: 1 }, $setOnInsert: { createdBy: 'first' } }, { upsert: true });
    expect(first.upsertedCount).toBe(1);
    expect(first.upsertedId).toBe('k');
    const second = await coll.updateOne({ _id: 'k' as never }, { $inc: { n: 1 }, $setOnInsert: { createdBy: 'second' } }, { upsert: true });
    expect(second.upsertedCount).toBe(0);
    expect(second.modifiedCount).toBe(1);
    expect(await coll.findOne({ _id: 'k' as never })).toEqual({ _id: 'k', n: 2, createdBy: 'first' });
  });

  it('streams more than 101 documents through a cursor in sort order', async () => {
    const coll = await fresh('cursor');
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ i, parity: i % 2 })));
    const all = await coll.find({}).sort({ i: -1 }).toArray();
    expect(all).toHaveLength(250);
    expect(all[0]?.['i']).toBe(249);
    expect(all[249]?.['i']).toBe(0);
    const batched = await coll.find({ parity: 0 }, { batchSize: 7 }).sort({ i: 1 }).toArray();
    expect(batched.map((d) => d['i'])).toEqual(Array.from({ length: 125 }, (_, i) => i * 2));
  });

  it('kills the server-side cursor when a client abandons it early', async () => {
    const coll = await fresh('cursor_close');
    await coll.insertMany(Array.from({ length: 150 }, (_, i) => ({ i })));
    const cursor = coll.find({}, { batchSize: 10 });
    expect((await cursor.next())?.['i']).toBe(0);
    const id = cursor.id;
    expect(id?.isZero()).toBe(false);
    await cursor.close();
    const err = await t.db.command({ getMore: id, collection: 'cursor_close' }).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(43);
    expect((err as MongoServerError).codeName).toBe('CursorNotFound');
  });

  it('applies inclusion and exclusion projections', async () => {
    const coll = await fresh('projection');
    await coll.insertOne({ _id: 'p' as never, a: 1, b: { c: 2, d: 3 }, e: 4 });
    expect(await coll.findOne({}, { projection: { a: 1, 'b.c': 1 } })).toEqual({ _id: 'p', a: 1, b: { c: 2 } });
    expect(await coll.findOne({}, { projection: { _id: 0, b: 0 } })).toEqual({ a: 1, e: 4 });
  });

  it('counts with aggregate, countDocuments and estimatedDocumentCount', async () => {
    const coll = await fresh('counting');
    await coll.insertMany(Array.from({ length: 30 }, (_, i) => ({ state: i % 3 === 0 ? 'pending' : 'done' })));
    expect(await coll.countDocuments({ state: 'pending' })).toBe(10);
    expect(await coll.estimatedDocumentCount()).toBe(30);
    const [row] = await coll.aggregate([{ $match: { state: 'done' } }, { $count: 'n' }]).toArray();
    expect(row).toEqual({ n: 20 });
    const grouped = await coll.aggregate([{ $group: { _id: '$state', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
    expect(grouped).toEqual([{ _id: 'done', n: 20 }, { _id: 'pending', n: 10 }]);
  });

  it('claims each document exactly once under concurrent findOneAndUpdate with a sort', async () => {
    const coll = await fresh('claims');
    await coll.insertMany(Array.from({ length: 60 }, (_, i) => ({ _id: `job-${i}` as never, state: 'pending', order: 60 - i })));
    const claimedBy = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (;;) {
          const doc = await coll.findOneAndUpdate(
            { state: 'pending' },
            { $set: { state: 'processing', worker }, $inc: { attempt: 1 } },
            { sort: { order: 1 }, returnDocument: 'after' },
          );
          if (doc === null) return;
          expect(claimedBy.has(String(doc._id))).toBe(false);
          claimedBy.set(String(doc._id), worker);
        }
      }),
    );
    expect(claimedBy.size).toBe(60);
    expect(await coll.countDocuments({ state: 'processing', attempt: 1 })).toBe(60);
  });

  it('returns the lowest-sorted match from findOneAndUpdate', async () => {
    const coll = await fresh('fam_sort');
    await coll.insertMany([{ n: 3 }, { n: 1 }, { n: 2 }]);
    const doc = await coll.findOneAndUpdate({}, { $set: { taken: true } }, { sort: { n: 1 }, returnDocument: 'before' });
    expect(doc?.['n']).toBe(1);
    expect(doc?.['taken']).toBeUndefined();
  });

  it('lists indexes with their options and drops them by name', async () => {
    const coll = await fresh('indexes');
    await coll.createIndex({ a: 1, b: -1 }, { name: 'a_b', unique: true });
    await coll.createIndex({ c: 1 }, { name: 'c_partial', partialFilterExpression: { c: { $type: 'string' } } });
    const indexes = await coll.listIndexes().toArray();
    const byName = new Map(indexes.map((ix) => [ix['name'] as string, ix]));
    expect([...byName.keys()].sort()).toEqual(['_id_', 'a_b', 'c_partial']);
    expect(byName.get('a_b')).toMatchObject({ key: { a: 1, b: -1 }, unique: true });
    expect(byName.get('c_partial')).toMatchObject({ partialFilterExpression: { c: { $type: 'string' } } });
    await coll.dropIndex('c_partial');
    expect((await coll.listIndexes().toArray()).map((ix) => ix['name']).sort()).toEqual(['_id_', 'a_b']);
  });

  it('lets documents outside a partial unique index share a key', async () => {
    const coll = await fresh('partial_unique');
    await coll.createIndex({ k: 1 }, { unique: true, partialFilterExpression: { k: { $type: 'string' } } });
    await coll.insertMany([{ k: null }, { k: null }, { other: 1 }, { k: 'x' }]);
    await expect(coll.insertOne({ k: 'x' })).rejects.toMatchObject({ code: 11000 });
  });

  it('answers distinct values', async () => {
    const coll = await fresh('distinct');
    await coll.insertMany([{ bot: 'a' }, { bot: 'b' }, { bot: 'a' }]);
    expect((await coll.distinct('bot')).sort()).toEqual(['a', 'b']);
  });

  it('reports an unknown command with code 59 CommandNotFound', async () => {
    const err = await t.db.command({ parleyNoSuchCommand: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(59);
    expect((err as MongoServerError).codeName).toBe('CommandNotFound');
  });
});
