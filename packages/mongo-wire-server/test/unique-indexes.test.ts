import { Long, MongoServerError, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useWireServer } from './harness.ts';

const h = useWireServer();

async function messages() {
  const db = h.db('parley_' + Math.random().toString(36).slice(2, 8));
  const coll = db.collection('messages');
  await coll.createIndex({ botId: 1, providerMessageId: 1 }, { unique: true });
  return { db, coll };
}

describe('unique index enforcement', () => {
  it('rejects a second document with the same unique key with code 11000', async () => {
    const { db, coll } = await messages();
    await coll.insertOne({ botId: 'b1', providerMessageId: 'X', text: 'first' });
    const err = await coll.insertOne({ botId: 'b1', providerMessageId: 'X', text: 'second' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({
      code: 11000,
      message: `E11000 duplicate key error collection: ${db.databaseName}.messages index: botId_1_providerMessageId_1 dup key: { botId: "b1", providerMessageId: "X" }`,
      keyPattern: { botId: 1, providerMessageId: 1 },
      keyValue: { botId: 'b1', providerMessageId: 'X' },
    });
    expect(await coll.countDocuments()).toBe(1);
  });

  it('allows the same value in one field of a compound unique index when the other differs', async () => {
    const { coll } = await messages();
    await coll.insertMany([
      { botId: 'b1', providerMessageId: 'X' },
      { botId: 'b2', providerMessageId: 'X' },
      { botId: 'b1', providerMessageId: 'Y' },
    ]);
    expect(await coll.countDocuments()).toBe(3);
  });

  it('treats numbers of different BSON types as the same key (1 == 1.0 == Long 1)', async () => {
    const coll = h.db().collection('nums');
    await coll.createIndex({ n: 1 }, { unique: true });
    await coll.insertOne({ n: 1 });
    await expect(coll.insertOne({ n: 1.0 })).rejects.toMatchObject({ code: 11000 });
    await expect(coll.insertOne({ n: Long.fromNumber(1) })).rejects.toMatchObject({ code: 11000 });
    await expect(coll.insertOne({ n: 2 })).resolves.toBeDefined();
  });

  it('compares ObjectIds and Dates by value, not identity', async () => {
    const coll = h.db().collection('refs');
    await coll.createIndex({ ref: 1, at: 1 }, { unique: true });
    const id = new ObjectId();
    await coll.insertOne({ ref: id, at: new Date(1000) });
    await expect(coll.insertOne({ ref: new ObjectId(id.toHexString()), at: new Date(1000) })).rejects.toMatchObject({
      code: 11000,
      keyValue: { ref: id, at: new Date(1000) },
    });
    await expect(coll.insertOne({ ref: id, at: new Date(1001) })).resolves.toBeDefined();
  });

  it('treats a missing field as null, so two documents without it collide', async () => {
    const coll = h.db().collection('emails');
    await coll.createIndex({ email: 1 }, { unique: true });
    await coll.insertOne({ name: 'a' });
    const err = await coll.insertOne({ name: 'b' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000, keyValue: { email: null } });
    expect((err as Error).message).toContain('dup key: { email: null }');
    await expect(coll.insertOne({ email: null })).rejects.toMatchObject({ code: 11000 });
  });

  it('lets documents without the field coexist under a sparse unique index', async () => {
    const coll = h.db().collection('sparse');
    await coll.createIndex({ email: 1 }, { unique: true, sparse: true });
    await coll.insertMany([{ name: 'a' }, { name: 'b' }]);
    await coll.insertOne({ email: 'x@y' });
    await expect(coll.insertOne({ email: 'x@y' })).rejects.toMatchObject({ code: 11000 });
  });

  it('only enforces uniqueness on documents matching partialFilterExpression', async () => {
    const coll = h.db().collection('partial');
    await coll.createIndex({ chatId: 1 }, { unique: true, partialFilterExpression: { open: true } });
    await coll.insertMany([{ chatId: 'c', open: false }, { chatId: 'c', open: false }, { chatId: 'c', open: true }]);
    await expect(coll.insertOne({ chatId: 'c', open: true })).rejects.toMatchObject({ code: 11000 });
    expect(await coll.countDocuments()).toBe(3);
  });

  it('indexes each array element (multikey) for uniqueness', async () => {
    const coll = h.db().collection('multikey');
    await coll.createIndex({ tags: 1 }, { unique: true });
    await coll.insertOne({ tags: ['a', 'b'] });
    await expect(coll.insertOne({ tags: ['c', 'b'] })).rejects.toMatchObject({ code: 11000, keyValue: { tags: 'b' } });
    await expect(coll.insertOne({ tags: ['c', 'c'] })).resolves.toBeDefined();
  });

  it('rejects an update that would duplicate a unique key and leaves the document unchanged', async () => {
    const { coll } = await messages();
    await coll.insertMany([
      { _id: 'm1' as never, botId: 'b1', providerMessageId: 'X', n: 0 },
      { _id: 'm2' as never, botId: 'b1', providerMessageId: 'Y', n: 0 },
    ]);
    const err = await coll.updateOne({ _id: 'm2' as never }, { $set: { providerMessageId: 'X' }, $inc: { n: 1 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000, keyValue: { botId: 'b1', providerMessageId: 'X' } });
    expect(await coll.findOne({ _id: 'm2' as never })).toEqual({ _id: 'm2', botId: 'b1', providerMessageId: 'Y', n: 0 });
    // The old key stays reserved by m2 and the new one by m1.
    await expect(coll.insertOne({ botId: 'b1', providerMessageId: 'Y' })).rejects.toMatchObject({ code: 11000 });
  });

  it('frees the old key once an update moves a document to a new key', async () => {
    const { coll } = await messages();
    await coll.insertOne({ _id: 'm1' as never, botId: 'b1', providerMessageId: 'X' });
    await coll.updateOne({ _id: 'm1' as never }, { $set: { providerMessageId: 'Z' } });
    await expect(coll.insertOne({ botId: 'b1', providerMessageId: 'X' })).resolves.toBeDefined();
    await expect(coll.insertOne({ botId: 'b1', providerMessageId: 'Z' })).rejects.toMatchObject({ code: 11000 });
  });

  it('frees keys of deleted documents', async () => {
    const { coll } = await messages();
    await coll.insertOne({ botId: 'b1', providerMessageId: 'X' });
    await coll.deleteOne({ botId: 'b1' });
    await expect(coll.insertOne({ botId: 'b1', providerMessageId: 'X' })).resolves.toBeDefined();
  });

  it('rejects an upsert that would insert a duplicate key', async () => {
    const { coll } = await messages();
    await coll.insertOne({ botId: 'b1', providerMessageId: 'X', seq: 1 });
    const err = await coll.updateOne({ botId: 'b1', seq: 2 }, { $set: { providerMessageId: 'X' } }, { upsert: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000 });
    expect(await coll.countDocuments()).toBe(1);
  });

  it('returns a duplicate key from findAndModify as a top-level error with codeName DuplicateKey', async () => {
    const { db, coll } = await messages();
    await coll.insertMany([
      { botId: 'b1', providerMessageId: 'X' },
      { botId: 'b1', providerMessageId: 'Y' },
    ]);
    const reply = await db
      .command({ findAndModify: 'messages', query: { providerMessageId: 'Y' }, update: { $set: { providerMessageId: 'X' } } })
      .catch((e: unknown) => e);
    expect(reply).toMatchObject({
      code: 11000,
      codeName: 'DuplicateKey',
      keyPattern: { botId: 1, providerMessageId: 1 },
      keyValue: { botId: 'b1', providerMessageId: 'X' },
    });
    await expect(coll.findOneAndUpdate({ providerMessageId: 'Y' }, { $set: { providerMessageId: 'X' } })).rejects.toMatchObject({ code: 11000 });
    await expect(coll.findOneAndUpdate({ providerMessageId: 'Q' }, { $set: { botId: 'b1', providerMessageId: 'X' } }, { upsert: true })).rejects.toMatchObject({
      code: 11000,
    });
    expect(await coll.countDocuments({ providerMessageId: 'Y' })).toBe(1);
  });

  it('enforces the _id index on updates that upsert an existing _id', async () => {
    const coll = h.db().collection('ids');
    await coll.insertOne({ _id: 1 as never, v: 'a' });
    await expect(coll.updateOne({ _id: 1 as never, v: 'b' }, { $set: { w: 1 } }, { upsert: true })).rejects.toMatchObject({
      code: 11000,
      keyPattern: { _id: 1 },
    });
  });

  it('refuses to build a unique index over existing duplicates', async () => {
    const coll = h.db().collection('prebuilt');
    await coll.insertMany([{ k: 'a' }, { k: 'a' }]);
    const err = await coll.createIndex({ k: 1 }, { unique: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 11000, codeName: 'DuplicateKey', keyValue: { k: 'a' } });
    const names = (await coll.listIndexes().toArray()).map((i) => i.name);
    expect(names).toEqual(['_id_']);
  });

  it('stops enforcing once the unique index is dropped', async () => {
    const coll = h.db().collection('dropped');
    await coll.createIndex({ k: 1 }, { unique: true, name: 'k_unique' });
    await coll.insertOne({ k: 1 });
    await coll.dropIndex('k_unique');
    await expect(coll.insertOne({ k: 1 })).resolves.toBeDefined();
  });
});
