import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useWireServer } from './harness.ts';

const h = useWireServer();

async function shop() {
  const db = h.db();
  const alice = new ObjectId();
  const bob = new ObjectId();
  await db.collection('users').insertMany([
    { _id: alice, name: 'alice' },
    { _id: bob, name: 'bob' },
  ]);
  await db.collection('orders').insertMany([
    { userId: alice, total: 10, items: ['pen', 'ink'], at: new Date('2024-01-02'), status: 'paid' },
    { userId: alice, total: 5, items: ['pad'], at: new Date('2024-01-01'), status: 'open' },
    { userId: bob, total: 7, items: ['pen'], at: new Date('2024-01-03'), status: 'paid' },
  ]);
  return { db, orders: db.collection('orders'), alice, bob };
}

describe('aggregate', () => {
  it('runs countDocuments ($match then $group with $sum: 1)', async () => {
    const { orders } = await shop();
    expect(await orders.countDocuments({ status: 'paid' })).toBe(2);
    expect(await orders.countDocuments({ status: 'nope' })).toBe(0);
    expect(await orders.countDocuments({}, { skip: 1 })).toBe(2);
  });

  it('matches, sorts, skips, limits and projects', async () => {
    const { orders } = await shop();
    const rows = await orders.aggregate([{ $match: { total: { $gte: 5 } } }, { $sort: { at: -1 } }, { $skip: 1 }, { $limit: 1 }, { $project: { _id: 0, total: 1 } }]).toArray();
    expect(rows).toEqual([{ total: 10 }]);
  });

  it('groups by ObjectId and sums with accumulators', async () => {
    const { orders, alice, bob } = await shop();
    const rows = await orders.aggregate([{ $group: { _id: '$userId', spent: { $sum: '$total' }, n: { $sum: 1 } } }, { $sort: { spent: -1 } }]).toArray();
    expect(rows.map((r) => [String(r._id), r.spent, r.n])).toEqual([
      [alice.toHexString(), 15, 2],
      [bob.toHexString(), 7, 1],
    ]);
  });

  it('counts, unwinds, adds fields and sorts by count', async () => {
    const { orders } = await shop();
    expect(await orders.aggregate([{ $match: { status: 'paid' } }, { $count: 'paid' }]).toArray()).toEqual([{ paid: 2 }]);
    const items = await orders.aggregate([{ $unwind: '$items' }, { $sortByCount: '$items' }]).toArray();
    expect(items[0]).toEqual({ _id: 'pen', count: 2 });
    const withTax = await orders.aggregate([{ $set: { gross: { $multiply: ['$total', 2] } } }, { $addFields: { big: { $gt: ['$gross', 15] } } }, { $match: { big: true } }]).toArray();
    expect(withTax.map((o) => o.total)).toEqual([10]);
  });

  it('joins with $lookup on ObjectIds from a collection of the same database', async () => {
    const { orders } = await shop();
    const rows = await orders.aggregate([{ $sort: { at: 1 } }, { $lookup: { from: 'users', localField: 'userId', foreignField: '_id', as: 'user' } }, { $project: { _id: 0, name: { $first: '$user.name' } } }]).toArray();
    expect(rows).toEqual([{ name: 'alice' }, { name: 'alice' }, { name: 'bob' }]);
  });

  it('joins with a $lookup sub-pipeline that uses let variables in $expr', async () => {
    const { db } = await shop();
    const rows = await db
      .collection('users')
      .aggregate([
        { $sort: { name: 1 } },
        { $lookup: { from: 'orders', let: { uid: '$_id' }, pipeline: [{ $match: { $expr: { $eq: ['$userId', '$$uid'] } } }, { $sort: { total: 1 } }, { $project: { _id: 0, total: 1 } }], as: 'orders' } },
        { $project: { _id: 0, name: 1, orders: 1 } },
      ])
      .toArray();
    expect(rows).toEqual([
      { name: 'alice', orders: [{ total: 5 }, { total: 10 }] },
      { name: 'bob', orders: [{ total: 7 }] },
    ]);
  });

  it('evaluates $expr in find filters', async () => {
    const { orders } = await shop();
    expect(await orders.countDocuments({ $expr: { $gt: ['$total', 6] } })).toBe(2);
  });

  it('computes several sub-pipelines with $facet', async () => {
    const { orders } = await shop();
    const [facets] = await orders.aggregate([{ $facet: { paid: [{ $match: { status: 'paid' } }, { $count: 'n' }], top: [{ $sort: { total: -1 } }, { $limit: 1 }, { $project: { _id: 0, total: 1 } }] } }]).toArray();
    expect(facets).toEqual({ paid: [{ n: 2 }], top: [{ total: 10 }] });
  });

  it('keeps stored documents untouched when stages rewrite them', async () => {
    const { orders } = await shop();
    await orders.aggregate([{ $set: { total: 0, 'extra.flag': true } }, { $unset: 'items' }]).toArray();
    const stored = await orders.find({}, { projection: { _id: 0, total: 1, items: 1 } }).sort({ at: 1 }).toArray();
    expect(stored).toEqual([{ total: 5, items: ['pad'] }, { total: 10, items: ['pen', 'ink'] }, { total: 7, items: ['pen'] }]);
  });

  it('pages a large result through the aggregate cursor', async () => {
    const db = h.db();
    await db.collection('big').insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
    const first = await db.command({ aggregate: 'big', pipeline: [{ $sort: { i: -1 } }], cursor: { batchSize: 100 } });
    expect(first.cursor.firstBatch).toHaveLength(100);
    expect(first.cursor.firstBatch[0].i).toBe(249);
    expect(await db.collection('big').aggregate([{ $match: {} }]).toArray()).toHaveLength(250);
  });

  it('refuses $out and $merge with a clear error and unknown stages with 40324', async () => {
    const { orders } = await shop();
    await expect(orders.aggregate([{ $out: 'copy' }]).toArray()).rejects.toMatchObject({ code: 238, message: expect.stringContaining('$out is not supported') });
    await expect(orders.aggregate([{ $merge: { into: 'copy' } }]).toArray()).rejects.toMatchObject({ code: 238 });
    await expect(orders.aggregate([{ $bogus: {} }]).toArray()).rejects.toMatchObject({ code: 40324 });
  });

  it('requires the cursor option', async () => {
    const { db } = await shop();
    await expect(db.command({ aggregate: 'orders', pipeline: [] })).rejects.toMatchObject({ code: 9 });
  });

  it('runs a database-level $documents pipeline', async () => {
    const db = h.db();
    const rows = await db.aggregate([{ $documents: [{ x: 1 }, { x: 2 }] }, { $match: { x: { $gt: 1 } } }]).toArray();
    expect(rows).toEqual([{ x: 2 }]);
  });
});
