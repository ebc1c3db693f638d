import { Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { ObjectId as DriverObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { Doc } from '../src/bson-values.ts';
import { CommandError } from '../src/errors.ts';
import { applyUpdate, seedFromFilter } from '../src/update/apply.ts';
import { parseUpdate } from '../src/update/parse.ts';
import { compileArrayFilters } from '../src/update/positional.ts';
import { useWireServer } from './harness.ts';

function apply(doc: Doc, update: unknown, opts: { filter?: Doc; arrayFilters?: unknown[]; isInsert?: boolean } = {}): Doc {
  return applyUpdate(doc, parseUpdate(update), {
    filter: opts.filter ?? {},
    arrayFilters: compileArrayFilters(opts.arrayFilters),
    isInsert: opts.isInsert ?? false,
  });
}

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof CommandError) return err.code;
    throw err;
  }
  return undefined;
}

describe('update operators', () => {
  it('$set creates nested paths and never mutates the original document', () => {
    const original = { _id: 1, a: { b: 1 } };
    const next = apply(original, { $set: { 'a.c': 2, 'x.y.z': true } });
    expect(next).toEqual({ _id: 1, a: { b: 1, c: 2 }, x: { y: { z: true } } });
    expect(original).toEqual({ _id: 1, a: { b: 1 } });
  });

  it('$set into an array index pads with nulls', () => {
    expect(apply({ _id: 1, arr: [1] }, { $set: { 'arr.3': 9 } })).toEqual({ _id: 1, arr: [1, null, null, 9] });
  });

  it('$unset removes fields and nulls array elements', () => {
    expect(apply({ _id: 1, a: 1, b: { c: 1, d: 2 }, arr: [1, 2] }, { $unset: { a: '', 'b.c': 1, 'arr.0': '' } })).toEqual({ _id: 1, b: { d: 2 }, arr: [null, 2] });
  });

  it('$inc and $mul keep Long arithmetic in Long and create missing fields', () => {
    const next = apply({ _id: 1, n: 1, l: Long.fromNumber(10), m: 3 }, { $inc: { n: 2, l: 5, fresh: 4 }, $mul: { m: 2, zero: 5 } });
    expect(next.n).toBe(3);
    expect(next.l).toEqual(Long.fromNumber(15));
    expect(next.fresh).toBe(4);
    expect(next.m).toBe(6);
    expect(next.zero).toBe(0);
  });

  it('$inc on a non-numeric field fails with TypeMismatch (14)', () => {
    expect(codeOf(() => apply({ _id: 1, s: 'x' }, { $inc: { s: 1 } }))).toBe(14);
    expect(codeOf(() => apply({ _id: 1 }, { $inc: { s: 'x' } }))).toBe(14);
  });

  it('$min and $max compare with BSON ordering, including dates', () => {
    const next = apply({ _id: 1, lo: 5, hi: 5, d: new Date(1000) }, { $min: { lo: 3 }, $max: { hi: 9, d: new Date(2000) } });
    expect(next).toMatchObject({ lo: 3, hi: 9, d: new Date(2000) });
    expect(apply({ _id: 1, lo: 5 }, { $min: { lo: 7 } }).lo).toBe(5);
  });

  it('$push supports $each, $position, $sort and $slice', () => {
    expect(apply({ _id: 1, a: [3] }, { $push: { a: 4 } }).a).toEqual([3, 4]);
    expect(apply({ _id: 1 }, { $push: { a: 1 } }).a).toEqual([1]);
    expect(apply({ _id: 1, a: [1, 2] }, { $push: { a: { $each: [9], $position: 0 } } }).a).toEqual([9, 1, 2]);
    expect(apply({ _id: 1, a: [5, 1] }, { $push: { a: { $each: [3, 7], $sort: 1, $slice: -3 } } }).a).toEqual([3, 5, 7]);
    const docs = apply({ _id: 1, a: [{ s: 2 }] }, { $push: { a: { $each: [{ s: 1 }, { s: 3 }], $sort: { s: -1 }, $slice: 2 } } }).a;
    expect(docs).toEqual([{ s: 3 }, { s: 2 }]);
  });

  it('$push onto a non-array fails with BadValue (2)', () => {
    expect(codeOf(() => apply({ _id: 1, a: 'x' }, { $push: { a: 1 } }))).toBe(2);
  });

  it('$addToSet adds only missing values, comparing BSON values by content', () => {
    const id = new ObjectId();
    const next = apply({ _id: 1, tags: ['a'], ids: [id] }, { $addToSet: { tags: { $each: ['a', 'b', 'b'] }, ids: new ObjectId(id.toHexString()) } });
    expect(next.tags).toEqual(['a', 'b']);
    expect(next.ids).toEqual([id]);
  });

  it('$pull removes by value, by condition and by sub-document query', () => {
    expect(apply({ _id: 1, a: [1, 2, 3, 2] }, { $pull: { a: 2 } }).a).toEqual([1, 3]);
    expect(apply({ _id: 1, a: [1, 5, 8] }, { $pull: { a: { $gte: 5 } } }).a).toEqual([1]);
    expect(apply({ _id: 1, a: [{ k: 1, v: 'x' }, { k: 2 }] }, { $pull: { a: { k: 1 } } }).a).toEqual([{ k: 2 }]);
    expect(apply({ _id: 1, a: [1, 2, 3] }, { $pullAll: { a: [1, 3] } }).a).toEqual([2]);
  });

  it('$pop removes the first or last element', () => {
    expect(apply({ _id: 1, a: [1, 2, 3] }, { $pop: { a: 1 } }).a).toEqual([1, 2]);
    expect(apply({ _id: 1, a: [1, 2, 3] }, { $pop: { a: -1 } }).a).toEqual([2, 3]);
  });

  it('$rename moves a value to a new path', () => {
    expect(apply({ _id: 1, old: 5, keep: 1 }, { $rename: { old: 'nested.new' } })).toEqual({ _id: 1, keep: 1, nested: { new: 5 } });
  });

  it('$currentDate sets a Date or a Timestamp', () => {
    const before = Date.now();
    const next = apply({ _id: 1 }, { $currentDate: { d: true, t: { $type: 'timestamp' } } });
    expect(next.d).toBeInstanceOf(Date);
    expect((next.d as Date).getTime()).toBeGreaterThanOrEqual(before);
    expect(next.t).toBeInstanceOf(Timestamp);
  });

  it('$setOnInsert applies only when inserting', () => {
    expect(apply({ _id: 1 }, { $setOnInsert: { c: 1 }, $set: { s: 1 } })).toEqual({ _id: 1, s: 1 });
    expect(apply({ _id: 1 }, { $setOnInsert: { c: 1 }, $set: { s: 1 } }, { isInsert: true })).toEqual({ _id: 1, c: 1, s: 1 });
  });

  it('updates the element matched by the positional $ operator', () => {
    const doc = { _id: 1, items: [{ sku: 'a', n: 1 }, { sku: 'b', n: 1 }] };
    expect(apply(doc, { $inc: { 'items.$.n': 5 } }, { filter: { 'items.sku': 'b' } }).items).toEqual([{ sku: 'a', n: 1 }, { sku: 'b', n: 6 }]);
    expect(apply({ _id: 1, grades: [80, 90] }, { $set: { 'grades.$': 95 } }, { filter: { grades: 90 } }).grades).toEqual([80, 95]);
    expect(codeOf(() => apply(doc, { $set: { 'items.$.n': 0 } }, { filter: {} }))).toBe(2);
  });

  it('updates all elements with $[] and filtered elements with $[id] and arrayFilters', () => {
    const doc = { _id: 1, items: [{ n: 1 }, { n: 5 }, { n: 10 }] };
    expect(apply(doc, { $inc: { 'items.$[].n': 1 } }).items).toEqual([{ n: 2 }, { n: 6 }, { n: 11 }]);
    expect(apply(doc, { $set: { 'items.$[big].n': 0 } }, { arrayFilters: [{ 'big.n': { $gte: 5 } }] }).items).toEqual([{ n: 1 }, { n: 0 }, { n: 0 }]);
  });

  it('rejects conflicting paths with ConflictingUpdateOperators (40)', () => {
    expect(codeOf(() => parseUpdate({ $set: { a: 1 }, $inc: { a: 1 } }))).toBe(40);
    expect(codeOf(() => parseUpdate({ $set: { 'a.b': 1, a: 2 } }))).toBe(40);
  });

  it('rejects unknown modifiers with FailedToParse (9)', () => {
    expect(codeOf(() => parseUpdate({ $frob: { a: 1 } }))).toBe(9);
  });

  it('refuses to change _id with ImmutableField (66) in operator and replacement updates', () => {
    expect(codeOf(() => apply({ _id: 1 }, { $set: { _id: 2 } }))).toBe(66);
    expect(codeOf(() => apply({ _id: 1 }, { _id: 2, a: 1 }))).toBe(66);
    expect(apply({ _id: 1 }, { $set: { _id: 1, a: 1 } })).toEqual({ _id: 1, a: 1 });
  });

  it('replaces the whole document but keeps _id first', () => {
    expect(apply({ _id: 7, a: 1, b: 2 }, { c: 3 })).toEqual({ _id: 7, c: 3 });
    expect(Object.keys(apply({ _id: 7, a: 1 }, { c: 3, _id: 7 }))).toEqual(['_id', 'c']);
  });

  it('applies aggregation-pipeline updates', () => {
    expect(apply({ _id: 1, a: 2, b: 3 }, [{ $set: { sum: { $add: ['$a', '$b'] } } }, { $unset: 'b' }])).toEqual({ _id: 1, a: 2, sum: 5 });
  });

  it('keeps Decimal128 arithmetic in Decimal128', () => {
    expect(apply({ _id: 1, d: Decimal128.fromString('1.5') }, { $inc: { d: 1 } }).d).toEqual(Decimal128.fromString('2.5'));
  });

  it('seeds an upsert from equality fields, dotted paths, $eq and $and but not from operators', () => {
    expect(seedFromFilter({ a: 1, 'b.c': 'x', d: { $gt: 1 }, e: { $eq: 5 }, $and: [{ f: true }], $or: [{ g: 1 }] })).toEqual({ a: 1, b: { c: 'x' }, e: 5, f: true });
    expect(Object.keys(seedFromFilter({ a: 1, _id: 'k' }))).toEqual(['_id', 'a']);
  });
});

