import { describe, expect, it } from 'vitest';
import type { MediaJobPosition, NewMediaJob } from '../../src/ports/media-job-store.port.ts';
import { useTestStore } from '../support/test-store.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);

const job = (id: string, botId: string): NewMediaJob => ({
  id, botId, line: null, lineSeq: null, correspondentId: 'c1', messageId: 1, kind: 'image', mimetype: 'image/png', mediaKey: null, sizeBytes: null, stagingError: null, pool: 'media', caption: null, fileName: null, machineVersion: 1, snapshot: { value: 'pending' },
});

describe('listing without loading everything', () => {
  const t = useTestStore('parley_listing');

  it('pages through media jobs by creation time then id, ties included, keeping the bot filter', async () => {
    // Three jobs share a millisecond, so only the id tells them apart.
    const created: [string, string, number][] = [
      ['j-c', 'pa', 5], ['j-a', 'pa', 5], ['j-b', 'pb', 5], ['j-d', 'pa', 1], ['j-e', 'pa', 9], ['j-f', 'pb', 7],
    ];
    for (const [id, botId, ms] of created) await t.store.mediaJobs.insert(job(id, botId), at(ms));

    const walk = async (filter: { botId?: string }, limit: number): Promise<string[][]> => {
      const pages: string[][] = [];
      let after: MediaJobPosition | undefined;
      for (;;) {
        const page = await t.store.mediaJobs.list({ ...filter, limit, ...(after === undefined ? {} : { after }) });
        if (page.length === 0) return pages;
        pages.push(page.map((j) => j.id));
        const last = page.at(-1)!;
        after = { createdAt: last.createdAt, id: last.id };
      }
    };
    expect(await walk({}, 2)).toEqual([['j-d', 'j-a'], ['j-b', 'j-c'], ['j-f', 'j-e']]);
    expect(await walk({ botId: 'pa' }, 3)).toEqual([['j-d', 'j-a', 'j-c'], ['j-e']]);
  });

  it('keeps the order when a job changes state between pages', async () => {
    const first = await t.store.mediaJobs.list({ botId: 'pa', limit: 2 });
    await t.store.mediaJobs.claim({ owner: 'w', leaseMs: 1000, now: at(100) });
    const last = first.at(-1)!;
    const rest = await t.store.mediaJobs.list({ botId: 'pa', after: { createdAt: last.createdAt, id: last.id } });
    expect([...first, ...rest].map((j) => j.id)).toEqual(['j-d', 'j-a', 'j-c', 'j-e']);
  });

  it('lists actors with only the snapshot fields asked for, arrays included', async () => {
    const snapshot = {
      value: 'active',
      context: { correspondentId: 'c1', window: { totalChars: 5, nextId: 3, messages: [{ id: 1, content: 'hello', mediaJobId: null, acceptedAt: 10 }, { id: 2, content: '', mediaJobId: 'j', acceptedAt: 20 }] } },
    };
    await t.store.actors.insert({ id: 'fb|c1', kind: 'correspondent-queue', botId: 'fb', machineVersion: 1, state: 'active', snapshot });
    const [slim] = await t.store.actors.list({ kind: 'correspondent-queue', botId: 'fb' }, { fields: ['context.window.totalChars', 'context.window.messages.mediaJobId'] });
    expect(slim).toMatchObject({ id: 'fb|c1', kind: 'correspondent-queue', botId: 'fb', version: 1, machineVersion: 1, state: 'active' });
    expect(slim!.snapshot).toEqual({ context: { window: { totalChars: 5, messages: [{ mediaJobId: null }, { mediaJobId: 'j' }] } } });
    const [whole] = await t.store.actors.list({ kind: 'correspondent-queue', botId: 'fb' });
    expect(whole!.snapshot).toEqual(snapshot);
  });
});
