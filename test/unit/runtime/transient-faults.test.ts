import { describe, expect, it } from 'vitest';
import { faultyStore } from '../../support/faulty-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import { createMemoryMediaStore } from '../../support/memory-media-store.ts';
import { testMedia } from '../../support/test-media.ts';

const CID = '4915550600';
const WRITES = new Set([
  'actors.insert', 'actors.compareAndSet', 'actors.markResident',
  'history.append', 'history.finalize', 'history.settleOutbound',
  'mediaJobs.insert', 'mediaJobs.claim', 'mediaJobs.compareAndSet', 'mediaJobs.acknowledgeEffects',
  'outbox.insert', 'outbox.claim', 'outbox.compareAndSet', 'outbox.acknowledgeEffects',
  'media.put', 'media.delete',
]);

interface FaultPoint {
  readonly label: string;
  readonly occurrence: number;
}

/** A provider delivers again until the message is acknowledged, as WhatsApp does. */
async function deliver(send: () => Promise<void>): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await send();
      return;
    } catch (err) {
      if (tries >= 3) throw err;
    }
  }
}

/** One conversation through every path: a text, a voice note processed into text, a reply through the outbox, another text. */
async function conversation(h: Harness, bot: string): Promise<void> {
  await deliver(() => h.provider.text(bot, CID, 'hello', 'P1'));
  await deliver(() => h.provider.media(bot, CID, 'voice', 'P2'));
  for (let tries = 0; ; tries++) {
    try {
      await h.runtime.outbox.send(bot, CID, 'on my way');
      break;
    } catch (err) {
      if (tries >= 3) throw err;
    }
  }
  await deliver(() => h.provider.text(bot, CID, 'thanks', 'P3'));
}

async function run(point: FaultPoint | null, at: 'before' | 'after' = 'before') {
  const t = await openTestStore('parley_faults');
  const faulty = faultyStore(t.store);
  const files = createMemoryMediaStore();
  const media = testMedia(async (m) => ({ status: 'processed', text: `text of ${m.kind}` }), { concurrency: 2, store: faulty.media(files) });
  const h = await startRuntime(faulty.store, { media, outbox: { pollMs: 20, retry: { baseMs: 10, maxMs: 20, jitter: 0 } }, worker: { pollMs: 20, leaseMs: 1_000 } });
  try {
    const bot = await connectedBot(h);
    await h.runtime.bots.actor(bot).flush();
    const from = faulty.calls.length;
    if (point !== null) {
      let seen = 0;
      const plan = at === 'before' ? faulty.failOnce : faulty.landThenFail;
      plan(point.label, () => ++seen === point.occurrence);
    }
    await conversation(h, bot);
    // Converged: the voice note delivered, the reply sent, the history complete.
    await eventually(() => t.store.mediaJobs.list({ botId: bot }), (jobs) => jobs.length === 1 && jobs[0]?.state === 'delivered', 10_000);
    await eventually(() => t.store.outbox.list({ botId: bot }), (rows) => rows.length === 1 && rows[0]?.state === 'sent', 10_000);
    const settled = (r: { status: string }[]) => r.length >= 4 && r.every((row) => row.status !== 'pending' && row.status !== 'placeholder');
    const rows = await eventually(() => t.store.history.list(bot, CID), settled, 10_000);
    await new Promise((r) => setTimeout(r, 150));
    await h.runtime.conversations.flush();
    const calls = faulty.calls.slice(from);

    // Every inbound message once, in order, finalized in place; the reply in history once as sent. A
    // send whose request failed may leave a row saying so (`failed`), never one left waiting.
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(rows.filter((r) => r.direction === 'inbound').map((r) => [r.providerMessageId, r.status])).toEqual([['P1', 'final'], ['P2', 'final'], ['P3', 'final']]);
    const outbound = rows.filter((r) => r.direction === 'outbound');
    expect(outbound.filter((r) => r.status === 'sent').map((r) => r.content)).toEqual(['on my way']);
    expect(outbound.every((r) => r.status === 'sent' || r.status === 'failed')).toBe(true);
    // Listeners heard each inbound message once (a repeat after a fault carries the same deliveryId).
    const heard = h.delivered.filter((d) => d.botId === bot);
    const inboundSeqs = rows.filter((r) => r.direction === 'inbound').map((r) => r.seq);
    expect([...new Map(heard.map((d) => [d.deliveryId, d.messageId])).values()].sort((a, b) => a - b)).toEqual(inboundSeqs);
    expect([...new Set(heard.map((d) => d.content))].sort()).toEqual(['[Voice message] text of voice', 'hello', 'thanks']);
    expect(new Set(heard.map((d) => d.deliveryId)).size).toBe(3);
    // The reply went out once.
    expect(h.provider.sent.filter((s) => s.botId === bot).map((s) => s.text)).toEqual(['on my way']);
    // I10: the staged voice note was released once its job was done.
    await eventually(() => files.files.size, (n) => n === 0, 10_000);
    // The window holds what history holds.
    const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
    expect(window.messages.map((m) => m.id)).toEqual(rows.map((r) => r.seq));
    return calls;
  } finally {
    await h.runtime.shutdown().catch(() => h.runtime.halt());
    await t.dispose();
  }
}

describe('one transient fault on each write of the inbound, media and outbox paths (race i)', () => {
  it('converges after each: every message once, in order, every job finished, every listener and send once', async () => {
    const reference = await run(null);
    const counts = new Map<string, number>();
    const points: FaultPoint[] = reference.filter((label) => WRITES.has(label)).map((label) => {
      counts.set(label, (counts.get(label) ?? 0) + 1);
      return { label, occurrence: counts.get(label)! };
    });
    const labels = new Set(points.map((p) => p.label));
    // The path has the writes it should before any fault is tried.
    for (const label of ['media.put', 'media.delete', 'history.append', 'history.finalize', 'history.settleOutbound', 'mediaJobs.insert', 'mediaJobs.compareAndSet', 'outbox.insert', 'outbox.compareAndSet', 'actors.compareAndSet']) {
      expect(labels).toContain(label);
    }
    const failures: string[] = [];
    for (const point of points) {
      for (const at of ['before', 'after'] as const) {
        try {
          await run(point, at);
        } catch (err) {
          failures.push(`${point.label} #${point.occurrence} (${at}): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    console.log(`transient faults tried: ${points.length * 2} (${points.length} writes, each failing before it reached the store and after it landed)`);
  }, 300_000);
});
