import { MongoBulkWriteError, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useWireServer } from './harness.ts';

const h = useWireServer();

describe('insert', () => {
  it('generates an ObjectId _id when the document has none and stores it first', async () => {
    const coll = h.db().collection('people');
    const res = await coll.insertOne({ name: 'ann' }, { forceServerObjectId: true });
    expect(res.acknowledged).toBe(true);
    const [doc] = await coll.find({ name: 'ann' }).toArray();
    expect(doc?._id).toBeInstanceOf(ObjectId);
    expect(Object.keys(doc ?? {})[0]).toBe('_id');
  });

  it('moves a client-supplied _id to the front of the stored document', async () => {
    const db = h.db();
    await db.command({ insert: 'c', documents: [{ a: 1, _id: 'k' }] });
    const found = await db.command({ find: 'c' });
    expect(Object.keys(found.cursor.firstBatch[0])).toEqual(['_id', 'a']);
  });

  it('stops an ordered batch at the first duplicate and reports it as a write error', async () => {
    const coll = h.db().collection<{ _id: number }>('ordered');
    const err = await coll.insertMany([{ _id: 1 }, { _id: 1 }, { _id: 2 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    const bulk = err as MongoBulkWriteError;
    expect(bulk.result.insertedCount).toBe(1);
    expect(bulk.writeErrors).toHaveLength(1);
    expect(await coll.countDocuments()).toBe(1);
  });

  it('continues an unordered batch past duplicates', async () => {
    const coll = h.db().collection<{ _id: number }>('unordered');
    const err = (await coll.insertMany([{ _id: 1 }, { _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }], { ordered: false }).catch((e: unknown) => e)) as MongoBulkWriteError;
    expect(err.result.insertedCount).toBe(3);
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    expect(errors.map((e) => e.index)).toEqual([1, 3]);
    expect(await coll.countDocuments()).toBe(3);
  });

  it('returns per-document writeErrors with index, code, errmsg, keyPattern and keyValue', async () => {
    const db = h.db();
    await db.collection('raw').insertOne({ _id: 5 as never });
    const reply = await db.command({ insert: 'raw', documents: [{ _id: 6 }, { _id: 5 }] });
    expect(reply.n).toBe(1);
    expect(reply.writeErrors).toEqual([
      { index: 1, code: 11000, errmsg: 'E11000 duplicate key error collection: ' + db.databaseName + '.raw index: _id_ dup key: { _id: 5 }', keyPattern: { _id: 1 }, keyValue: { _id: 5 } },
    ]);
  });

  it('refuses an array as _id', async () => {
    const reply = await h.db().command({ insert: 'bad', documents: [{ _id: [1, 2] }] });
    expect(reply.writeErrors[0]).toMatchObject({ index: 0, code: 53 });
  });
});

describe('find', () => {
  async function seeded() {
    const coll = h.db().collection('items');
    await coll.insertMany([
      { _id: 1 as never, name: 'apple', qty: 5, tags: ['fruit', 'red'], info: { color: 'red', weight: 100 } },
      { _id: 2 as never, name: 'banana', qty: 20, tags: ['fruit'], info: { color: 'yellow', weight: 120 } },
      { _id: 3 as never, name: 'carrot', qty: 0, tags: ['veg'], info: { color: 'orange', weight: 60 } },
      { _id: 4 as never, name: 'date', tags: [], info: { color: 'brown' } },
    ]);
    return coll;
  }

  it('applies filter, sort, skip and limit', async () => {
    const coll = await seeded();
    const names = (await coll.find({ tags: 'fruit' }).sort({ qty: -1 }).toArray()).map((d) => d.name);
    expect(names).toEqual(['banana', 'apple']);
    const page = (await coll.find({}).sort({ name: 1 }).skip(1).limit(2).toArray()).map((d) => d.name);
    expect(page).toEqual(['banana', 'carrot']);
  });

  it('returns documents in insertion order without a sort', async () => {
    const coll = await seeded();
    expect((await coll.find().toArray()).map((d) => d._id)).toEqual([1, 2, 3, 4]);
  });

  it('projects included fields, dotted fields and excluded fields', async () => {
    const coll = await seeded();
    expect(await coll.findOne({ _id: 1 as never }, { projection: { name: 1, 'info.color': 1 } })).toEqual({ _id: 1, name: 'apple', info: { color: 'red' } });
    expect(await coll.findOne({ _id: 1 as never }, { projection: { _id: 0, name: 1 } })).toEqual({ name: 'apple' });
    expect(await coll.findOne({ _id: 2 as never }, { projection: { tags: 0, info: 0 } })).toEqual({ _id: 2, name: 'banana', qty: 20 });
  });

  it('supports projection operators such as $slice and $elemMatch', async () => {
    const coll = await seeded();
    expect(await coll.findOne({ _id: 1 as never }, { projection: { tags: { $slice: 1 }, name: 1 } })).toMatchObject({ _id: 1, tags: ['fruit'] });
    const doc = await coll.findOne({ _id: 1 as never }, { projection: { tags: { $elemMatch: { $eq: 'red' } } } });
    expect(doc).toEqual({ _id: 1, tags: ['red'] });
  });

  it('rejects mixing inclusion and exclusion', async () => {
    const coll = await seeded();
    await expect(coll.findOne({}, { projection: { name: 1, qty: 0 } })).rejects.toMatchObject({ code: 31254 });
  });

  it('reports bad filters with code 2 BadValue', async () => {
    const coll = await seeded();
    await expect(coll.find({ qty: { $bogus: 1 } }).toArray()).rejects.toMatchObject({ code: 2, codeName: 'BadValue' });
  });

  it('finds nothing in a collection that does not exist', async () => {
    expect(await h.db().collection('nothing').find({}).toArray()).toEqual([]);
  });

  it('counts with a query, skip and limit, and estimates the total', async () => {
    const coll = await seeded();
    expect(await coll.countDocuments({ tags: 'fruit' })).toBe(2);
    expect(await coll.countDocuments({}, { skip: 1, limit: 2 })).toBe(2);
    expect(await coll.estimatedDocumentCount()).toBe(4);
    expect((await coll.db.command({ count: coll.collectionName, query: { qty: { $gte: 5 } } })).n).toBe(2);
  });

  it('returns distinct values, unwinding arrays and honouring the query', async () => {
    const coll = await seeded();
    expect(await coll.distinct('tags')).toEqual(['fruit', 'red', 'veg']);
    expect(await coll.distinct('info.color', { qty: { $gt: 0 } })).toEqual(['red', 'yellow']);
  });
});

describe('delete', () => {
  it('deletes one or many matching documents', async () => {
    const coll = h.db().collection('del');
    await coll.insertMany([{ k: 1 }, { k: 1 }, { k: 1 }, { k: 2 }]);
    expect((await coll.deleteOne({ k: 1 })).deletedCount).toBe(1);
    expect((await coll.deleteMany({ k: 1 })).deletedCount).toBe(2);
    expect((await coll.deleteMany({ k: 3 })).deletedCount).toBe(0);
    expect(await coll.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ k: 2 }]);
  });

  it('reports n for raw delete commands and rejects limits other than 0 or 1', async () => {
    const db = h.db();
    await db.collection('d').insertMany([{ a: 1 }, { a: 1 }]);
    expect(await db.command({ delete: 'd', deletes: [{ q: { a: 1 }, limit: 0 }] })).toEqual({ n: 2, ok: 1 });
    const bad = await db.command({ delete: 'd', deletes: [{ q: {}, limit: 5 }] });
    expect(bad.writeErrors[0]).toMatchObject({ index: 0, code: 9 });
  });

  it('refuses a whole write command whose statements carry a field MongoDB 7.0 does not know (40415)', async () => {
    const db = h.db();
    await db.collection('d').insertMany([{ a: 1 }, { a: 2 }]);
    const unknown = { code: 40415, codeName: 'IDLUnknownField' };
    await expect(db.command({ delete: 'd', deletes: [{ q: { a: 1 }, limit: 1 }, { q: {}, limit: 0, sort: { a: 1 } }] })).rejects.toMatchObject(unknown);
    await expect(db.command({ update: 'd', updates: [{ q: {}, u: { $set: { b: 1 } }, sort: { a: -1 } }] })).rejects.toMatchObject({
      ...unknown,
      message: "BSON field 'update.updates.sort' is an unknown field.",
    });
    expect(await db.collection('d').find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ a: 1 }, { a: 2 }]);
  });
});
