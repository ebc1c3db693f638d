import { describe, expect, it } from 'vitest';
import type { Doc } from '../src/bson-values.ts';
import { applyUpdate } from '../src/update/apply.ts';
import { parseUpdate } from '../src/update/parse.ts';
import { compileArrayFilters } from '../src/update/positional.ts';
import { useWireServer } from './harness.ts';

const apply = (doc: Doc, update: unknown, arrayFilters?: unknown[]): Doc =>
  applyUpdate(doc, parseUpdate(update), { filter: {}, arrayFilters: compileArrayFilters(arrayFilters), isInsert: false });

const deepFrozen = <T>(v: T): T => {
  if (typeof v === 'object' && v !== null) {
    Object.values(v).forEach(deepFrozen);
    Object.freeze(v);
  }
  return v;
};

describe('updates share untouched subtrees with the stored document', () => {
  it('leaves a frozen original intact under every kind of operator', () => {
    const original = deepFrozen({ _id: 1, a: { b: { c: 1, d: [1, 2, { e: 3 }] }, f: 'x' }, g: [{ h: 1 }, { h: 2 }], n: 5, keep: { deep: { x: 1 } } });
    const snapshot = structuredClone(original);
    const updates: [unknown, unknown[]?][] = [
      [{ $set: { 'a.b.c': 2, 'a.b.d.2.e': 4 } }],
      [{ $unset: { 'a.f': '' }, $inc: { n: 1 } }],
      [{ $push: { 'a.b.d': 9 }, $pull: { g: { h: 1 } } }],
      [{ $rename: { 'a.b.c': 'z.y' } }],
      [{ $set: { 'g.$[].h': 0 } }],
      [{ $set: { 'g.$[el].h': 7 } }, [{ 'el.h': 2 }]],
      [{ $pop: { 'a.b.d': 1 }, $addToSet: { 'q.r': 1 }, $mul: { n: 3 } }],
    ];
    for (const [update, filters] of updates) {
      const next = apply(original, update, filters);
      expect(next).not.toBe(original);
      expect(next['keep']).toBe(original.keep);
    }
    expect(original).toEqual(snapshot);
  });

  it('copies a shared $set argument before a later update writes inside it', () => {
    const once = apply({ _id: 1, arr: [0, 0] }, { $set: { 'arr.$[]': { v: 1 } } });
    const arr = once['arr'] as Doc[];
    expect(arr[0]).toBe(arr[1]);
    const twice = apply(once, { $set: { 'arr.0.v': 2 } });
    expect(twice['arr']).toEqual([{ v: 2 }, { v: 1 }]);
    expect(once['arr']).toEqual([{ v: 1 }, { v: 1 }]);
  });

  const h = useWireServer();

  it('keeps documents updated with one argument independent', async () => {
    const coll = h.db().collection<{ _id: number; obj?: { n: number } }>('shared');
    await coll.insertMany([{ _id: 1 }, { _id: 2 }]);
    await coll.updateMany({}, { $set: { obj: { n: 1 } } });
    await coll.updateOne({ _id: 1 }, { $inc: { 'obj.n': 5 } });
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, obj: { n: 6 } }, { _id: 2, obj: { n: 1 } }]);
  });

  it('returns the document as it was before a nested findAndModify change', async () => {
    const coll = h.db().collection<{ _id: number; s: { w: number[] } }>('before');
    await coll.insertOne({ _id: 1, s: { w: [1, 2] } });
    const before = await coll.findOneAndUpdate({ _id: 1 }, { $push: { 's.w': 3 } }, { returnDocument: 'before' });
    expect(before).toEqual({ _id: 1, s: { w: [1, 2] } });
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, s: { w: [1, 2, 3] } });
  });
});
