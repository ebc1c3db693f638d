import { Long } from 'bson';
import { describe, expect, it } from 'vitest';
import { CursorRegistry } from '../src/cursors.ts';
import { useWireServer } from './harness.ts';

const h = useWireServer();

async function seeded(count: number) {
  const db = h.db();
  await db.collection('many').insertMany(Array.from({ length: count }, (_, i) => ({ _id: i as never, i })));
  return db;
}

describe('cursors', () => {
  it('returns 250 documents across a 101-document first batch and getMore batches', async () => {
    const db = await seeded(250);
    const first = await db.command({ find: 'many', filter: {}, sort: { i: 1 } });
    expect(first.cursor.firstBatch).toHaveLength(101);
    expect(first.cursor.ns).toBe(`${db.databaseName}.many`);
    expect(first.cursor.id).not.toBe(0);
    const second = await db.command({ getMore: first.cursor.id, collection: 'many', batchSize: 100 });
    expect(second.cursor.nextBatch).toHaveLength(100);
    expect(second.cursor.nextBatch[0].i).toBe(101);
    const third = await db.command({ getMore: second.cursor.id, collection: 'many' });
    expect(third.cursor.nextBatch).toHaveLength(49);
    expect(Number(third.cursor.id)).toBe(0);
    const all = await db.collection('many').find().toArray();
    expect(all.map((d) => d.i)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('honours batchSize on find, including an empty first batch for batchSize 0', async () => {
    const db = await seeded(10);
    const small = await db.command({ find: 'many', batchSize: 3 });
    expect(small.cursor.firstBatch).toHaveLength(3);
    const empty = await db.command({ find: 'many', batchSize: 0 });
    expect(empty.cursor.firstBatch).toHaveLength(0);
    const rest = await db.command({ getMore: empty.cursor.id, collection: 'many' });
    expect(rest.cursor.nextBatch).toHaveLength(10);
  });

  it('closes the cursor after the first batch for singleBatch and negative limits', async () => {
    const db = await seeded(20);
    const single = await db.command({ find: 'many', batchSize: 5, singleBatch: true });
    expect(single.cursor.firstBatch).toHaveLength(5);
    expect(Number(single.cursor.id)).toBe(0);
    const negative = await db.command({ find: 'many', limit: -7 });
    expect(negative.cursor.firstBatch).toHaveLength(7);
    expect(Number(negative.cursor.id)).toBe(0);
  });

  it('limits the total across batches', async () => {
    const db = await seeded(50);
    expect(await db.collection('many').find({}, { limit: 30, batchSize: 7 }).toArray()).toHaveLength(30);
  });

  it('kills cursors and reports unknown ids separately', async () => {
    const db = await seeded(150);
    const open = await db.command({ find: 'many' });
    const openCursors = h.server.stats().openCursors;
    expect(openCursors).toBeGreaterThanOrEqual(1);
    const killed = await db.command({ killCursors: 'many', cursors: [open.cursor.id, Long.fromNumber(12345)] });
    expect(killed.cursorsKilled.map(Number)).toEqual([Number(open.cursor.id)]);
    expect(killed.cursorsNotFound.map(Number)).toEqual([12345]);
    expect(killed.cursorsAlive).toEqual([]);
    expect(killed.cursorsUnknown).toEqual([]);
    expect(h.server.stats().openCursors).toBe(openCursors - 1);
    await expect(db.command({ getMore: open.cursor.id, collection: 'many' })).rejects.toMatchObject({ code: 43, codeName: 'CursorNotFound' });
  });

  it('answers getMore on an unknown cursor with code 43 CursorNotFound', async () => {
    const db = await seeded(1);
    await expect(db.command({ getMore: Long.fromNumber(424242), collection: 'many' })).rejects.toMatchObject({ code: 43, codeName: 'CursorNotFound' });
  });

  it('refuses a getMore naming another collection than the cursor', async () => {
    const db = await seeded(150);
    const open = await db.command({ find: 'many' });
    await expect(db.command({ getMore: open.cursor.id, collection: 'other' })).rejects.toMatchObject({ code: 13 });
    await db.command({ killCursors: 'many', cursors: [open.cursor.id] });
  });

  it('lets the driver close an abandoned cursor early', async () => {
    const db = await seeded(300);
    const before = h.server.stats().openCursors;
    const cursor = db.collection('many').find();
    await cursor.next();
    expect(h.server.stats().openCursors).toBe(before + 1);
    await cursor.close();
    expect(h.server.stats().openCursors).toBe(before);
  });
});

describe('cursor registry', () => {
  it('accepts cursor ids as Long, bigint or number', () => {
    const reg = new CursorRegistry();
    try {
      const docs = Array.from({ length: 10 }, (_, i) => ({ i }));
      const a = reg.open('d.c', docs, undefined, 2);
      expect(reg.more(a.id, 'd.c', 2).docs).toEqual([{ i: 2 }, { i: 3 }]);
      expect(reg.more(BigInt(a.id.toString()), 'd.c', 2).docs).toEqual([{ i: 4 }, { i: 5 }]);
      const last = reg.more(a.id.toNumber(), 'd.c', 0);
      expect(last.docs).toHaveLength(4);
      expect(last.id.isZero()).toBe(true);
      expect(reg.size).toBe(0);
    } finally {
      reg.close();
    }
  });

  it('reaps cursors idle longer than the timeout', () => {
    const reg = new CursorRegistry(1000);
    try {
      reg.open('d.c', [{ a: 1 }, { a: 2 }], undefined, 1);
      expect(reg.size).toBe(1);
      expect(reg.reap(Date.now() + 500)).toBe(0);
      expect(reg.reap(Date.now() + 1500)).toBe(1);
      expect(reg.size).toBe(0);
    } finally {
      reg.close();
    }
  });

  it('caps a batch at 16 MiB but always returns at least one document', () => {
    const reg = new CursorRegistry();
    try {
      const big = 'x'.repeat(6 * 1024 * 1024);
      const batch = reg.open('d.c', [{ big }, { big }, { big }, { big }], undefined, 101);
      expect(batch.docs).toHaveLength(2);
      expect(reg.more(batch.id, 'd.c', 0).docs).toHaveLength(2);
    } finally {
      reg.close();
    }
  });
});
