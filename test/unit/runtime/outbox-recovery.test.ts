import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import { createOutboxSender } from '../../../src/runtime/outbox-sender.ts';
import type { OutboxBots } from '../../../src/runtime/outbox-sender.ts';
import { crashingStore } from '../../support/crashing-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';

const LEASE_MS = 150;
const logger = createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');

function senderFor(store: Store, bots: OutboxBots, owner: string, leaseMs = LEASE_MS) {
  return createOutboxSender({ outbox: store.outbox, bots, owner, logger, pollMs: 20, leaseMs, retryDelaysMs: [20] });
}

const settle = () => new Promise((r) => setTimeout(r, 3 * LEASE_MS));

describe('outbox recovery', () => {
  it('delivers a message exactly once after the process died between claiming it and sending it', async () => {
    const t = await openTestStore('parley_outbox_crash');
    const crashing = crashingStore(t.store);
    const first: Harness = await startRuntime(crashing.store);
    let second: Harness | undefined;
    try {
      const bot = await connectedBot(first);
      await crashing.store.outbox.enqueue({ id: 'reply-1', botId: bot, to: '4915550300', text: 'your order shipped' }, new Date());
      crashing.armAfter('outbox.claimDue', crashing.occurrences('outbox.claimDue') + 1);
      const dying = senderFor(crashing.store, first.runtime.bots, first.runtime.owner);
      dying.start();
      await eventually(() => crashing.isDead(), Boolean);
      await dying.stop();
      first.runtime.halt();

      const [stuck] = await t.store.outbox.list(bot);
      expect(stuck).toMatchObject({ state: 'sending', attempt: 1, owner: first.runtime.owner });
      expect(first.provider.sent).toEqual([]);

      second = await startRuntime(t.store);
      await eventually(() => second!.runtime.bots.state(bot), (s) => s === 'connected');
      const sender = senderFor(t.store, second.runtime.bots, second.runtime.owner);
      sender.start();
      try {
        const [sent] = await eventually(() => t.store.outbox.list(bot), (rows) => rows[0]?.state === 'sent');
        expect(sent).toMatchObject({ id: 'reply-1', attempt: 2, owner: null, leaseUntil: null });
        await settle();
        expect(second.provider.sent).toEqual([{ botId: bot, to: '4915550300', text: 'your order shipped' }]);
      } finally {
        await sender.stop();
      }
    } finally {
      await second?.runtime.shutdown();
      await t.dispose();
    }
  });

  it('leaves a message to the sender holding its lease, takes it over once the lease lapsed, and discards the old sender\'s late report', async () => {
    const t = await openTestStore('parley_outbox_lease');
    const botId = 'lease-bot';
    let releaseSlow: () => void = () => {};
    const sentBy = { slow: [] as string[], fast: [] as string[] };
    const bots = (name: 'slow' | 'fast', hold: boolean): OutboxBots => ({
      ids: () => [botId],
      state: () => 'connected',
      session: () => ({
        async send(_to, text) {
          if (hold) await new Promise<void>((resolve) => (releaseSlow = resolve));
          sentBy[name].push(text);
          return { providerMessageId: `${name}-1` };
        },
      }),
    });
    // Long enough that a loaded machine still sees the lease run before it lapses.
    const leaseMs = 1000;
    const slow = senderFor(t.store, bots('slow', true), 'instance-a', leaseMs);
    const fast = senderFor(t.store, bots('fast', false), 'instance-b', leaseMs);
    try {
      await t.store.outbox.enqueue({ id: 'm1', botId, to: '4915550301', text: 'one' }, new Date());
      slow.start();
      await eventually(() => t.store.outbox.list(botId), (rows) => rows[0]?.state === 'sending');
      fast.start();
      await new Promise((r) => setTimeout(r, leaseMs / 4));
      expect(sentBy.fast).toEqual([]);
      expect((await t.store.outbox.list(botId))[0]).toMatchObject({ state: 'sending', owner: 'instance-a', attempt: 1 });

      const [taken] = await eventually(() => t.store.outbox.list(botId), (rows) => rows[0]?.state === 'sent');
      expect(taken).toMatchObject({ attempt: 2 });
      expect(sentBy.fast).toEqual(['one']);

      releaseSlow();
      await eventually(() => sentBy.slow.length, (n) => n === 1);
      await settle();
      expect((await t.store.outbox.list(botId))[0]).toMatchObject({ state: 'sent', attempt: 2 });
      expect(sentBy.fast).toEqual(['one']);
    } finally {
      releaseSlow();
      await Promise.all([slow.stop(), fast.stop()]);
      await t.dispose();
    }
  });
});
