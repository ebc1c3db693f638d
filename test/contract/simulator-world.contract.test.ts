import { beforeEach, describe, expect, it } from 'vitest';
import { createMemorySimulatorWorld } from '../../src/adapters/simulator/memory-simulator-world.ts';
import type { SimulatorOutboundCaps, SimulatorSent, SimulatorWorld } from '../../src/ports/simulator-world.port.ts';
import { useTestStore } from '../support/test-store.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const ROOMY: SimulatorOutboundCaps = { maxMessages: 500, maxChars: 1_000_000 };

let bots = 0;
/** A bot id of this test alone: the store's backend is shared by every test of the file. */
const freshBot = (): string => `sim-${++bots}`;

const sent = (botId: string, n: number, text = `m${n}`): SimulatorSent => ({ botId, to: '15550001111', text, providerMessageId: `SIM-OUT-${botId}-${n}`, sentAt: T0.getTime() + n });
const start = (botId: string, sessionId: string, ms: number, instanceId = 'i1') => ({ sessionId, botId, instanceId, startedAt: at(ms) });

/** Shuffles deterministically, so concurrent writes arrive in an order unlike their times. */
const shuffled = <T>(items: readonly T[]): T[] => items.map((item, i) => ({ item, key: (i * 7919) % 101 })).sort((a, b) => a.key - b.key).map((e) => e.item);

