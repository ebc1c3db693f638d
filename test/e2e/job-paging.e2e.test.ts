import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { eventually } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { runningBot, startApi, voiceNote } from './api-harness.ts';
import type { Api } from './api-harness.ts';

interface JobPageJson {
  jobs: { id: string; botId: string; state: string }[];
  nextCursor: string | null;
}
interface ErrorJson {
  error: { code: string; message: string };
}


describe('GET /v1/jobs paging', () => {
  let t: TestStore;
  let api: Api;
  beforeAll(async () => {
    t = await openTestStore('parley_api_jobs');
    api = await startApi(t.store);
    await runningBot(api, 'bot-pages');
    await runningBot(api, 'bot-other');
    for (let i = 0; i < 7; i++) await api.request('POST', '/v1/bots/bot-pages/simulator/inbound', voiceNote(`155500${i}`));
    for (let i = 0; i < 2; i++) await api.request('POST', '/v1/bots/bot-other/simulator/inbound', voiceNote(`166600${i}`));
    await eventually(async () => (await t.store.mediaJobs.list({ states: ['delivered'] })).length, (n) => n === 9);
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  /** Follows `nextCursor` until it is null; returns every page. */
  async function walk(query: string): Promise<JobPageJson[]> {
    const pages: JobPageJson[] = [];
    let after: string | null = null;
    do {
      const res = await api.request('GET', `/v1/jobs?${query}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`);
      expect(res.statusCode).toBe(200);
      const page = res.json<JobPageJson>();
      pages.push(page);
      after = page.nextCursor;
    } while (after !== null && pages.length < 100);
    return pages;
  }

  it('walks a bot\'s jobs a page at a time, oldest first, each once, with nextCursor null on the last page', async () => {
    const whole = (await api.request('GET', '/v1/jobs?botId=bot-pages')).json<JobPageJson>();
    expect(whole.jobs).toHaveLength(7);
    expect(whole.nextCursor).toBeNull();
    const created = await t.store.mediaJobs.list({ botId: 'bot-pages' });
    expect(whole.jobs.map((j) => j.id)).toEqual(created.map((j) => j.id));

    const pages = await walk('botId=bot-pages&limit=3');
    expect(pages.map((p) => p.jobs.length)).toEqual([3, 3, 1]);
    expect(pages.map((p) => p.nextCursor === null)).toEqual([false, false, true]);
    expect(pages.flatMap((p) => p.jobs.map((j) => j.id))).toEqual(whole.jobs.map((j) => j.id));
  });

  it('keeps the bot and state filters across pages, and pages over every bot when none is named', async () => {
    const delivered = await walk('botId=bot-pages&state=delivered&limit=2');
    expect(delivered).toHaveLength(4);
    expect(delivered.flatMap((p) => p.jobs).every((j) => j.botId === 'bot-pages' && j.state === 'delivered')).toBe(true);
    expect(delivered.flatMap((p) => p.jobs)).toHaveLength(7);
    expect((await walk('botId=bot-pages&state=failed')).flatMap((p) => p.jobs)).toEqual([]);

    const everyBot = (await walk('limit=2')).flatMap((p) => p.jobs);
    expect(everyBot).toHaveLength(9);
    expect(new Set(everyBot.map((j) => j.id)).size).toBe(9);
    expect(everyBot.filter((j) => j.botId === 'bot-other')).toHaveLength(2);
  });

  it('answers 100 jobs when no limit is given', async () => {
    const docs = Array.from({ length: 105 }, (_, i) => ({
      _id: `bulk-${String(i).padStart(3, '0')}`, botId: 'bot-bulk', correspondentId: '1777', messageId: i + 1, kind: 'image', mimetype: 'image/png', pool: 'image', sizeBytes: 10,
      state: 'delivered', statePath: 'delivered', attempt: 1, error: null, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)), updatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    }));
    await t.db.collection(COLLECTIONS.mediaJobs).insertMany(docs as never[]);
    const first = (await api.request('GET', '/v1/jobs?botId=bot-bulk')).json<JobPageJson>();
    expect(first.jobs).toHaveLength(100);
    expect(first.nextCursor).not.toBeNull();
    const rest = (await api.request('GET', `/v1/jobs?botId=bot-bulk&after=${encodeURIComponent(first.nextCursor!)}`)).json<JobPageJson>();
    expect(rest.jobs.map((j) => j.id)).toEqual(['bulk-100', 'bulk-101', 'bulk-102', 'bulk-103', 'bulk-104']);
    expect(rest.nextCursor).toBeNull();
  });

  it.each([
    ['a limit over 1000', 'limit=1001', /^querystring\.limit: must be <= 1000$/],
    ['a limit of 0', 'limit=0', /^querystring\.limit: must be >= 1$/],
    ['a cursor it did not hand out', 'after=not-a-cursor', /^querystring\.after: /],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_label, query, message) => {
    const res = await api.request('GET', `/v1/jobs?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json<ErrorJson>().error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(message) });
  });

  it('describes limit, after and nextCursor in the OpenAPI document', async () => {
    const doc = (await api.request('GET', '/docs/json', undefined, {})).json<{
      paths: Record<string, { get?: { parameters?: { name: string; schema: Record<string, unknown> }[]; responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }> } }>;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    }>();
    const op = doc.paths['/v1/jobs']!.get!;
    const params = Object.fromEntries((op.parameters ?? []).map((p) => [p.name, p.schema]));
    expect(params['limit']).toMatchObject({ minimum: 1, maximum: 1000, default: 100 });
    expect(params['after']).toMatchObject({ type: 'string' });
    expect(op.responses['200']!.content['application/json']!.schema.$ref).toBe('#/components/schemas/JobList');
    expect(Object.keys(doc.components.schemas['JobList']!.properties)).toEqual(['jobs', 'nextCursor']);
  });
});
