import { Binary, calculateObjectSize } from 'bson';
import type { Collection, Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useWireServer } from './harness.ts';
import { MAX_DOCUMENT_BYTES, MAX_NESTING_DEPTH } from '../src/limits.ts';

const h = useWireServer();

/** A fresh collection whose documents may carry any `_id`, as these tests need. */
type AnyDoc = { _id?: number | RegExp | Document | unknown[] } & Document;
const freshCollection = (): Collection<AnyDoc> => h.db().collection<AnyDoc>('c');

// Binary payloads, not strings: the driver and the server copy them instead of encoding UTF-8.
const payload = (bytes: number): Binary => new Binary(Buffer.alloc(bytes));

/** `{_id, s: <binary>}` whose BSON encoding is exactly `bytes` long. */
function docOfSize(id: unknown, bytes: number): Document {
  const overhead = calculateObjectSize({ _id: id, s: payload(0) });
  return { _id: id, s: payload(bytes - overhead) };
}

/** `{a: {a: … {a: leaf}}}` made of `levels` documents, the outer one included. */
function nested(levels: number, leaf: unknown = 1): Document {
  let doc: Document = { a: leaf };
  for (let i = 1; i < levels; i++) doc = { a: doc };
  return doc;
}

async function contents(coll: Collection<AnyDoc>): Promise<Document[]> {
  return coll.find({}, { sort: { _id: 1 } }).toArray();
}

describe('16 MiB document size', () => {
  it('stores a document of exactly 16 MiB and refuses one byte more with BadValue (2)', async () => {
    const coll = freshCollection();
    await coll.insertOne(docOfSize(1, MAX_DOCUMENT_BYTES));
    const err = await coll.insertOne(docOfSize(2, MAX_DOCUMENT_BYTES + 1)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 2, message: `object to insert too large. size in bytes: ${MAX_DOCUMENT_BYTES + 1}, max size: ${MAX_DOCUMENT_BYTES}` });
    expect(await coll.countDocuments({ _id: 2 })).toBe(0);
  });

  // `$set: {b: '$a'}` in a pipeline doubles a 9 MB document on the server, so little travels on the wire.
  const double = [{ $set: { b: '$a' } }];
  const nineMegabytes = payload(9_000_000);

  it('refuses an update whose result outgrows 16 MiB with BSONObjectTooLarge (10334) and keeps the document', async () => {
    const coll = freshCollection();
    await coll.insertOne({ _id: 1, a: nineMegabytes });
    const err = await coll.updateOne({ _id: 1 }, double).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 10334, message: `Resulting document after update is larger than ${MAX_DOCUMENT_BYTES}` });
    await expect(coll.findOneAndUpdate({ _id: 1 }, double)).rejects.toMatchObject({ code: 10334, codeName: 'BSONObjectTooLarge' });
    expect(await coll.countDocuments({ b: { $exists: true } })).toBe(0);
  });

  it('refuses an upsert that would insert more than 16 MiB with 17420 and creates nothing', async () => {
    const coll = freshCollection();
    const err = await coll.updateOne({ _id: 7, a: nineMegabytes }, double, { upsert: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 17420, message: `Document to upsert is larger than ${MAX_DOCUMENT_BYTES}` });
    await expect(coll.findOneAndUpdate({ _id: 8, a: nineMegabytes }, double, { upsert: true })).rejects.toMatchObject({ code: 17420 });
    expect(await coll.countDocuments()).toBe(0);
  });
});

