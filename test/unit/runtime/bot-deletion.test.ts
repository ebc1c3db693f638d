import { describe, expect, it } from 'vitest';
import { isParleyError } from '../../../src/domain/errors.ts';
import { crashingStore } from '../../support/crashing-store.ts';
import { connectedBot, controlledProcessor, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

async function leftovers(t: TestStore, botId: string) {
  return {
    actors: await t.store.actors.list({ kind: 'correspondent-queue', botId }),
    bot: await t.store.actors.get(botId),
    jobs: await t.store.mediaJobs.list({ botId }),
    history: await t.store.history.list(botId, '4915550400'),
  };
}
const none = { actors: [], bot: null, jobs: [], history: [] };

describe('deleting a bot in the runtime', () => {
  it('discards the result of a job a worker was processing when its bot was deleted, and writes nothing back', async () => {
    const t = await openTestStore('parley_delete_worker');
    const cp = controlledProcessor();
    const h = await startRuntime(t.store, { processor: cp.processor });
    try {
      const bot = await connectedBot(h);
      await h.provider.media(bot, '4915550400', 'image');
      const job = await cp.next();
      await h.runtime.bots.delete(bot);
      expect(await leftovers(t, bot)).toEqual(none);

      cp.complete(job.id, 'a description nobody waits for');
      await new Promise((r) => setTimeout(r, 100));
      expect(await leftovers(t, bot)).toEqual(none);
      expect(h.runtime.conversations.actors().filter((q) => q.botId === bot)).toEqual([]);
      expect(h.delivered.filter((d) => d.botId === bot)).toEqual([]);

      // The worker is free for the next job.
      const other = await connectedBot(h);
      await h.provider.media(other, '4915550401', 'voice');
      cp.complete((await cp.next()).id, 'heard');
      await eventually(() => t.store.mediaJobs.list({ botId: other }), (jobs) => jobs[0]?.state === 'delivered');
    } finally {
      await h.runtime.shutdown(500);
      await t.dispose();
    }
  });

  it('refuses to load a queue of a deleted bot until a bot of that id is created again', async () => {
    const t = await openTestStore('parley_delete_queue');
    const h = await startRuntime(t.store);
    try {
      const bot = await connectedBot(h);
      await h.provider.text(bot, '4915550400', 'hello');
      await h.runtime.bots.delete(bot);
      const late = await h.runtime.conversations
        .finalize({ botId: bot, correspondentId: '4915550400', jobId: 'gone-job', messageId: 2, content: '[Image] late', status: 'final' })
        .catch((e: unknown) => e);
      expect(isParleyError(late, 'NOT_FOUND')).toBe(true);
      expect(await leftovers(t, bot)).toEqual(none);

      await connectedBot(h, bot);
      await h.provider.text(bot, '4915550400', 'hello again');
      const rows = await t.store.history.list(bot, '4915550400');
      expect(rows.map((r) => [r.seq, r.content])).toEqual([[1, 'hello again']]);
    } finally {
      await h.runtime.shutdown(500);
      await t.dispose();
    }
  });

  it('keeps a bot whose deletion died half-way, so deleting it again removes the rest', async () => {
    const t = await openTestStore('parley_delete_crash');
    const crashing = crashingStore(t.store);
    const first: Harness = await startRuntime(crashing.store);
    let second: Harness | undefined;
    try {
      const bot = await connectedBot(first);
      await first.provider.text(bot, '4915550400', 'hello');
      await eventually(() => t.store.actors.get(`${bot}|4915550400`), (a) => a !== null);
      crashing.armBefore('history.deleteByBot', crashing.occurrences('history.deleteByBot') + 1);
      await expect(first.runtime.bots.delete(bot)).rejects.toThrow(/process died/);
      first.runtime.halt();
      expect(await t.store.bots.get(bot)).not.toBeNull();
      expect(await t.store.history.list(bot, '4915550400')).toHaveLength(1);

      second = await startRuntime(t.store);
      await second.runtime.bots.delete(bot);
      expect(await t.store.bots.get(bot)).toBeNull();
      expect(await leftovers(t, bot)).toEqual(none);
    } finally {
      await second?.runtime.shutdown(500);
      await t.dispose();
    }
  });
});
