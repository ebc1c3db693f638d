import { Binary, Decimal128, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { ObjectId as DriverObjectId, Long as DriverLong } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { compareValues, type Doc } from '../src/bson-values.ts';
import { compileFilter } from '../src/matcher.ts';
import { compileSort } from '../src/sort.ts';
import { useWireServer } from './harness.ts';

const id1 = new ObjectId('65a000000000000000000001');
const id2 = new ObjectId('65a000000000000000000002');
const docs: Doc[] = [
  { _id: 1, ref: id1, at: new Date('2024-01-01'), n: 1, l: Long.fromNumber(10), tags: ['a', 'b'], sub: { k: 'x' }, items: [{ q: 1, c: 'r' }, { q: 5, c: 'g' }] },
  { _id: 2, ref: id2, at: new Date('2024-02-01'), n: 2.5, l: Long.fromNumber(20), tags: [], sub: { k: null }, items: [{ q: 5, c: 'r' }] },
  { _id: 3, at: null, n: 'text', tags: ['c'], name: 'Alice' },
  { _id: 4, n: null, name: 'bob' },
];

function ids(filter: Doc): unknown[] {
  const pred = compileFilter(filter);
  return docs.filter((d) => pred(d)).map((d) => d._id);
}

describe('filter semantics over BSON values', () => {
  it('matches ObjectIds by value, including $in and $ne', () => {
    expect(ids({ ref: new ObjectId(id1.toHexString()) })).toEqual([1]);
    expect(ids({ ref: { $in: [new ObjectId(id2.toHexString()), 'x'] } })).toEqual([2]);
    expect(ids({ ref: { $ne: new ObjectId(id1.toHexString()) } })).toEqual([2, 3, 4]);
    expect(ids({ ref: { $gt: id1 } })).toEqual([2]);
  });

  it('filters Date ranges and never compares dates with other types', () => {
    expect(ids({ at: { $gte: new Date('2024-01-15'), $lt: new Date('2024-03-01') } })).toEqual([2]);
    expect(ids({ at: { $lt: new Date('2030-01-01') } })).toEqual([1, 2]);
    expect(ids({ n: { $gt: new Date(0) } })).toEqual([]);
  });

  it('compares Long, int and double numerically across types', () => {
    expect(ids({ l: 10 })).toEqual([1]);
    expect(ids({ l: { $gt: 15 } })).toEqual([2]);
    expect(ids({ n: Long.fromNumber(1) })).toEqual([1]);
    expect(ids({ n: { $gte: Decimal128.fromString('2') } })).toEqual([2]);
    expect(ids({ n: { $in: [Long.fromNumber(1), 2.5] } })).toEqual([1, 2]);
  });

  it('brackets comparisons by type: $gt on a number never matches strings', () => {
    expect(ids({ n: { $gt: 0 } })).toEqual([1, 2]);
    expect(ids({ n: { $gt: 'a' } })).toEqual([3]);
  });

  it('matches null against null and missing fields, and $exists distinguishes them', () => {
    expect(ids({ at: null })).toEqual([3, 4]);
    expect(ids({ ref: null })).toEqual([3, 4]);
    expect(ids({ at: { $exists: true } })).toEqual([1, 2, 3]);
    expect(ids({ at: { $exists: false } })).toEqual([4]);
    expect(ids({ at: { $ne: null } })).toEqual([1, 2]);
    expect(ids({ at: { $in: [null] } })).toEqual([3, 4]);
    expect(ids({ 'sub.k': null })).toEqual([2, 3, 4]);
  });

  it('follows dotted paths into sub-documents and arrays of sub-documents', () => {
    expect(ids({ 'sub.k': 'x' })).toEqual([1]);
    expect(ids({ 'items.q': 5 })).toEqual([1, 2]);
    expect(ids({ 'items.0.q': 1 })).toEqual([1]);
    expect(ids({ 'items.c': 'g' })).toEqual([1]);
  });

  it('matches array fields by element, by whole array, with $size and $all', () => {
    expect(ids({ tags: 'b' })).toEqual([1]);
    expect(ids({ tags: ['a', 'b'] })).toEqual([1]);
    expect(ids({ tags: { $size: 0 } })).toEqual([2]);
    expect(ids({ tags: { $all: ['b', 'a'] } })).toEqual([1]);
  });

  it('requires one element to satisfy every condition under $elemMatch', () => {
    expect(ids({ items: { $elemMatch: { q: 5, c: 'r' } } })).toEqual([2]);
    expect(ids({ 'items.q': 5, 'items.c': 'r' })).toEqual([1, 2]);
    expect(ids({ items: { $elemMatch: { q: { $gt: 2 } } } })).toEqual([1, 2]);
  });

  it('combines clauses with $or, $and, $nor and $not', () => {
    expect(ids({ $or: [{ _id: 1 }, { name: 'bob' }] })).toEqual([1, 4]);
    expect(ids({ $and: [{ n: { $gt: 0 } }, { n: { $lt: 2 } }] })).toEqual([1]);
    expect(ids({ $nor: [{ _id: 1 }, { _id: 2 }] })).toEqual([3, 4]);
    expect(ids({ n: { $not: { $gt: 1 } } })).toEqual([1, 3, 4]);
  });

  it('supports $regex with options, regex literals and $type', () => {
    expect(ids({ name: { $regex: '^a', $options: 'i' } })).toEqual([3]);
    expect(ids({ name: /^b/ })).toEqual([4]);
    expect(ids({ n: { $type: 'double' } })).toEqual([2]);
    expect(ids({ n: { $type: 'number' } })).toEqual([1, 2]);
    expect(ids({ l: { $type: 'long' } })).toEqual([1, 2]);
    expect(ids({ ref: { $type: 'objectId' } })).toEqual([1, 2]);
  });

  it('rejects unknown operators with BadValue', () => {
    expect(() => compileFilter({ a: { $nope: 1 } })).toThrow(/unknown operator/);
    expect(() => compileFilter({ $nope: 1 })).toThrow(/unknown top level operator/);
  });
});

describe('sort order', () => {
  it('orders mixed types like MongoDB: MinKey < null < numbers < strings < objects < arrays < binData < ObjectId < booleans < dates < timestamps < regex < MaxKey', () => {
    const ordered = [
      new MinKey(),
      null,
      -1,
      Long.fromNumber(2),
      2.5,
      'a',
      'b',
      { a: 1 },
      [1],
      new Binary(Buffer.from([1])),
      id1,
      false,
      true,
      new Date(0),
      new Timestamp({ t: 1, i: 1 }),
      /x/,
      new MaxKey(),
    ];
    const shuffled = [...ordered].reverse();
    expect(shuffled.sort(compareValues)).toEqual(ordered);
  });

  it('sorts stably, keeping insertion order for equal keys', () => {
    const rows = [1, 2, 3, 4, 5, 6].map((i) => ({ _id: i, k: i % 2 }));
    expect(compileSort({ k: 1 })?.sort(rows).map((r) => r._id)).toEqual([2, 4, 6, 1, 3, 5]);
  });

  it('sorts arrays by their smallest element ascending and largest descending', () => {
    const rows = [{ _id: 'a', v: [5, 1] }, { _id: 'b', v: [3] }, { _id: 'c', v: [2, 9] }];
    expect(compileSort({ v: 1 })?.sort(rows).map((r) => r._id)).toEqual(['a', 'c', 'b']);
    expect(compileSort({ v: -1 })?.sort(rows).map((r) => r._id)).toEqual(['c', 'a', 'b']);
  });
});

const h = useWireServer();

describe('queries through the driver', () => {
  it('finds by ObjectId, sorts by ObjectId and Date, and filters Date ranges', async () => {
    const coll = h.db().collection('events');
    const a = new DriverObjectId('65a000000000000000000003');
    const b = new DriverObjectId('65a000000000000000000001');
    const c = new DriverObjectId('65a000000000000000000002');
    await coll.insertMany([
      { _id: a, at: new Date('2024-03-01') },
      { _id: b, at: new Date('2024-01-01') },
      { _id: c, at: new Date('2024-02-01') },
    ]);
    expect((await coll.findOne({ _id: new DriverObjectId(c.toHexString()) }))?.at).toEqual(new Date('2024-02-01'));
    expect((await coll.find().sort({ _id: 1 }).toArray()).map((d) => d._id.toHexString())).toEqual([b, c, a].map((x) => x.toHexString()));
    expect((await coll.find().sort({ at: -1 }).toArray()).map((d) => d._id.toHexString())).toEqual([a, c, b].map((x) => x.toHexString()));
    expect(await coll.countDocuments({ at: { $gte: new Date('2024-01-15'), $lt: new Date('2024-02-15') } })).toBe(1);
    expect(await coll.countDocuments({ _id: { $in: [a, b, new DriverObjectId()] } })).toBe(2);
  });

  it('matches Long values sent by the driver against plain numbers', async () => {
    const coll = h.db().collection('longs');
    await coll.insertMany([{ v: DriverLong.fromNumber(5) }, { v: 7 }]);
    expect(await coll.countDocuments({ v: 5 })).toBe(1);
    expect(await coll.countDocuments({ v: { $gte: DriverLong.fromNumber(6) } })).toBe(1);
    expect((await coll.find().sort({ v: -1 }).toArray()).map((d) => Number(d.v))).toEqual([7, 5]);
  });

  it('uses the _id lookup for equality and still applies the rest of the filter', async () => {
    const coll = h.db().collection('byid');
    await coll.insertMany([{ _id: 'x' as never, s: 1 }, { _id: 'y' as never, s: 2 }]);
    expect(await coll.findOne({ _id: 'x' as never, s: 2 })).toBeNull();
    expect(await coll.findOne({ _id: 'y' as never, s: 2 })).toEqual({ _id: 'y', s: 2 });
    expect((await coll.find({ _id: { $in: ['y', 'x', 'y'] as never[] } }).toArray()).map((d) => d._id)).toEqual(['x', 'y']);
  });
});
