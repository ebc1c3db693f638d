import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Decimal128, Double, Long, MongoClient, type Collection, type Document, type IndexDescription, type ObjectId, type Sort } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { startWireServer } from '../src/index.ts';
import { useWireServer } from './harness.ts';

const h = useWireServer();

/** Documents with `_id`s of any type (these tests number them). */
type Row = { _id: number | ObjectId; [field: string]: unknown };

interface Explained {
  plan: string;
  keys: number;
  docs: number;
  returned: number;
}

/** The access path of a find (index name, or the stage) and what it examined. */
async function explain(coll: Collection<Row>, filter: Document, options: Document = {}): Promise<Explained> {
  const out = await coll.find(filter, options).explain('executionStats');
  const plan = out.queryPlanner.winningPlan as Document;
  const stats = out.executionStats as Document;
  return { plan: (plan.inputStage?.indexName as string) ?? plan.stage, keys: stats.totalKeysExamined, docs: stats.totalDocsExamined, returned: stats.nReturned };
}

/** 1,000 jobs over 100 bots, three states each, in a fresh collection with Parley's index. */
async function jobs(): Promise<Collection<Row>> {
  const coll = h.db().collection<Row>('media_jobs');
  await coll.insertMany(Array.from({ length: 1000 }, (_, i) => ({ _id: i, botId: `b${i % 100}`, statePath: ['pending', 'held', 'failed'][i % 3], i })));
  await coll.createIndex({ botId: 1, statePath: 1 });
  return coll;
}

const ids = (docs: Document[]): unknown[] => docs.map((d) => d._id);