const h = useWireServer();

describe('update command through the driver', () => {
  it('reports matched and modified counts, and does not count no-op updates as modified', async () => {
    const coll = h.db().collection('u');
    await coll.insertMany([{ k: 1, v: 0 }, { k: 1, v: 1 }, { k: 2, v: 0 }]);
    const res = await coll.updateMany({ k: 1 }, { $set: { v: 1 } });
    expect(res).toMatchObject({ matchedCount: 2, modifiedCount: 1 });
    expect((await coll.updateOne({ k: 3 }, { $set: { v: 1 } })).matchedCount).toBe(0);
  });

  it('upserts from the query fields, applies $setOnInsert and reports upsertedId', async () => {
    const coll = h.db().collection('up');
    const res = await coll.updateOne({ botId: 'b1', 'meta.chat': 'c1' }, { $set: { n: 1 }, $setOnInsert: { createdAt: new Date(5) } }, { upsert: true });
    expect(res.upsertedCount).toBe(1);
    // The driver decodes with its own (CommonJS) copy of bson, so compare against its class.
    expect(res.upsertedId).toBeInstanceOf(DriverObjectId);
    expect(await coll.findOne({}, { projection: { _id: 0 } })).toEqual({ botId: 'b1', meta: { chat: 'c1' }, n: 1, createdAt: new Date(5) });
    const again = await coll.updateOne({ botId: 'b1', 'meta.chat': 'c1' }, { $set: { n: 2 }, $setOnInsert: { createdAt: new Date(9) } }, { upsert: true });
    expect(again).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
    expect((await coll.findOne({}))?.createdAt).toEqual(new Date(5));
  });

  it('uses the query _id for an upserted document', async () => {
    const db = h.db();
    const reply = await db.command({ update: 'c', updates: [{ q: { _id: 'fixed' }, u: { $set: { a: 1 } }, upsert: true }] });
    expect(reply).toEqual({ n: 1, nModified: 0, upserted: [{ index: 0, _id: 'fixed' }], ok: 1 });
  });

  it('replaces documents with replaceOne, including replacement upserts', async () => {
    const coll = h.db().collection('rep');
    await coll.insertOne({ _id: 1 as never, a: 1, b: 2 });
    await coll.replaceOne({ _id: 1 as never }, { c: 3 });
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, c: 3 });
    await coll.replaceOne({ _id: 2 as never }, { d: 4 }, { upsert: true });
    expect(await coll.findOne({ _id: 2 as never })).toEqual({ _id: 2, d: 4 });
  });

  it('reports ImmutableField (66) as a write error', async () => {
    const coll = h.db().collection('imm');
    await coll.insertOne({ _id: 1 as never });
    await expect(coll.updateOne({ _id: 1 as never }, { $set: { _id: 2 as never } })).rejects.toMatchObject({ code: 66 });
  });
});
