import { describe, expect, it } from 'vitest';
import { createSimulatorHub } from '../../../src/adapters/simulator/simulator.provider.ts';
import type { SimulatorHub, SimulatorHubOptions } from '../../../src/adapters/simulator/simulator.provider.ts';
import { SendRefused } from '../../../src/ports/provider.port.ts';
import type { ProviderEvent, ProviderHandlers, ProviderSession } from '../../../src/ports/provider.port.ts';
import type { SimulatorSession, SimulatorWorld } from '../../../src/ports/simulator-world.port.ts';
import { faultyStore } from '../../support/faulty-store.ts';
import { useTestStore } from '../../support/test-store.ts';
import { waitFor } from '../../support/wait-for.ts';

interface Watched extends ProviderHandlers {
  readonly events: ProviderEvent[];
  /** Resolves with the first `provider.connected` or `provider.disconnected`. */
  readonly settled: Promise<ProviderEvent>;
}

function watched(): Watched {
  const events: ProviderEvent[] = [];
  let settle: (event: ProviderEvent) => void = () => {};
  const settled = new Promise<ProviderEvent>((resolve) => (settle = resolve));
  return {
    events,
    settled,
    onEvent(event) {
      events.push(event);
      if (event.type === 'provider.connected' || event.type === 'provider.disconnected') settle(event);
    },
    onMessage: () => Promise.resolve(),
  };
}

/** A clock that moves 1 ms on every reading, so each record has its own time. */
function ticking(): () => number {
  let ms = Date.parse('2026-01-01T00:00:00Z');
  return () => ++ms;
}

let bots = 0;
const freshBot = (): string => `shared-${++bots}`;

/** Starts a session and waits until it connected (or could not). */
async function started(hub: SimulatorHub, botId: string): Promise<{ session: ProviderSession; handlers: Watched; outcome: ProviderEvent }> {
  const handlers = watched();
  const session = hub.factory(botId, {}, handlers);
  await session.start();
  return { session, handlers, outcome: await handlers.settled };
}

const lasted = (s: SimulatorSession): [number, number] => [s.startedAt.getTime(), s.endedAt?.getTime() ?? Number.POSITIVE_INFINITY];

