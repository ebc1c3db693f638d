import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { botsToHandOver, botsToTake, placeBots } from '../../../src/domain/bot-placement.ts';
import type { PlacementInput, PlacementLease } from '../../../src/domain/bot-placement.ts';

const uncapped = (...ids: string[]) => ids.map((id) => ({ id, capacity: null }));
const countBy = (placement: Map<string, string>): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const owner of placement.values()) counts[owner] = (counts[owner] ?? 0) + 1;
  return counts;
};

describe('placeBots', () => {
  it('spreads free bots over live instances, least loaded first, ties by instance id', () => {
    const placement = placeBots({ bots: ['b3', 'b1', 'b2'], instances: uncapped('i2', 'i1'), leases: [] });
    expect([...placement].sort()).toEqual([['b1', 'i1'], ['b2', 'i2'], ['b3', 'i1']]);
  });

  it('keeps a bot on the live instance that holds it live, even when another is emptier', () => {
    const leases: PlacementLease[] = [{ botId: 'b1', owner: 'i2', live: true }, { botId: 'b2', owner: 'i2', live: true }];
    const placement = placeBots({ bots: ['b1', 'b2', 'b3'], instances: uncapped('i1', 'i2'), leases });
    expect(Object.fromEntries(placement)).toEqual({ b1: 'i2', b2: 'i2', b3: 'i1' });
  });

  it('moves a bot whose lease lapsed or whose owner is gone', () => {
    const leases: PlacementLease[] = [{ botId: 'b1', owner: 'i2', live: false }, { botId: 'b2', owner: 'gone', live: true }];
    const placement = placeBots({ bots: ['b1', 'b2'], instances: uncapped('i1', 'i2'), leases });
    expect(Object.fromEntries(placement)).toEqual({ b1: 'i1', b2: 'i2' });
  });

  it('never fills an instance beyond its capacity: bots nobody has room for stay unassigned', () => {
    const placement = placeBots({ bots: ['b1', 'b2', 'b3', 'b4'], instances: [{ id: 'i1', capacity: 1 }, { id: 'i2', capacity: 2 }], leases: [] });
    expect(Object.fromEntries(placement)).toEqual({ b1: 'i1', b2: 'i2', b3: 'i2' });
  });

  it('sheds the bots beyond a shrunken capacity, keeping the first by id', () => {
    const leases: PlacementLease[] = ['b1', 'b2', 'b3'].map((botId) => ({ botId, owner: 'i1', live: true }));
    const placement = placeBots({ bots: ['b1', 'b2', 'b3'], instances: [{ id: 'i1', capacity: 2 }, { id: 'i2', capacity: null }], leases });
    expect(Object.fromEntries(placement)).toEqual({ b1: 'i1', b2: 'i1', b3: 'i2' });
  });

  it('ignores leases of bots that no longer exist', () => {
    const placement = placeBots({ bots: ['b1'], instances: uncapped('i1'), leases: [{ botId: 'deleted', owner: 'i1', live: true }] });
    expect(Object.fromEntries(placement)).toEqual({ b1: 'i1' });
  });

  it('places nothing without live instances', () => {
    expect(placeBots({ bots: ['b1'], instances: [], leases: [] }).size).toBe(0);
  });
});

describe('botsToTake', () => {
  it('lists the bots placed on this instance that it does not hold yet, by id', () => {
    const placement = new Map([['b2', 'i1'], ['b1', 'i1'], ['b3', 'i2'], ['b4', 'i1']]);
    expect(botsToTake('i1', placement, new Set(['b4', 'b3']))).toEqual(['b1', 'b2']);
  });
});