describe('index lookups', () => {
  it('takes candidates from the lookup of an index, examining only those documents', async () => {
    const coll = await jobs();
    const filter = { botId: 'b7', statePath: { $in: ['pending', 'held'] } };
    expect(await explain(coll, filter)).toEqual({ plan: 'botId_1_statePath_1', keys: 10, docs: 10, returned: 7 });
    expect(ids(await coll.find(filter).toArray())).toEqual([7, 207, 307, 507, 607, 807, 907]);
    expect(await explain(coll, { $and: [{ i: { $gte: 0 } }, { botId: { $in: ['b1', 'b2', 'b404'] } }] })).toMatchObject({ plan: 'botId_1_statePath_1', docs: 20, returned: 20 });
    expect(await explain(coll, { botId: { $eq: 'nobody' } })).toMatchObject({ plan: 'botId_1_statePath_1', docs: 0 });
    // Nothing narrows these: a field no index leads with, a regex, an $or, a range.
    for (const f of [{ statePath: 'held' }, { botId: /^b7$/ }, { $or: [{ botId: 'b7' }] }, { botId: { $gte: 'b7' } }]) {
      expect(await explain(coll, f)).toMatchObject({ plan: 'COLLSCAN', keys: 0, docs: 1000 });
    }
    expect(await explain(coll, { _id: { $in: [3, 4] }, botId: 'b3' })).toMatchObject({ plan: '_id_', docs: 2, returned: 1 });
    const count = await coll.db.command({ explain: { count: 'media_jobs', query: { botId: 'b9' } }, verbosity: 'executionStats' });
    expect(count.executionStats).toMatchObject({ totalDocsExamined: 10, nReturned: 10 });
    await coll.dropIndex('botId_1_statePath_1');
    expect(await explain(coll, filter)).toMatchObject({ plan: 'COLLSCAN', docs: 1000 });
  });

  it('returns candidates in natural order however documents moved between keys, sorted or not', async () => {
    const coll = await jobs();
    await coll.updateMany({ botId: 'b1' }, { $set: { botId: 'b2' } });
    await coll.replaceOne({ _id: 2 }, { botId: 'b1', statePath: 'held', i: -2 });
    await coll.findOneAndUpdate({ botId: 'b2' }, { $set: { botId: 'b3' } }, { sort: { i: -1 } });
    await coll.updateOne({ botId: 'b1', statePath: 'late' }, { $set: { i: 1000 } }, { upsert: true });
    await coll.deleteMany({ botId: 'b2', i: { $gt: 500 } });
    await coll.findOneAndDelete({ botId: 'b3' }, { sort: { i: 1 } });
    await coll.insertOne({ _id: 3, botId: 'b2', i: 3 });
    const reference = async (f: Document, o: Document = {}) => ids(await coll.find({ $or: [f] }, o).toArray());
    for (const [f, o] of [[{ botId: 'b2' }, {}], [{ botId: 'b1' }, {}], [{ botId: { $in: ['b1', 'b3'] } }, { sort: { statePath: 1 }, skip: 1, limit: 5 }]] as const) {
      const got = ids(await coll.find(f, o).toArray());
      expect(got).toEqual(await reference(f, o));
      expect(got.length).toBeGreaterThan(0);
      expect((await explain(coll, f, o)).plan).toBe('botId_1_statePath_1');
    }
    // 1 and 101 joined b2's key after 102 and 202 had it; 3 was inserted last.
    expect(ids(await coll.find({ botId: 'b2' }).toArray())).toEqual([1, 101, 102, 201, 202, 301, 302, 401, 402, 3]);
    expect(await coll.countDocuments({ botId: 'b2' })).toBe((await reference({ botId: 'b2' })).length);
    expect(await coll.distinct('i', { botId: 'b1' })).toEqual([-2, 1000]);
  });

  it('finds equal values across number types, arrays by element and whole, and null as missing', async () => {
    const coll = h.db().collection<Row>('values');
    const docs = [
      { _id: 1, a: 1 }, { _id: 2, a: new Double(1) }, { _id: 3, a: Long.fromNumber(1) }, { _id: 4, a: Decimal128.fromString('1.0') },
      { _id: 5, a: [2, 1] }, { _id: 6, a: [[1]] }, { _id: 7 }, { _id: 8, a: null }, { _id: 9, a: [null] }, { _id: 10, a: { x: 1 } },
      { _id: 11, a: [{ x: 1 }, { x: [2, null] }] }, { _id: 12, a: -0 }, { _id: 13, a: 0 }, { _id: 14, a: [] }, { _id: 15, a: '1' },
    ];
    await coll.insertMany(docs);
    await coll.createIndexes([{ key: { a: 1 } }, { key: { 'a.x': 1 }, sparse: true }]);
    for (let i = 16; i < 60; i++) await coll.insertOne({ _id: i, a: `pad${i}` });
    const cases: [Document, unknown[]][] = [
      [{ a: 1 }, [1, 2, 3, 4, 5]],
      [{ a: Long.fromNumber(1) }, [1, 2, 3, 4, 5]],
      [{ a: [1] }, [6]],
      [{ a: [2, 1] }, [5]],
      [{ a: null }, [7, 8, 9]],
      [{ a: { $in: [null, 0] } }, [7, 8, 9, 12, 13]],
      [{ a: { x: 1 } }, [10, 11]],
      [{ 'a.x': 1 }, [10, 11]],
      [{ 'a.x': null }, Array.from({ length: 59 }, (_, i) => i + 1).filter((i) => i !== 10)],
      [{ 'a.x': { $in: [2] } }, [11]],
    ];
    for (const [filter, expected] of cases) {
      expect(ids(await coll.find(filter).toArray()), JSON.stringify(filter)).toEqual(expected);
      const { plan, docs: examined, keys } = await explain(coll, filter);
      expect(plan === 'COLLSCAN' || examined === keys, JSON.stringify(filter)).toBe(true);
    }
    expect((await explain(coll, { a: 1 })).plan).toBe('a_1');
    expect((await explain(coll, { 'a.x': 1 })).plan).toBe('a.x_1');
  });

  it('rebuilds lookups when a data directory is loaded, from the snapshot or from the journal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wire-lookups-'));
    const image = mkdtempSync(path.join(tmpdir(), 'wire-lookups-crash-'));
    try {
      const server = await startWireServer({ dataDir: dir });
      const client = await new MongoClient(server.uri).connect();
      const coll = client.db('p').collection<Row>('jobs');
      await coll.createIndex({ botId: 1 });
      await coll.insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i, botId: `b${i % 30}` })));
      await coll.updateMany({ botId: 'b1' }, { $set: { botId: 'b2' } });
      await coll.deleteMany({ _id: { $in: [2, 32] } });
      await client.db('p').renameCollection('jobs', 'moved');
      for (const file of ['snapshot', 'journal']) if (existsSync(path.join(dir, file))) copyFileSync(path.join(dir, file), path.join(image, file));
      await client.close();
      await server.close();
      for (const from of [dir, image]) {
        const again = await startWireServer({ dataDir: from });
        const c = await new MongoClient(again.uri).connect();
        const moved = c.db('p').collection<Row>('moved');
        const expected = Array.from({ length: 300 }, (_, i) => i).filter((i) => (i % 30 === 1 || i % 30 === 2) && i !== 2 && i !== 32);
        expect(ids(await moved.find({ botId: 'b2' }).toArray())).toEqual(expected);
        expect(await explain(moved, { botId: 'b2' })).toMatchObject({ plan: 'botId_1', docs: 18 });
        await c.close();
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(image, { recursive: true, force: true });
    }
  });
});