describe(`nesting depth (${MAX_NESTING_DEPTH} levels)`, () => {
  it('stores a document nested to the limit and refuses one level more with Overflow (15)', async () => {
    const coll = freshCollection();
    await coll.insertOne({ _id: 1, ...nested(MAX_NESTING_DEPTH) });
    const err = await coll.insertOne({ _id: 2, ...nested(MAX_NESTING_DEPTH + 1) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 15, message: `cannot insert document because it exceeds ${MAX_NESTING_DEPTH} levels of nesting` });
    expect((await contents(coll)).map((d) => d._id)).toEqual([1]);
  });

  it('counts arrays as levels and empty documents not at all', async () => {
    const coll = freshCollection();
    let deepArray: unknown = [1];
    for (let i = 2; i < MAX_NESTING_DEPTH; i++) deepArray = [deepArray];
    await expect(coll.insertOne({ _id: 1, deepArray: [deepArray] })).rejects.toMatchObject({ code: 15 });
    await expect(coll.insertOne({ _id: 2, deepArray, ...nested(MAX_NESTING_DEPTH, {}) })).resolves.toBeDefined();
    expect((await contents(coll)).map((d) => d._id)).toEqual([2]);
  });

  it('refuses updates and upserts that nest too deep, leaving the collection as it was', async () => {
    const coll = freshCollection();
    await coll.insertOne({ _id: 1, x: 1 });
    const err = await coll.updateOne({ _id: 1 }, { $set: { deep: nested(MAX_NESTING_DEPTH) } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 15, message: `Document exceeds maximum nesting depth of ${MAX_NESTING_DEPTH}` });
    await expect(coll.replaceOne({ _id: 1 }, { deep: nested(MAX_NESTING_DEPTH) })).rejects.toMatchObject({ code: 15 });
    await expect(coll.updateOne({ _id: 2 }, { $set: { deep: nested(MAX_NESTING_DEPTH) } }, { upsert: true })).rejects.toMatchObject({ code: 15 });
    await expect(coll.findOneAndReplace({ _id: 1 }, { deep: nested(MAX_NESTING_DEPTH) })).rejects.toMatchObject({ code: 15, codeName: 'Overflow' });
    expect(await contents(coll)).toEqual([{ _id: 1, x: 1 }]);
  });
});

describe('field names and _id', () => {
  it('refuses an array, regex or $-bearing _id, stopping an ordered batch at it', async () => {
    const coll = freshCollection();
    const err = await coll.insertMany([{ _id: 1 }, { _id: [1, 2] }, { _id: 3 }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 53, writeErrors: [expect.objectContaining({ index: 1, errmsg: "The '_id' value cannot be of type array" })] });
    await expect(coll.insertOne({ _id: /x/ })).rejects.toMatchObject({ code: 53, message: "The '_id' value cannot be of type regex" });
    await expect(coll.insertOne({ _id: { a: { $b: 1 } } })).rejects.toMatchObject({
      code: 52,
      message: "_id fields may not contain '$'-prefixed fields: $b is not valid for storage.",
    });
    await expect(coll.updateOne({ _id: { $eq: [1] } }, { $set: { a: 1 } }, { upsert: true })).rejects.toMatchObject({ code: 53 });
    expect(await contents(coll)).toEqual([{ _id: 1 }]);
  });

  it('stores $-prefixed and dotted names in inserts and pipeline updates, as MongoDB 5.0+ does', async () => {
    const coll = freshCollection();
    await coll.insertOne({ _id: 1, $a: 1, 'b.c': 2, d: { $e: 3 } });
    await coll.updateOne({ _id: 1 }, [{ $replaceWith: { $setField: { field: { $literal: '$f' }, value: 4, input: '$$ROOT' } } }]);
    expect(await contents(coll)).toEqual([{ _id: 1, $a: 1, 'b.c': 2, d: { $e: 3 }, $f: 4 }]);
  });

  it('refuses a top-level $ name left by a replacement or operator update with DollarPrefixedFieldName (52)', async () => {
    const coll = freshCollection();
    await coll.insertOne({ _id: 1, x: 1 });
    const err = await coll.replaceOne({ _id: 1 }, { x: 2, $y: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 52, message: expect.stringContaining("The dollar ($) prefixed field '$y' in '$y'") });
    await expect(coll.updateOne({ _id: 1 }, { $set: { $y: 1 } })).rejects.toMatchObject({ code: 52 });
    await expect(coll.replaceOne({ _id: 2 }, { x: 2, $y: 1 }, { upsert: true })).rejects.toMatchObject({ code: 52 });
    // Only what would be stored is checked: a replacement that matches nothing is no error.
    await expect(coll.replaceOne({ _id: 3 }, { x: 2, $y: 1 })).resolves.toMatchObject({ matchedCount: 0 });
    expect(await contents(coll)).toEqual([{ _id: 1, x: 1 }]);
  });
});

