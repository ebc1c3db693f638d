import { afterEach, describe, expect, it } from 'vitest';
import type { MediaJobContext } from '../../../machines/media-job.machine.ts';
import { connectedBot, controlledProcessor, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { interceptStore } from '../../support/store-proxy.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const CID = '4915550800';
const HOLDER = '[Voice message] from the worker that holds the claim';
// A lease lapses after a second without renewal; the runtime's own sweeper looks every second.
const WORKER = { pollMs: 20, leaseMs: 1_000, concurrency: 2 };

const opened: TestStore[] = [];
const running: Harness[] = [];
afterEach(async () => {
  // Halted, not shut down: a processor the test holds never finishes, and a shutdown would wait for it.
  for (const h of running.splice(0)) h.runtime.halt();
  for (const t of opened.splice(0)) await t.dispose();
});

/**
 * The heartbeats of one attempt never reach its job (lost on the way, as from a worker whose
 * renewals stall), so that attempt's lease lapses in real time while its processor still runs.
 * Dropped before the store, they are not decided either, so every discard counted is a result.
 */
function loseHeartbeats(h: Harness, attempt: number): { lost: number } {
  const host = h.runtime.jobs;
  const dispatch = host.dispatch.bind(host);
  const counter = { lost: 0 };
  host.dispatch = (id, event) => {
    if (event.type === 'job.heartbeat' && event.attempt === attempt) {
      counter.lost += 1;
      return Promise.reject(new Error(`heartbeat of attempt ${attempt} lost`));
    }
    return dispatch(id, event);
  };
  return counter;
}

// I5 at the runtime level, end to end: no event is dispatched by hand. Unlike race (j) in
// races.test.ts (which tells the job its lease expired), the lease lapses here because renewals
// stopped, the runtime's sweeper finds it, and the worker pool claims the job again under the same
// owner, so only the attempt number tells the two runs apart. Both kinds of late report are fenced.
describe('I5: a result reported after the lease lapsed and the job was claimed again', () => {
  it.each([
    { late: 'completes', report: (p: ReturnType<typeof controlledProcessor>, id: string) => p.complete(id, 'from the worker that lost its lease', 1) },
    { late: 'fails', report: (p: ReturnType<typeof controlledProcessor>, id: string) => p.fail(id, 'the worker that lost its lease gave up', 1) },
  ])('is discarded when the first worker $late late; the placeholder is finalized once with the second attempt\'s result and heard once', async ({ report }) => {
    const t = await openTestStore('parley_late_results');
    opened.push(t);
    let finalizes = 0;
    const store = interceptStore(t.store, (label, _args, call) => {
      if (label === 'history.finalize') finalizes += 1;
      return call();
    });
    const processor = controlledProcessor();
    const h = await startRuntime(store, { processor: processor.processor, worker: WORKER });
    running.push(h);
    const heartbeats = loseHeartbeats(h, 1);
    const bot = await connectedBot(h);
    const heard = () => h.delivered.filter((d) => d.botId === bot);

    await h.provider.media(bot, CID, 'voice', 'V-1');
    const first = await processor.next();
    expect(first.attempt).toBe(1);
    // The sweeper returns the lapsed job to the queue and a second worker of the pool claims it.
    const [second] = await eventually(() => processor.running().filter((j) => j.attempt === 2), (jobs) => jobs.length === 1);
    expect(heartbeats.lost).toBeGreaterThan(0);
    expect(await t.store.mediaJobs.get(first.id)).toMatchObject({ state: 'processing', attempt: 2, owner: h.runtime.owner });
    expect(processor.running().map((j) => j.attempt).sort()).toEqual([1, 2]);

    // The first worker finishes now: its report carries attempt 1 and changes nothing but the count.
    report(processor, first.id);
    await eventually(() => h.runtime.stats.lateResultsDiscarded, (n) => n === 1);
    expect(await t.store.mediaJobs.get(first.id)).toMatchObject({ state: 'processing', attempt: 2 });
    expect((await t.store.history.list(bot, CID)).map((r) => r.status)).toEqual(['placeholder']);
    expect(finalizes).toBe(0);
    expect(heard()).toEqual([]);

    processor.complete(second!.id, 'from the worker that holds the claim', 2);
    const done = await eventually(() => t.store.mediaJobs.get(first.id), (j) => j?.state === 'delivered');
    await eventually(heard, (d) => d.length > 0);
    await h.runtime.conversations.flush();
    await new Promise((r) => setTimeout(r, 50));

    expect(done).toMatchObject({ attempt: 2 });
    expect((done?.snapshot as { context: MediaJobContext }).context.discardedResults).toBe(1);
    expect(h.runtime.stats).toMatchObject({ lateResultsDiscarded: 1, deadLettered: 0 });
    const rows = await t.store.history.list(bot, CID);
    expect(rows.map((r) => [r.seq, r.status, r.content])).toEqual([[1, 'final', HOLDER]]);
    expect(finalizes).toBe(1);
    expect(heard().map((d) => [d.messageId, d.content])).toEqual([[1, HOLDER]]);
    const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
    expect(window.messages.map((m) => [m.id, m.content, m.mediaJobId])).toEqual([[1, HOLDER, null]]);
  });
});