// Few distinct values of every type, so filters hit, numbers of different types meet, and keys collide.
const scalar = fc.oneof(
  fc.integer({ min: -1, max: 3 }),
  fc.constantFrom(1.5, -0, 2.5),
  fc.integer({ min: 0, max: 3 }).map((n) => new Double(n)),
  fc.integer({ min: 0, max: 3 }).map((n) => Long.fromNumber(n)),
  fc.constantFrom('1', '2.0').map((s) => Decimal128.fromString(s)),
  fc.constantFrom('a', 'b', 'c'),
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(0, 1).map((t) => new Date(t)),
);
const xValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }));
const value: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: scalar, weight: 6 },
  { arbitrary: fc.array(scalar, { maxLength: 3 }), weight: 2 },
  { arbitrary: fc.array(fc.array(scalar, { maxLength: 2 }), { maxLength: 2 }), weight: 1 },
  { arbitrary: fc.record({ x: scalar }, { requiredKeys: [] }), weight: 1 },
  { arbitrary: fc.array(fc.record({ x: xValue, y: scalar }, { requiredKeys: [] }), { maxLength: 2 }), weight: 1 },
);
const body = fc.record({ a: value, b: value, c: value }, { requiredKeys: [] });
const field = fc.constantFrom('a', 'b', 'c', 'c.x', 'd');
const condition = fc.oneof(
  { arbitrary: value, weight: 4 },
  { arbitrary: value.map(($eq) => ({ $eq })), weight: 2 },
  { arbitrary: fc.array(value, { maxLength: 3 }).map(($in) => ({ $in })), weight: 3 },
  { arbitrary: fc.tuple(fc.array(scalar, { maxLength: 3 }), scalar).map(([$in, $ne]) => ({ $in, $ne })), weight: 1 },
  { arbitrary: scalar.map(($gte) => ({ $gte })), weight: 1 },
  { arbitrary: fc.boolean().map(($exists) => ({ $exists })), weight: 1 },
);
const clause = fc.array(fc.tuple(field, condition), { minLength: 1, maxLength: 2 }).map((entries) => Object.fromEntries(entries) as Document);
const filter = fc.oneof(
  { arbitrary: clause, weight: 5 },
  { arbitrary: fc.tuple(clause, clause).map(([x, y]) => ({ $and: [x, { $and: [y] }] })), weight: 2 },
  { arbitrary: fc.tuple(clause, clause).map(([x, y]) => ({ $or: [x, y] })), weight: 1 },
);
const query = fc.record({
  filter,
  sort: fc.constantFrom<Sort | undefined>(undefined, { a: 1 }, { b: -1, _id: 1 }, { 'c.x': 1 }),
  skip: fc.integer({ min: 0, max: 2 }),
  limit: fc.integer({ min: 0, max: 4 }),
});
const step = fc.oneof(
  { arbitrary: query.map((q) => ({ op: 'query' as const, ...q })), weight: 4 },
  { arbitrary: body.map((doc) => ({ op: 'insert' as const, doc })), weight: 1 },
  { arbitrary: fc.tuple(filter, fc.constantFrom('a', 'b', 'c', 'c.x'), value).map(([f, k, v]) => ({ op: 'updateMany' as const, f, u: { $set: { [k]: v } } })), weight: 2 },
  { arbitrary: fc.tuple(filter, body).map(([f, doc]) => ({ op: 'replaceOne' as const, f, doc })), weight: 1 },
  { arbitrary: fc.tuple(filter, body).map(([f, doc]) => ({ op: 'upsert' as const, f, doc })), weight: 1 },
  { arbitrary: fc.tuple(query, value).map(([q, v]) => ({ op: 'findOneAndUpdate' as const, q, v })), weight: 1 },
  { arbitrary: fc.tuple(filter, fc.boolean()).map(([f, many]) => ({ op: 'delete' as const, f, many })), weight: 1 },
);
type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

