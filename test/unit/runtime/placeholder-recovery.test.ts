import { afterEach, describe, expect, it } from 'vitest';
import type { StoredWindow } from '../../../src/domain/stored-window.ts';
import { crashingStore } from '../../support/crashing-store.ts';
import { connectedBot, controlledProcessor, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { interceptStore } from '../../support/store-proxy.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const CID = '4915550700';
const PENDING = '[Voice message] (processing)';
const FINAL = '[Voice message] the transcript';

const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  // Halted, not shut down: a processor the test holds never finishes, and a shutdown would wait for it.
  for (const h of running.splice(0)) h.runtime.halt();
  for (const t of opened.splice(0)) await t.dispose();
});

const storedWindow = async (t: TestStore, queueId: string): Promise<StoredWindow | undefined> =>
  ((await t.store.actors.get(queueId))?.snapshot as { context?: { window?: StoredWindow } } | undefined)?.context?.window;

// DESIGN §5 race (f), I7 and I3 across a crash: the window after restart must come from history,
// not only from the stored snapshot, because the snapshot write of the last arrival may not have landed.
describe('race (f): a placeholder whose queue snapshot write never landed', () => {
  it('is back in the window under its row\'s id after restart; the next message takes the next id and the result finalizes it, heard once', async () => {
    const t = await openTestStore('parley_placeholder_recovery');
    opened.push(t);
    const crashing = crashingStore(t.store);
    // The queue's snapshot write is held until the job is being processed; the process then dies on it,
    // so the placeholder's history row and its job are durable and the snapshot is one message behind.
    let heldQueue: string | null = null;
    let held = 0;
    const release = Promise.withResolvers<void>();
    const store = interceptStore(crashing.store, async (label, args, call) => {
      if (label === 'actors.compareAndSet' && args[0] === heldQueue) {
        held += 1;
        await release.promise;
        crashing.arm(1);
      }
      return call();
    });
    const gate = controlledProcessor();
    const first = await startRuntime(store, { processor: gate.processor, worker: { pollMs: 20, leaseMs: 2_000, concurrency: 1 } });
    running.push(first);
    const bot = await connectedBot(first);
    const queueId = `${bot}|${CID}`;

    await first.provider.text(bot, CID, 'one', 'P-1');
    await first.runtime.conversations.flush();
    expect(await storedWindow(t, queueId)).toMatchObject({ nextId: 2, members: [[1, 1]] });

    heldQueue = queueId;
    await first.provider.media(bot, CID, 'voice', 'P-2');
    const claimed = await gate.next();
    release.resolve();
    await eventually(() => crashing.isDead(), Boolean);
    first.runtime.halt();
    running.splice(running.indexOf(first), 1);

    // The path under test is really taken: the window write of the voice note was tried and died,
    // its row and its job are durable, and the stored snapshot knows nothing of it.
    expect(held).toBeGreaterThan(0);
    expect(crashing.log.filter((l) => l.startsWith('died'))).toEqual(['died before actors.compareAndSet']);
    expect(await storedWindow(t, queueId)).toMatchObject({ nextId: 2, members: [[1, 1]], placeholders: [] });
    const rows = await t.store.history.list(bot, CID);
    expect(rows.map((r) => [r.seq, r.status, r.mediaJobId])).toEqual([[1, 'final', null], [2, 'placeholder', claimed.id]]);
    expect(await t.store.mediaJobs.get(claimed.id)).toMatchObject({ state: 'processing', attempt: 1, messageId: 2 });
    expect(first.delivered.filter((d) => d.botId === bot).map((d) => d.content)).toEqual(['one']);

    // Restart an hour later: the dead worker's lease has lapsed, so the job is claimed again.
    const processor = controlledProcessor();
    const second = await startRuntime(t.store, { processor: processor.processor, clock: () => Date.now() + 3_600_000 });
    running.push(second);
    const queue = await second.runtime.conversations.queue(bot, CID);

    // Before anything else arrives, the window holds the placeholder under its row's id (I7: nextId above it).
    const recovered = queue.getSnapshot().context.window;
    expect(recovered.messages.map((m) => [m.id, m.content, m.mediaJobId])).toEqual([[1, 'one', null], [2, PENDING, claimed.id]]);
    expect(recovered.nextId).toBe(3);
    expect(recovered.totalChars).toBe(recovered.messages.reduce((n, m) => n + m.size, 0));

    // The next message takes the next id: no reuse of the placeholder's, no gap.
    await eventually(() => second.runtime.bots.state(bot), (s) => s === 'connected');
    await second.provider.text(bot, CID, 'after restart', 'P-3');
    expect((await t.store.history.list(bot, CID)).map((r) => [r.seq, r.providerMessageId])).toEqual([[1, 'P-1'], [2, 'P-2'], [3, 'P-3']]);
    expect(queue.getSnapshot().context.window.messages.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(queue.getSnapshot().context.window.nextId).toBe(4);

    // The job's result finalizes that placeholder in place, and listeners hear it once.
    const again = await processor.next();
    expect(again).toMatchObject({ id: claimed.id, attempt: 2, messageId: 2 });
    processor.complete(claimed.id, 'the transcript');
    await eventually(() => t.store.mediaJobs.get(claimed.id), (j) => j?.state === 'delivered');
    await eventually(() => second.delivered.filter((d) => d.botId === bot).length, (n) => n === 2);
    await second.runtime.conversations.flush();
    expect((await t.store.history.list(bot, CID)).map((r) => [r.seq, r.status, r.content])).toEqual([[1, 'final', 'one'], [2, 'final', FINAL], [3, 'final', 'after restart']]);
    const window = queue.getSnapshot().context.window;
    expect(window.messages.map((m) => [m.id, m.content, m.mediaJobId])).toEqual([[1, 'one', null], [2, FINAL, null], [3, 'after restart', null]]);
    expect(window.totalChars).toBe(window.messages.reduce((n, m) => n + m.size, 0));
    expect(await storedWindow(t, queueId)).toMatchObject({ nextId: 4, members: [[1, 3]], placeholders: [] });
    const heard = second.delivered.filter((d) => d.botId === bot);
    expect(heard.map((d) => [d.messageId, d.content])).toEqual([[3, 'after restart'], [2, FINAL]]);
    expect(heard.every((d) => !d.recovered)).toBe(true);
  });
});
