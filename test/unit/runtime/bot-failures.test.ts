import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderFactory } from '../../../src/ports/provider.port.ts';
import { startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.runtime.shutdown().catch(() => h.runtime.halt());
  for (const t of opened.splice(0)) await t.dispose();
});

describe('bot effect failures', () => {
  it('ends a bot whose provider session cannot be opened in failed, with the reason, and starts it again once the provider works', async () => {
    const t = await openTestStore('parley_bot_failures');
    opened.push(t);
    let broken = true;
    let starts = 0;
    const flaky: ProviderFactory = (_botId, _settings, handlers) => ({
      start: async () => {
        starts += 1;
        if (broken) throw new Error('handshake refused');
        setImmediate(() => handlers.onEvent({ type: 'provider.connected' }));
      },
      stop: async () => {},
      send: async () => ({ providerMessageId: 'x' }),
    });
    const h = await startRuntime(t.store, { providers: { flaky } });
    running.push(h);
    await h.runtime.bots.create({ id: 'bot-flaky', provider: 'flaky', settings: {}, desiredState: 'stopped' });
    await h.runtime.bots.start('bot-flaky');
    expect(h.runtime.bots.state('bot-flaky')).toBe('failed');
    expect(h.runtime.bots.context('bot-flaky').lastError).toBe('could not connect: handshake refused');
    // Tried again (with backoff) before giving up.
    expect(starts).toBe(3);
    broken = false;
    await h.runtime.bots.start('bot-flaky');
    await new Promise((r) => setTimeout(r, 50));
    expect(h.runtime.bots.state('bot-flaky')).toBe('connected');
  });
});