/** The simulator's shared fake WhatsApp (sessions and sent messages), on every backend. */
describe('the simulator world', () => {
  const t = useTestStore('parley_simulator_world');
  const backends: readonly [string, () => SimulatorWorld][] = [
    ['in memory', () => createMemorySimulatorWorld()],
    ['in the store', () => t.store.simulator],
  ];

  describe.each(backends)('%s', (_name, open) => {
    let world: SimulatorWorld;
    beforeEach(() => {
      world = open();
    });

    describe('sessions', () => {
      it('records a session from start through connection to its end', async () => {
        const bot = freshBot();
        await world.sessionStarted(start(bot, `${bot}-a`, 0), 10);
        expect(await world.sessions(bot)).toEqual([{ sessionId: `${bot}-a`, botId: bot, instanceId: 'i1', startedAt: at(0), connectedAt: null, endedAt: null, endReason: null }]);
        await world.sessionConnected(`${bot}-a`, at(5));
        await world.sessionEnded(`${bot}-a`, at(9), 'stopped');
        expect(await world.sessions(bot)).toEqual([{ sessionId: `${bot}-a`, botId: bot, instanceId: 'i1', startedAt: at(0), connectedAt: at(5), endedAt: at(9), endReason: 'stopped' }]);
      });

      it('lists sessions newest last by start time, same-millisecond ones in the order recorded', async () => {
        const bot = freshBot();
        await world.sessionStarted(start(bot, 'late', 50), 10);
        await world.sessionStarted(start(bot, 'early', 10, 'i2'), 10);
        await world.sessionStarted(start(bot, 'late-too', 50), 10);
        expect((await world.sessions(bot)).map((s) => [s.sessionId, s.instanceId])).toEqual([['early', 'i2'], ['late', 'i1'], ['late-too', 'i1']]);
      });

      it('keeps the first end of a session', async () => {
        const bot = freshBot();
        await world.sessionStarted(start(bot, `${bot}-a`, 0), 10);
        await world.sessionEnded(`${bot}-a`, at(9), 'replaced');
        await world.sessionEnded(`${bot}-a`, at(20), 'stopped');
        expect(await world.sessions(bot)).toMatchObject([{ endedAt: at(9), endReason: 'replaced' }]);
      });

      it('records a start written twice (a retry after a lost reply) once, leaving what followed it', async () => {
        const bot = freshBot();
        await world.sessionStarted(start(bot, `${bot}-a`, 0), 10);
        await world.sessionConnected(`${bot}-a`, at(3));
        await world.sessionStarted(start(bot, `${bot}-a`, 0), 10);
        expect(await world.sessions(bot)).toMatchObject([{ sessionId: `${bot}-a`, connectedAt: at(3) }]);
      });

      it('ignores the connection and end of a session it never recorded', async () => {
        const bot = freshBot();
        await world.sessionConnected('never-started', at(1));
        await world.sessionEnded('never-started', at(2), 'stopped');
        expect(await world.sessions(bot)).toEqual([]);
      });

      it('keeps only the newest sessions of a bot, and leaves other bots alone', async () => {
        const [bot, other] = [freshBot(), freshBot()];
        await world.sessionStarted(start(other, `${other}-0`, 0), 3);
        for (let n = 1; n <= 5; n++) await world.sessionStarted(start(bot, `${bot}-${n}`, n), 3);
        expect((await world.sessions(bot)).map((s) => s.sessionId)).toEqual([`${bot}-3`, `${bot}-4`, `${bot}-5`]);
        expect(await world.sessions(other)).toHaveLength(1);
      });

      it('keeps the newest sessions of 20 started at once', async () => {
        const bot = freshBot();
        const starts = Array.from({ length: 20 }, (_, n) => start(bot, `${bot}-${String(n).padStart(2, '0')}`, n * 10));
        await Promise.all(shuffled(starts).map((s) => world.sessionStarted(s, 5)));
        expect((await world.sessions(bot)).map((s) => s.sessionId)).toEqual(starts.slice(-5).map((s) => s.sessionId));
      });
    });

    describe('sent messages', () => {
      it('lists what a bot sent, oldest first, and nothing of other bots', async () => {
        const [bot, other] = [freshBot(), freshBot()];
        await world.recordOutbound(sent(bot, 2), ROOMY);
        await world.recordOutbound(sent(bot, 1), ROOMY);
        await world.recordOutbound(sent(other, 3), ROOMY);
        expect(await world.outbound(bot)).toEqual([sent(bot, 1), sent(bot, 2)]);
      });

      it('records a message written twice (same provider id) once', async () => {
        const bot = freshBot();
        await world.recordOutbound(sent(bot, 1), ROOMY);
        await world.recordOutbound(sent(bot, 1), ROOMY);
        expect(await world.outbound(bot)).toEqual([sent(bot, 1)]);
      });

      it('keeps the newest messages within the count cap', async () => {
        const bot = freshBot();
        for (let n = 1; n <= 5; n++) await world.recordOutbound(sent(bot, n), { maxMessages: 3, maxChars: 1_000 });
        expect((await world.outbound(bot)).map((m) => m.text)).toEqual(['m3', 'm4', 'm5']);
      });

      it('keeps the newest messages within the character cap, and always the newest one', async () => {
        const bot = freshBot();
        const caps = { maxMessages: 100, maxChars: 10 };
        for (const [n, text] of [[1, 'aaaa'], [2, 'bbbb'], [3, 'cccc']] as const) await world.recordOutbound(sent(bot, n, text), caps);
        expect((await world.outbound(bot)).map((m) => m.text)).toEqual(['bbbb', 'cccc']);
        await world.recordOutbound(sent(bot, 4, 'x'.repeat(50)), caps);
        expect((await world.outbound(bot)).map((m) => m.text.length)).toEqual([50]);
        await world.recordOutbound(sent(bot, 5, 'y'), caps);
        expect((await world.outbound(bot)).map((m) => m.text)).toEqual(['y']);
      });

      it('keeps exactly the newest messages of 30 sent at once, whatever order their records land in', async () => {
        const bot = freshBot();
        const messages = Array.from({ length: 30 }, (_, n) => sent(bot, n + 1));
        await Promise.all(shuffled(messages).map((m) => world.recordOutbound(m, { maxMessages: 10, maxChars: 1_000 })));
        expect(await world.outbound(bot)).toEqual(messages.slice(-10));
      });
    });

    it("forgets a bot's sessions and sent messages, and only that bot's", async () => {
      const [bot, other] = [freshBot(), freshBot()];
      for (const id of [bot, other]) {
        await world.sessionStarted(start(id, `${id}-a`, 0), 10);
        await world.recordOutbound(sent(id, 1), ROOMY);
      }
      await world.forget(bot);
      expect(await world.sessions(bot)).toEqual([]);
      expect(await world.outbound(bot)).toEqual([]);
      expect(await world.sessions(other)).toHaveLength(1);
      expect(await world.outbound(other)).toHaveLength(1);
      // The id is free again: a session recorded now stands alone.
      await world.sessionStarted(start(bot, `${bot}-b`, 5), 10);
      expect((await world.sessions(bot)).map((s) => s.sessionId)).toEqual([`${bot}-b`]);
    });
  });
});