/** Runs one step on a collection; its outcome (result or error code) is what both collections must agree on. */
async function run(coll: Collection<Row>, s: Step, nextId: number): Promise<unknown> {
  try {
    switch (s.op) {
      case 'query': {
        const o = { sort: s.sort, skip: s.skip, limit: s.limit };
        return [await coll.find(s.filter, o).toArray(), await coll.countDocuments(s.filter), await coll.distinct('a', s.filter)];
      }
      case 'insert':
        return await coll.insertOne({ _id: nextId, ...s.doc });
      case 'updateMany':
        return await coll.updateMany(s.f, s.u);
      case 'replaceOne':
        return await coll.replaceOne(s.f, s.doc);
      case 'upsert':
        return await coll.updateOne(s.f, { $set: s.doc, $setOnInsert: { _id: nextId } }, { upsert: true });
      case 'findOneAndUpdate':
        return await coll.findOneAndUpdate(s.q.filter, { $set: { b: s.v } }, { sort: s.q.sort, returnDocument: 'after' });
      case 'delete':
        return s.many ? await coll.deleteMany(s.f) : await coll.deleteOne(s.f);
    }
  } catch (err) {
    return { code: (err as { code?: unknown }).code };
  }
}

describe('index lookups against scans', () => {
  it('answer every filter exactly as a collection without indexes does, through random writes', async () => {
    const usage = { indexed: 0, queries: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 4, maxLength: 30 }), fc.array(step, { minLength: 1, maxLength: 12 }), async (docs, steps) => {
        const db = h.db();
        const plain = db.collection<Row>('plain');
        const indexed = db.collection<Row>('indexed');
        const seeded: Row[] = docs.map((d, i) => ({ _id: i, ...d }));
        await plain.insertMany(seeded.map((d) => ({ ...d })));
        // Half the runs build the indexes over existing documents, half before the inserts.
        const indexes: IndexDescription[] = [{ key: { a: 1 } }, { key: { b: 1, a: 1 }, partialFilterExpression: { a: { $exists: true } } }, { key: { 'c.x': 1 }, sparse: true }, { key: { c: 1 } }];
        if (docs.length % 2) await indexed.createIndexes(indexes);
        await indexed.insertMany(seeded.map((d) => ({ ...d })));
        if (!(docs.length % 2)) await indexed.createIndexes(indexes);
        let nextId = docs.length;
        for (const s of steps) {
          expect(await run(indexed, s, nextId)).toEqual(await run(plain, s, nextId));
          nextId++;
          if (s.op === 'query') {
            const e = await explain(indexed, s.filter);
            usage.queries++;
            if (e.plan !== 'COLLSCAN') {
              usage.indexed++;
              expect(e.docs).toBe(e.keys);
            }
          }
        }
        expect(await indexed.find({}).toArray()).toEqual(await plain.find({}).toArray());
        await db.dropDatabase();
      }),
      { numRuns: 150 },
    );
    // The comparison is only worth something if lookups served a fair share of the queries.
    expect(usage.indexed).toBeGreaterThan(usage.queries / 5);
  }, 120_000);
});
