import { createServer } from 'node:net';
import makeWASocket from 'baileys';
import { afterEach, describe, expect, it } from 'vitest';
import { createBaileysProvider } from '../../../src/adapters/baileys/baileys.provider.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { useTestStore } from '../../support/test-store.ts';

/** A local port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('a WhatsApp Web bot whose connection keeps failing', () => {
  const t = useTestStore('parley_bot_reconnect');
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.runtime.shutdown(500);
    h = undefined;
  });

  it('builds a real Baileys socket per attempt, backs off exponentially up to the cap, and fails after the configured attempts without looping', async () => {
    const port = await closedPort();
    let sockets = 0;
    const baileys = createBaileysProvider({
      authState: t.store.authState,
      history: t.store.history,
      logger: createLogger('silent'),
      makeSocket: (config) => {
        sockets += 1;
        return makeWASocket(config);
      },
      socketConfig: { waWebSocketUrl: `ws://127.0.0.1:${port}`, connectTimeoutMs: 2000 },
    });
    const policy = { maxAttempts: 5, maxDelayMs: 200, baseMs: 25 };
    h = await startRuntime(t.store, { providers: { baileys }, reconnect: policy });
    const runtime = h.runtime;
    const waits = new Map<number, number>();
    const states: string[] = [];
    runtime.inspection.subscribe((event) => {
      if (event.type !== '@xstate.snapshot' || Reflect.get(event.actorRef, 'id') !== 'storm-bot') return;
      const snapshot: unknown = event.snapshot;
      if (typeof snapshot !== 'object' || snapshot === null) return;
      const value: unknown = Reflect.get(snapshot, 'value');
      const context: unknown = Reflect.get(snapshot, 'context');
      states.push(String(value));
      if (value !== 'reconnecting' || typeof context !== 'object' || context === null) return;
      const attempt = Number(Reflect.get(context, 'attempt'));
      if (!waits.has(attempt)) waits.set(attempt, Number(Reflect.get(context, 'retryAt')) - Date.now());
    });

    await runtime.bots.create({ id: 'storm-bot', provider: 'baileys', settings: {}, desiredState: 'stopped' });
    await runtime.bots.start('storm-bot');
    await eventually(() => runtime.bots.state('storm-bot'), (s) => s === 'failed', 15_000);

    // connecting → close 408 (refused) → reconnecting, once per attempt, each on a new socket.
    expect(states).toContain('connecting');
    expect([...waits.keys()]).toEqual([1, 2, 3, 4, 5]);
    for (const [attempt, wait] of waits) {
      const raw = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (attempt - 1));
      expect(wait).toBeLessThanOrEqual(raw + 5);
      expect(wait).toBeGreaterThanOrEqual(raw * 0.7 - 15);
    }
    expect(runtime.bots.context('storm-bot').lastError).toMatch(/gave up after 5 reconnect attempts: connection closed \(408: .*ECONNREFUSED/);
    expect(sockets).toBe(6);
    await new Promise((r) => setTimeout(r, 400));
    expect(sockets).toBe(6);
    expect(runtime.bots.state('storm-bot')).toBe('failed');
  });
});
