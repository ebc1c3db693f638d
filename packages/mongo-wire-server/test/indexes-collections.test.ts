import { describe, expect, it } from 'vitest';
import { useWireServer } from './harness.ts';

const h = useWireServer();

describe('createIndexes / listIndexes / dropIndexes', () => {
  it('creates the collection automatically and reports index counts', async () => {
    const db = h.db();
    const reply = await db.command({ createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1' }] });
    expect(reply).toEqual({ numIndexesBefore: 1, numIndexesAfter: 2, createdCollectionAutomatically: true, ok: 1 });
    const again = await db.command({ createIndexes: 'c', indexes: [{ key: { b: -1 }, name: 'b_-1' }] });
    expect(again).toMatchObject({ numIndexesBefore: 2, numIndexesAfter: 3, createdCollectionAutomatically: false });
  });

  it('is idempotent for an identical spec and says so', async () => {
    const db = h.db();
    const coll = db.collection('c');
    await coll.createIndex({ a: 1 }, { unique: true });
    const reply = await db.command({ createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1', unique: true }] });
    expect(reply).toEqual({ numIndexesBefore: 2, numIndexesAfter: 2, createdCollectionAutomatically: false, note: 'all indexes already exist', ok: 1 });
    await expect(coll.createIndex({ a: 1 }, { unique: true })).resolves.toBe('a_1');
  });

  it('rejects the same name with a different key as IndexKeySpecsConflict (86)', async () => {
    const coll = h.db().collection('c');
    await coll.createIndex({ a: 1 }, { name: 'idx' });
    await expect(coll.createIndex({ b: 1 }, { name: 'idx' })).rejects.toMatchObject({ code: 86, codeName: 'IndexKeySpecsConflict' });
  });

  it('rejects the same key with different options as IndexOptionsConflict (85)', async () => {
    const coll = h.db().collection('c');
    await coll.createIndex({ a: 1 });
    await expect(coll.createIndex({ a: 1 }, { unique: true })).rejects.toMatchObject({ code: 85, codeName: 'IndexOptionsConflict' });
    await expect(coll.createIndex({ a: 1 }, { name: 'other' })).rejects.toMatchObject({ code: 85 });
  });

  it('lists indexes with their options, _id_ first', async () => {
    const coll = h.db().collection('c');
    await coll.createIndex({ a: 1, b: -1 }, { unique: true, sparse: true, name: 'ab' });
    await coll.createIndex({ at: 1 }, { expireAfterSeconds: 60 });
    await coll.createIndex({ s: 1 }, { partialFilterExpression: { s: { $exists: true } } });
    expect(await coll.listIndexes().toArray()).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { a: 1, b: -1 }, name: 'ab', unique: true, sparse: true },
      { v: 2, key: { at: 1 }, name: 'at_1', expireAfterSeconds: 60 },
      { v: 2, key: { s: 1 }, name: 's_1', partialFilterExpression: { s: { $exists: true } } },
    ]);
    expect(await coll.indexExists('ab')).toBe(true);
  });

  it('fails listIndexes on a missing collection with NamespaceNotFound (26)', async () => {
    await expect(h.db().command({ listIndexes: 'missing' })).rejects.toMatchObject({ code: 26, codeName: 'NamespaceNotFound' });
  });

  it('drops indexes by name, by key, by list and with *', async () => {
    const coll = h.db().collection('c');
    await coll.createIndexes([{ key: { a: 1 } }, { key: { b: 1 } }, { key: { c: 1 } }, { key: { d: 1 } }]);
    await coll.dropIndex('a_1');
    await coll.dropIndex({ b: 1 } as never);
    const names = async () => (await coll.listIndexes().toArray()).map((i) => i.name);
    expect(await names()).toEqual(['_id_', 'c_1', 'd_1']);
    expect(await coll.db.command({ dropIndexes: 'c', index: ['c_1'] })).toEqual({ nIndexesWas: 3, ok: 1 });
    await coll.createIndex({ e: 1 });
    await coll.dropIndexes();
    expect(await names()).toEqual(['_id_']);
  });

  it('refuses to drop _id_ and reports missing indexes with IndexNotFound (27)', async () => {
    const coll = h.db().collection('c');
    await coll.insertOne({ a: 1 });
    await expect(coll.dropIndex('_id_')).rejects.toMatchObject({ code: 72 });
    await expect(coll.dropIndex('nope')).rejects.toMatchObject({ code: 27, codeName: 'IndexNotFound' });
    await expect(coll.db.command({ dropIndexes: 'c', index: { zz: 1 } })).rejects.toMatchObject({ code: 27 });
    await expect(h.db().command({ dropIndexes: 'absent', index: '*' })).rejects.toMatchObject({ code: 26 });
  });
});

describe('collections', () => {
  it('creates a collection and refuses to create it twice with NamespaceExists (48)', async () => {
    const db = h.db();
    await db.createCollection('made');
    await expect(db.createCollection('made')).rejects.toMatchObject({ code: 48, codeName: 'NamespaceExists' });
  });

  it('refuses to create a view, which it would otherwise answer as an empty collection', async () => {
    const db = h.db();
    await expect(db.createCollection('v', { viewOn: 'made', pipeline: [] })).rejects.toMatchObject({ code: 238, codeName: 'NotImplemented' });
    expect(await db.listCollections().toArray()).toEqual([]);
  });

  it('drops a collection and reports NamespaceNotFound (26) for a missing one', async () => {
    const db = h.db();
    await db.collection('gone').insertOne({ a: 1 });
    expect(await db.collection('gone').drop()).toBe(true);
    await expect(db.command({ drop: 'gone' })).rejects.toMatchObject({ code: 26, codeName: 'NamespaceNotFound' });
    expect(await db.collection('gone').countDocuments()).toBe(0);
  });

  it('lists collections with full info, by name filter and names only', async () => {
    const db = h.db();
    await db.createCollection('alpha');
    await db.collection('beta').insertOne({ b: 1 });
    const all = await db.listCollections().toArray();
    expect(all.map((c) => c.name)).toEqual(['alpha', 'beta']);
    expect(all[0]).toEqual({ name: 'alpha', type: 'collection', options: {}, info: { readOnly: false }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } });
    expect(await db.listCollections({ name: 'beta' }).toArray()).toHaveLength(1);
    expect(await db.listCollections({}, { nameOnly: true }).toArray()).toEqual([
      { name: 'alpha', type: 'collection' },
      { name: 'beta', type: 'collection' },
    ]);
  });

  it('rejects invalid collection names with InvalidNamespace (73)', async () => {
    await expect(h.db().collection('bad$name').insertOne({ a: 1 })).rejects.toMatchObject({ code: 73 });
  });

  it('renames a collection with its documents and indexes', async () => {
    const db = h.db();
    await db.collection('before').createIndex({ k: 1 }, { unique: true });
    await db.collection('before').insertOne({ k: 1 });
    await db.collection('before').rename('after');
    expect((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name)).toEqual(['after']);
    await expect(db.collection('after').insertOne({ k: 1 })).rejects.toMatchObject({ code: 11000, message: expect.stringContaining('.after index: k_1') });
    await db.collection('other').insertOne({ o: 1 });
    await expect(db.collection('after').rename('other')).rejects.toMatchObject({ code: 48 });
    await db.collection('after').rename('other', { dropTarget: true });
    expect(await db.collection('other').findOne({}, { projection: { _id: 0 } })).toEqual({ k: 1 });
  });
});
