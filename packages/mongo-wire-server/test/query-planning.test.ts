import { ObjectId } from 'bson';
import { describe, expect, it, vi } from 'vitest';
import { Collection } from '../src/collection.ts';
import { selectDocs } from '../src/query.ts';
import { compileSort } from '../src/sort.ts';

function filled(count: number): { coll: Collection; ids: ObjectId[] } {
  const coll = new Collection('db', 'c');
  const ids: ObjectId[] = [];
  for (let i = 0; i < count; i++) {
    const _id = new ObjectId();
    ids.push(_id);
    coll.insert({ _id, i, state: i % 2 ? 'pending' : 'done', createdAt: new Date(1_700_000_000_000 + ((i * 7919) % count)) });
  }
  return { coll, ids };
}

describe('document selection', () => {
  it('answers _id equality and $in from the _id map without scanning the collection', () => {
    const { coll, ids } = filled(1000);
    const scan = vi.spyOn(coll, 'values');
    expect(selectDocs(coll, { _id: new ObjectId(ids[500]!.toHexString()) }).map((d) => d.i)).toEqual([500]);
    expect(selectDocs(coll, { _id: { $in: [ids[3], ids[1], new ObjectId()] } }).map((d) => d.i)).toEqual([1, 3]);
    expect(selectDocs(coll, { _id: ids[7], state: 'done' })).toEqual([]);
    expect(scan).not.toHaveBeenCalled();
    selectDocs(coll, { i: 5 });
    expect(scan).toHaveBeenCalledTimes(1);
  });

  it('picks the first document in sort order in one pass for limit 1', () => {
    const { coll } = filled(10_000);
    const sorter = compileSort({ createdAt: 1 })!;
    const sortSpy = vi.spyOn(sorter, 'sort');
    const [oldest] = selectDocs(coll, { state: 'pending' }, { sort: sorter, limit: 1 });
    const expected = [...coll.values()].filter((d) => d.state === 'pending').sort((a, b) => (a.createdAt as Date).getTime() - (b.createdAt as Date).getTime())[0];
    expect(oldest).toBe(expected);
    expect(sortSpy).not.toHaveBeenCalled();
  });

  it('selects a sorted page with a bounded buffer that agrees with a full stable sort', () => {
    const { coll } = filled(2000);
    const sorter = compileSort({ state: -1, createdAt: 1 })!;
    const full = sorter.sort([...coll.values()].filter((d) => d.i !== 3));
    const page = selectDocs(coll, { i: { $ne: 3 } }, { sort: sorter, skip: 15, limit: 40 });
    expect(page).toEqual(full.slice(15, 55));
    const ties = compileSort({ state: 1 })!;
    expect(selectDocs(coll, {}, { sort: ties, limit: 5 }).map((d) => d.i)).toEqual([0, 2, 4, 6, 8]);
  });

  it('stops scanning once skip + limit documents matched when unsorted', () => {
    const { coll } = filled(100);
    expect(selectDocs(coll, { state: 'pending' }, { skip: 2, limit: 3 }).map((d) => d.i)).toEqual([5, 7, 9]);
  });
});