describe('placeBots properties', () => {
  const ids = (prefix: string, max: number) => fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { maxLength: max }).map((ns) => ns.map((n) => `${prefix}${n}`));
  const capacity = fc.option(fc.integer({ min: 0, max: 6 }), { nil: null });
  // Leases may name instances that are gone (`i99`) and bots that were deleted.
  const inputs: fc.Arbitrary<PlacementInput> = fc
    .record({ botIds: ids('b', 20), instanceIds: ids('i', 5), caps: fc.array(capacity, { minLength: 5, maxLength: 5 }), picks: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { maxLength: 25 }) })
    .map(({ botIds, instanceIds, caps, picks }) => {
      const owners = [...instanceIds, 'i99'];
      const leased = new Map<string, PlacementLease>();
      for (const [bot, owner, live] of picks) {
        const botId = botIds.length === 0 ? 'deleted' : (botIds[bot % botIds.length] ?? 'deleted');
        leased.set(botId, { botId, owner: owners[owner % owners.length] ?? 'i99', live });
      }
      return { bots: botIds, instances: instanceIds.map((id, n) => ({ id, capacity: caps[n] ?? null })), leases: [...leased.values()] };
    });

  it('never exceeds a capacity and assigns only existing bots to live instances', () => {
    fc.assert(fc.property(inputs, (input) => {
      const placement = placeBots(input);
      const live = new Map(input.instances.map((i) => [i.id, i]));
      for (const [bot, owner] of placement) {
        expect(input.bots).toContain(bot);
        expect(live.has(owner)).toBe(true);
      }
      for (const [owner, n] of Object.entries(countBy(placement))) {
        const cap = live.get(owner)?.capacity ?? null;
        if (cap !== null) expect(n).toBeLessThanOrEqual(cap);
      }
    }));
  });

  it('assigns every bot when the live instances have room for all of them', () => {
    fc.assert(fc.property(inputs, (input) => {
      const caps = input.instances.map((i) => i.capacity);
      const room = caps.includes(null) ? Infinity : caps.reduce<number>((sum, c) => sum + (c ?? 0), 0);
      fc.pre(input.instances.length > 0 && room >= input.bots.length);
      expect(placeBots(input).size).toBe(input.bots.length);
    }));
  });

  it('keeps every live lease on a live instance that holds no more than its room and its fair share', () => {
    fc.assert(fc.property(inputs, (input) => {
      const placement = placeBots(input);
      const live = new Map(input.instances.map((i) => [i.id, i]));
      const bots = new Set(input.bots);
      const share = Math.ceil(bots.size / Math.max(1, live.size));
      const kept = [...new Map(input.leases.filter((l) => l.live && live.has(l.owner) && bots.has(l.botId)).map((l) => [l.botId, l])).values()];
      for (const lease of kept) {
        const cap = live.get(lease.owner)?.capacity ?? null;
        const holding = kept.filter((l) => l.owner === lease.owner).length;
        if ((cap === null || holding <= cap) && holding <= share) expect(placement.get(lease.botId)).toBe(lease.owner);
      }
    }));
  });

  it('moves bots off an instance holding more than its share, so a joining instance gets its part', () => {
    const leases: PlacementLease[] = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((botId) => ({ botId, owner: 'i1', live: true }));
    const placement = placeBots({ bots: leases.map((l) => l.botId), instances: uncapped('i1', 'i2', 'i3'), leases });
    expect(countBy(placement)).toEqual({ i1: 2, i2: 2, i3: 2 });
    expect(botsToHandOver('i1', placement, new Set(leases.map((l) => l.botId)))).toEqual(['b3', 'b4', 'b5', 'b6']);
    expect(botsToTake('i2', placement, new Set())).toHaveLength(2);
  });

  it('never places more than its fair share (bots over instances, rounded up) on an uncapped instance, whatever is leased', () => {
    fc.assert(fc.property(inputs, (input) => {
      const uncappedInput = { ...input, instances: input.instances.map((i) => ({ ...i, capacity: null })) };
      const counts = countBy(placeBots(uncappedInput));
      const share = Math.ceil(new Set(input.bots).size / Math.max(1, new Set(input.instances.map((i) => i.id)).size));
      for (const n of Object.values(counts)) expect(n).toBeLessThanOrEqual(share);
    }));
  });

  it('balances uncapped instances within one bot when nothing is leased yet', () => {
    fc.assert(fc.property(inputs, (input) => {
      const placement = placeBots({ ...input, leases: [] });
      const counts = countBy(placement);
      const loads = input.instances.filter((i) => i.capacity === null).map((i) => counts[i.id] ?? 0);
      if (loads.length > 0) expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
    }));
  });

  it('gives the same answer whatever the order of its input, so every instance agrees', () => {
    fc.assert(fc.property(inputs, (input) => {
      const reversed = { bots: [...input.bots].reverse(), instances: [...input.instances].reverse(), leases: [...input.leases].reverse() };
      expect([...placeBots(reversed)]).toEqual([...placeBots(input)]);
    }));
  });
});
