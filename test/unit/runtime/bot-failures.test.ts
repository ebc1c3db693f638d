import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderFactory } from '../../../src/ports/provider.port.ts';
import { faultyStore } from '../../support/faulty-store.ts';
import { connectedBot, controlledProcessor, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.runtime.shutdown().catch(() => h.runtime.halt());
  for (const t of opened.splice(0)) await t.dispose();
});

// The stop's hold lists the bot's jobs by state; other listings (placeholder work left by other
// instances, looked for on a timer) are not what this test takes down.
const listsByState = ([filter]: readonly unknown[]): boolean => typeof filter === 'object' && filter !== null && 'states' in filter;

describe('bot effect failures', () => {
  it('never reaches stopped with its media jobs unheld: a stop whose hold keeps failing fails and leaves the bot stopping, and a later stop finishes it', async () => {
    const t = await openTestStore('parley_bot_failures');
    opened.push(t);
    const faulty = faultyStore(t.store);
    const gate = controlledProcessor();
    const h = await startRuntime(faulty.store, { processor: gate.processor });
    running.push(h);
    const bot = await connectedBot(h);
    await h.provider.media(bot, '4915550700', 'voice');
    const job = await gate.next();
    // Listing the bot's jobs to hold them fails every time for now: the hold cannot happen.
    let down = true;
    for (let i = 0; i < 40; i++) faulty.failOnce('mediaJobs.list', (args) => down && listsByState(args));
    await expect(h.runtime.bots.stop(bot)).rejects.toThrow();
    expect(h.runtime.bots.state(bot)).toBe('stopping');
    await expect(h.runtime.bots.stop(bot)).rejects.toThrow();
    expect(h.runtime.bots.state(bot)).toBe('stopping');
    expect((await t.store.mediaJobs.get(job.id))?.state).toBe('processing');
    down = false;
    await h.runtime.bots.stop(bot);
    expect(h.runtime.bots.state(bot)).toBe('stopped');
    await eventually(() => t.store.mediaJobs.get(job.id), (j) => j?.state === 'holding');
    gate.complete(job.id, 'done while the bot was away');
  });


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
