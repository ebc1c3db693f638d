import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useWireServer } from './harness.ts';

const h = useWireServer();

describe('findAndModify', () => {
  it('returns the document before or after the update with lastErrorObject', async () => {
    const db = h.db();
    await db.collection('jobs').insertOne({ _id: 'j1' as never, state: 'pending', n: 0 });
    const before = await db.command({ findAndModify: 'jobs', query: { _id: 'j1' }, update: { $inc: { n: 1 } } });
    expect(before).toEqual({ lastErrorObject: { n: 1, updatedExisting: true }, value: { _id: 'j1', state: 'pending', n: 0 }, ok: 1 });
    const after = await db.command({ findandmodify: 'jobs', query: { _id: 'j1' }, update: { $inc: { n: 1 } }, new: true, fields: { n: 1, _id: 0 } });
    expect(after.value).toEqual({ n: 2 });
  });

  it('reports no match as n 0 with a null value', async () => {
    const db = h.db();
    const reply = await db.command({ findAndModify: 'none', query: { a: 1 }, update: { $set: { b: 1 } } });
    expect(reply).toEqual({ lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 });
  });

  it('upserts and reports the new _id in lastErrorObject.upserted', async () => {
    const db = h.db();
    const reply = await db.command({ findAndModify: 'jobs', query: { key: 'k' }, update: { $setOnInsert: { state: 'new' } }, upsert: true, new: true });
    expect(reply.lastErrorObject.n).toBe(1);
    expect(reply.lastErrorObject.updatedExisting).toBe(false);
    expect(reply.value).toMatchObject({ key: 'k', state: 'new' });
    expect(reply.value._id.toHexString()).toBe(reply.lastErrorObject.upserted.toHexString());
    const old = await db.command({ findAndModify: 'jobs', query: { key: 'k2' }, update: { $set: { a: 1 } }, upsert: true });
    expect(old.value).toBeNull();
  });

  it('removes and returns the first document in sort order', async () => {
    const coll = h.db().collection('q');
    await coll.insertMany([{ p: 2 }, { p: 1 }, { p: 3 }]);
    const removed = await coll.findOneAndDelete({}, { sort: { p: 1 } });
    expect(removed?.p).toBe(1);
    expect((await coll.find({}, { projection: { _id: 0 } }).toArray()).map((d) => d.p)).toEqual([2, 3]);
    const reply = await coll.db.command({ findAndModify: 'q', query: { p: 99 }, remove: true });
    expect(reply).toEqual({ lastErrorObject: { n: 0 }, value: null, ok: 1 });
  });

  it('replaces with findOneAndReplace', async () => {
    const coll = h.db().collection('r');
    await coll.insertOne({ _id: 1 as never, a: 1 });
    const doc = await coll.findOneAndReplace({ _id: 1 as never }, { b: 2 }, { returnDocument: 'after' });
    expect(doc).toEqual({ _id: 1, b: 2 });
  });

  it('rejects contradictory options with FailedToParse (9)', async () => {
    const db = h.db();
    await expect(db.command({ findAndModify: 'x', query: {}, remove: true, update: { $set: { a: 1 } } })).rejects.toMatchObject({ code: 9 });
    await expect(db.command({ findAndModify: 'x', query: {} })).rejects.toMatchObject({ code: 9 });
    await expect(db.command({ findAndModify: 'x', query: {}, remove: true, upsert: true })).rejects.toMatchObject({ code: 9 });
  });

  it('claims the oldest pending document with sort', async () => {
    const coll = h.db().collection('claims');
    await coll.insertMany([
      { state: 'pending', createdAt: new Date(3000), name: 'c' },
      { state: 'pending', createdAt: new Date(1000), name: 'a' },
      { state: 'done', createdAt: new Date(0), name: 'z' },
      { state: 'pending', createdAt: new Date(2000), name: 'b' },
    ]);
    const claim = () => coll.findOneAndUpdate({ state: 'pending' }, { $set: { state: 'processing' } }, { sort: { createdAt: 1 }, returnDocument: 'after' });
    expect((await claim())?.name).toBe('a');
    expect((await claim())?.name).toBe('b');
    expect((await claim())?.name).toBe('c');
    expect(await claim()).toBeNull();
  });

  it('never hands the same document to two of 10 concurrent claimers', async () => {
    const dbName = `claimers_${Date.now()}`;
    const coll = h.client.db(dbName).collection('queue');
    const total = 300;
    await coll.insertMany(Array.from({ length: total }, (_, i) => ({ seq: i, state: 'pending', createdAt: new Date(1_700_000_000_000 + i) })));
    const clients = await Promise.all(Array.from({ length: 10 }, () => new MongoClient(h.server.uri).connect()));
    try {
      const claimed = await Promise.all(
        clients.map(async (client, worker) => {
          const q = client.db(dbName).collection('queue');
          const mine: number[] = [];
          for (;;) {
            const doc = await q.findOneAndUpdate(
              { state: 'pending' },
              { $set: { state: 'processing', worker } },
              { sort: { createdAt: 1 }, returnDocument: 'after' },
            );
            if (!doc) return mine;
            expect(doc.worker).toBe(worker);
            mine.push(doc.seq as number);
          }
        }),
      );
      const all = claimed.flat();
      expect(all).toHaveLength(total);
      expect(new Set(all).size).toBe(total);
      expect(claimed.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
      expect(await coll.countDocuments({ state: 'processing' })).toBe(total);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
