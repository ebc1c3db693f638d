import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useWireServer } from './harness.ts';

const h = useWireServer();

describe('BSON type fidelity', () => {
  it('round-trips ObjectId, Date, Binary, Long, Decimal128, Timestamp, UUID, regex and nested arrays', async () => {
    const coll = h.db().collection('types');
    const original = {
      _id: new ObjectId(),
      date: new Date('2024-05-06T07:08:09.123Z'),
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 0),
      uuid: new UUID('0e8d7c3e-4c1f-4b8a-9f0e-0123456789ab'),
      bigLong: Long.fromString('9007199254740993'),
      dec: Decimal128.fromString('1234.5678901234567890'),
      ts: new Timestamp({ t: 1700000000, i: 7 }),
      re: /ab+c/i,
      nested: [[1, [2, [3, { deep: ['x', null, true] }]]], [], [{ a: [new Date(0)] }]],
      empty: {},
      nil: null,
      str: 'héllo ✓',
      neg: -0.5,
      min: new MinKey(),
      max: new MaxKey(),
    };
    await coll.insertOne(original);
    const back = await coll.findOne({ _id: original._id });
    expect(back).toEqual(original);
    expect(back?.bigLong).toBeInstanceOf(Long);
    expect(back?.dec).toBeInstanceOf(Decimal128);
  });

  it('keeps int64 values as Long when the client asks for unpromoted values', async () => {
    const coll = h.db().collection('longs');
    await coll.insertOne({ _id: 1 as never, small: Long.fromNumber(42), int: new Int32(7), dbl: new Double(2.5) });
    const raw = await coll.findOne({ _id: 1 as never }, { promoteLongs: false, promoteValues: false });
    expect(raw?.small).toBeInstanceOf(Long);
    expect((raw?.small as Long).toNumber()).toBe(42);
    expect(raw?.int).toBeInstanceOf(Int32);
    expect(raw?.dbl).toBeInstanceOf(Double);
    const promoted = await coll.findOne({ _id: 1 as never });
    expect(promoted).toEqual({ _id: 1, small: 42, int: 7, dbl: 2.5 });
  });

  it('keeps field order of stored documents', async () => {
    const coll = h.db().collection('order');
    await coll.insertOne({ _id: 1 as never, z: 1, a: 2, m: { y: 1, b: 2 } });
    const back = await coll.findOne({});
    expect(Object.keys(back ?? {})).toEqual(['_id', 'z', 'a', 'm']);
    expect(Object.keys(back?.m ?? {})).toEqual(['y', 'b']);
  });

  it('matches Binary and Decimal128 values by content', async () => {
    const coll = h.db().collection('bin');
    await coll.insertMany([{ b: new Binary(Buffer.from('abc')), d: Decimal128.fromString('1.5') }, { b: new Binary(Buffer.from('abd')), d: Decimal128.fromString('2') }]);
    expect(await coll.countDocuments({ b: new Binary(Buffer.from('abc')) })).toBe(1);
    expect(await coll.countDocuments({ d: { $gt: 1.6 } })).toBe(1);
    expect(await coll.countDocuments({ d: 2 })).toBe(1);
  });
});