describe('index specifications', () => {
  async function indexNames(coll: Collection<AnyDoc>): Promise<string[]> {
    return (await coll.listIndexes().toArray()).map((i) => String(i.name));
  }

  it.each([
    ['$ne', { s: { $ne: 'x' } }],
    ['$nin', { s: { $nin: ['x'] } }],
    ['$regex', { s: { $regex: '^x' } }],
    ['a regex literal', { s: /^x/ }],
    ['$exists: false', { s: { $exists: false } }],
    ['$not', { s: { $not: { $gt: 1 } } }],
    ['$nor', { $nor: [{ s: 1 }] }],
    ['$elemMatch', { s: { $elemMatch: { a: 1 } } }],
    ['$size', { s: { $size: 1 } }],
  ])('refuses a partial filter using %s with CannotCreateIndex (67)', async (_name, filter) => {
    const coll = freshCollection();
    await coll.insertOne({ s: 'x' });
    const err = await coll.createIndex({ s: 1 }, { partialFilterExpression: filter }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 67, codeName: 'CannotCreateIndex', message: expect.stringContaining('Expression not supported in partial index') });
    expect(await indexNames(coll)).toEqual(['_id_']);
  });

  it('accepts the operators MongoDB allows in a partial filter', async () => {
    const coll = freshCollection();
    const filters = [
      { s: 'x' },
      { s: { $eq: 'x' }, n: { $gt: 1, $lte: 9 } },
      { s: { $exists: true } },
      { s: { $type: 'string' } },
      { $and: [{ s: { $gte: 'a' } }, { n: { $lt: 5 } }] },
      { $or: [{ s: 'x' }, { n: { $in: [1, 2] } }] },
    ];
    for (const [i, partialFilterExpression] of filters.entries()) await coll.createIndex({ s: 1 }, { name: `p${i}`, partialFilterExpression });
    expect(await indexNames(coll)).toHaveLength(filters.length + 1);
  });

  it('refuses $expr and $where in a partial filter, and a partial filter mixed with sparse', async () => {
    const coll = freshCollection();
    await expect(coll.createIndex({ s: 1 }, { partialFilterExpression: { $expr: { $eq: ['$s', 1] } } })).rejects.toMatchObject({ code: 224 });
    await expect(coll.createIndex({ s: 1 }, { partialFilterExpression: { $where: 'true' } })).rejects.toMatchObject({ code: 2 });
    await expect(coll.createIndex({ s: 1 }, { sparse: true, partialFilterExpression: { s: 1 } })).rejects.toMatchObject({ code: 67 });
    await expect(coll.createIndex({ s: 1 }, { partialFilterExpression: { $or: [{ $or: [{ $or: [{ $or: [{ s: 1 }] }] }] }] } })).rejects.toMatchObject({
      code: 67,
      message: expect.stringContaining('partialFilterExpression depth may not exceed 4'),
    });
  });

  it('refuses an unknown index option with InvalidIndexSpecificationOption (197)', async () => {
    const db = h.db();
    const err = await db.command({ createIndexes: 'c', indexes: [{ key: { u: 1 }, name: 'u_1', bogus: true }] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 197, codeName: 'InvalidIndexSpecificationOption', message: expect.stringContaining("The field 'bogus' is not valid for an index specification") });
    await expect(db.command({ createIndexes: 'c', indexes: [{ key: { u: 1 }, name: 'u_1', unique: 'yes' }] })).rejects.toMatchObject({ code: 14 });
    expect(await db.listCollections().toArray()).toEqual([]);
  });

  it('refuses a name reused with another key (86) or other options (85), and a unique index over duplicates (11000)', async () => {
    const coll = freshCollection();
    await coll.insertMany([{ u: 1 }, { u: 1 }]);
    await coll.createIndex({ u: 1 }, { name: 'idx' });
    await expect(coll.createIndex({ v: 1 }, { name: 'idx' })).rejects.toMatchObject({ code: 86, codeName: 'IndexKeySpecsConflict' });
    await expect(coll.createIndex({ u: 1 }, { name: 'idx', sparse: true })).rejects.toMatchObject({ code: 85, codeName: 'IndexOptionsConflict' });
    await expect(coll.createIndex({ w: 1, u: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000, codeName: 'DuplicateKey' });
    expect(await indexNames(coll)).toEqual(['_id_', 'idx']);
  });
});