/** The simulator as a fake WhatsApp shared through the store: sessions and sent messages every instance reads alike. */
describe('the simulator on a shared world', () => {
  const t = useTestStore('parley_simulator_shared');
  const hubOn = (world: SimulatorWorld, instanceId: string, extra: SimulatorHubOptions = {}) =>
    createSimulatorHub({ world, instanceId, now: ticking(), sessionLogRetryDelaysMs: [0, 0], ...extra });

  it('records each session of start, stop and restart without overlap, on the instance that ran it', async () => {
    const hub = hubOn(t.store.simulator, 'i1');
    const bot = freshBot();
    const first = await started(hub, bot);
    await first.session.stop();
    await first.session.start();
    await waitFor(() => (hub.isConnected(bot) ? true : undefined), 5_000);
    await first.session.stop();
    const sessions = await t.store.simulator.sessions(bot);
    expect(sessions).toHaveLength(2);
    expect(sessions).toMatchObject([{ instanceId: 'i1', endReason: 'stopped' }, { instanceId: 'i1', endReason: 'stopped' }]);
    for (const s of sessions) {
      expect(s.connectedAt!.getTime()).toBeGreaterThan(s.startedAt.getTime());
      expect(s.endedAt!.getTime()).toBeGreaterThan(s.connectedAt!.getTime());
    }
    const [a, b] = sessions.map(lasted);
    expect(b![0]).toBeGreaterThanOrEqual(a![1]);
  });

  it('ends the running session as replaced when started again without a stop', async () => {
    const hub = hubOn(t.store.simulator, 'i1');
    const bot = freshBot();
    const { session } = await started(hub, bot);
    await session.start();
    await session.stop();
    const [replaced, latest] = await t.store.simulator.sessions(bot);
    expect(replaced).toMatchObject({ endReason: 'replaced' });
    expect(latest).toMatchObject({ endReason: 'stopped' });
    expect(latest!.startedAt.getTime()).toBeGreaterThanOrEqual(replaced!.endedAt!.getTime());
  });

  it('reports connected only once the start of the session is in the log', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const world: SimulatorWorld = { ...t.store.simulator, sessionStarted: async (s, keep) => { await gate; await t.store.simulator.sessionStarted(s, keep); } };
    const hub = hubOn(world, 'i1');
    const bot = freshBot();
    const handlers = watched();
    await hub.factory(bot, {}, handlers).start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(handlers.events).toEqual([{ type: 'provider.connecting' }]);
    expect(hub.isConnected(bot)).toBe(false);
    release();
    await handlers.settled;
    expect(await t.store.simulator.sessions(bot)).toMatchObject([{ instanceId: 'i1', endedAt: null }]);
    expect(hub.isConnected(bot)).toBe(true);
  });

  it('retries a start record that failed once, and connects', async () => {
    const faulty = faultyStore(t.store);
    faulty.failOnce('simulator.sessionStarted');
    const hub = hubOn(faulty.store.simulator, 'i1');
    const bot = freshBot();
    const { outcome } = await started(hub, bot);
    expect(outcome).toEqual({ type: 'provider.connected' });
    expect(faulty.calls.filter((c) => c === 'simulator.sessionStarted')).toHaveLength(2);
    expect(await t.store.simulator.sessions(bot)).toHaveLength(1);
  });

  it('reports a retryable disconnect, never connected, when the start cannot be recorded, and logs it', async () => {
    const warnings: unknown[] = [];
    const world: SimulatorWorld = { ...t.store.simulator, sessionStarted: () => Promise.reject(new Error('store down')) };
    const hub = hubOn(world, 'i1', { logger: { warn: (fields: unknown) => void warnings.push(fields) } });
    const bot = freshBot();
    const { outcome, handlers } = await started(hub, bot);
    expect(outcome).toEqual({ type: 'provider.disconnected', reason: 'simulator: the session log is unavailable', retryable: true });
    expect(handlers.events.map((e) => e.type)).not.toContain('provider.connected');
    expect(hub.isConnected(bot)).toBe(false);
    expect(warnings).toHaveLength(1);
  });

  it('leaves a session that crashed (no stop) open in the log, beside the next instance\'s', async () => {
    const bot = freshBot();
    await started(hubOn(t.store.simulator, 'crashed'), bot);
    const { session } = await started(hubOn(t.store.simulator, 'survivor'), bot);
    await session.stop();
    expect(await t.store.simulator.sessions(bot)).toMatchObject([
      { instanceId: 'crashed', endedAt: null, endReason: null },
      { instanceId: 'survivor', endReason: 'stopped' },
    ]);
  });

  it('shows one instance\'s sent messages and sessions to every other', async () => {
    const [one, two] = [hubOn(t.store.simulator, 'i1'), hubOn(t.store.simulator, 'i2')];
    const bot = freshBot();
    const { session } = await started(one, bot);
    const { providerMessageId } = await session.send('15550001111', 'hello from i1');
    expect(await two.outbound(bot)).toEqual([{ to: '15550001111', text: 'hello from i1', providerMessageId, sentAt: expect.any(Number) }]);
    expect(await two.outbound(bot)).toEqual(await one.outbound(bot));
    await session.stop();
    // Once stop() returned, the end is in the log for every instance to read.
    expect(await two.sessions(bot)).toMatchObject([{ instanceId: 'i1', endReason: 'stopped' }]);
  });

  it('rejects a send whose record failed, as retryable, and records nothing', async () => {
    const faulty = faultyStore(t.store);
    const hub = hubOn(faulty.store.simulator, 'i1');
    const bot = freshBot();
    const { session } = await started(hub, bot);
    faulty.failOnce('simulator.recordOutbound');
    const err = await session.send('15550001111', 'lost').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(SendRefused);
    expect(err).toMatchObject({ retryable: true });
    expect(await hub.outbound(bot)).toEqual([]);
    await session.send('15550001111', 'again');
    expect((await hub.outbound(bot)).map((m) => m.text)).toEqual(['again']);
  });

  it('ends a session despite one failed write of its end', async () => {
    const faulty = faultyStore(t.store);
    const hub = hubOn(faulty.store.simulator, 'i1');
    const bot = freshBot();
    const { session } = await started(hub, bot);
    faulty.failOnce('simulator.sessionEnded');
    await session.stop();
    expect(await t.store.simulator.sessions(bot)).toMatchObject([{ endReason: 'stopped' }]);
  });

  it("forgets a deleted bot's sessions and sent messages in the store", async () => {
    const hub = hubOn(t.store.simulator, 'i1');
    const bot = freshBot();
    const { session } = await started(hub, bot);
    await session.send('15550001111', 'bye');
    await session.stop();
    await hub.forget(bot);
    expect(await t.store.simulator.sessions(bot)).toEqual([]);
    expect(await t.store.simulator.outbound(bot)).toEqual([]);
  });
});
