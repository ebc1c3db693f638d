import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import { SendRefused } from '../../../src/ports/provider.port.ts';
import { createOutbox } from '../../../src/runtime/outbox/outbox.ts';
import type { OutboundHistory } from '../../../src/runtime/outbox/outbox.ts';
import { eventually } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

/**
 * What a provider says about a failed send decides what the outbox does: a refusal no retry can
 * change (Meta's 131047, the 24-hour window closed) fails the message at once with the reason; a
 * rate limit waits as long as the provider asked; anything else is retried with backoff.
 */

const logger = createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');
const BOT = 'refusal-bot';
const TO = '4915550401';
const history: OutboundHistory = { record: async () => 1, settle: async () => {} };

const stores: TestStore[] = [];
const outboxes: ReturnType<typeof createOutbox>[] = [];
afterEach(async () => {
  for (const o of outboxes.splice(0)) o.halt();
  for (const t of stores.splice(0)) await t.dispose();
});

async function outboxWith(send: (text: string) => Promise<{ providerMessageId: string }>) {
  const t = await openTestStore('parley_outbox_refusals');
  stores.push(t);
  const outbox = createOutbox({
    store: t.store.outbox, bots: { connectedSession: () => ({ send: (_to, text) => send(text) }), connectedBotIds: () => [BOT] }, history, owner: 'a', logger,
    leaseMs: 2000, pollMs: 20, retry: { baseMs: 20, maxMs: 40, jitter: 0 },
  });
  outboxes.push(outbox);
  await outbox.start();
  return { t, outbox };
}

describe('a provider refusing a send', () => {
  it('fails the message at once, with the provider\'s reason, when no retry can change the answer', async () => {
    let calls = 0;
    const { t, outbox } = await outboxWith(async () => {
      calls += 1;
      throw new SendRefused('131047 Re-engagement message: more than 24 hours have passed', { retryable: false });
    });
    await outbox.send(BOT, TO, 'hello again');
    const [row] = await eventually(() => t.store.outbox.list({ botId: BOT }), (rows) => rows[0]?.state === 'failed');
    expect(row?.error).toContain('131047');
    await new Promise((r) => setTimeout(r, 150));
    expect(calls).toBe(1);
  });

  it('waits as long as a rate limit asks before trying again, then sends', async () => {
    const at: number[] = [];
    const { t, outbox } = await outboxWith(async () => {
      at.push(Date.now());
      if (at.length === 1) throw new SendRefused('rate limited by Meta: 130429', { retryable: true, retryAfterMs: 400 });
      return { providerMessageId: 'wamid.ok' };
    });
    await outbox.send(BOT, TO, 'after the limit');
    await eventually(() => t.store.outbox.list({ botId: BOT }), (rows) => rows[0]?.state === 'sent', 5000);
    expect(at).toHaveLength(2);
    // The backoff alone would have retried after 20 ms.
    expect((at[1] ?? 0) - (at[0] ?? 0)).toBeGreaterThanOrEqual(380);
  });

  it('retries a plain failure with backoff', async () => {
    let calls = 0;
    const { t, outbox } = await outboxWith(async () => {
      calls += 1;
      if (calls === 1) throw new Error('HTTP 500 from Graph');
      return { providerMessageId: 'wamid.2' };
    });
    await outbox.send(BOT, TO, 'second time lucky');
    await eventually(() => t.store.outbox.list({ botId: BOT }), (rows) => rows[0]?.state === 'sent');
    expect(calls).toBe(2);
  });
});
