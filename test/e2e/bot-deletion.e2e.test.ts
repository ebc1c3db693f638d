import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLLECTIONS } from '../../src/adapters/mongodb/collections.ts';
import { eventually } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { runningBot, startApi, voiceNote } from './api-harness.ts';
import type { Api } from './api-harness.ts';

interface JobJson {
  id: string;
  state: string;
}
interface InspectJson {
  actors: { id: string; kind: string; botId: string }[];
}

const BOT = 'bot-gone';
const NEIGHBOUR = 'bot-neighbour';

describe('deleting a bot', () => {
  let t: TestStore;
  let api: Api;
  beforeAll(async () => {
    t = await openTestStore('parley_api_delete');
    api = await startApi(t.store);
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  /** Documents of the bot in every collection Parley writes. */
  async function stored(botId: string) {
    const count = (collection: string, filter: object) => t.db.collection(collection).countDocuments(filter);
    return {
      bots: await count(COLLECTIONS.bots, { _id: botId }),
      actors: await count(COLLECTIONS.actors, { botId }),
      mediaJobs: await count(COLLECTIONS.mediaJobs, { botId }),
      messages: await count(COLLECTIONS.messages, { botId }),
      outbox: await count(COLLECTIONS.outbox, { botId }),
      authState: await count(COLLECTIONS.authState, { botId }),
      counters: await count(COLLECTIONS.counters, { _id: { $in: [`fair:${botId}`, `fair:outbox:${botId}`] } }),
    };
  }
  const nothing = { bots: 0, actors: 0, mediaJobs: 0, messages: 0, outbox: 0, authState: 0, counters: 0 };

  const inspected = async (botId: string) =>
    (await api.request('GET', '/inspect/actors')).json<InspectJson>().actors.filter((a) => a.botId === botId).map((a) => a.kind).sort();
  const jobsOf = async (botId: string) => (await api.request('GET', `/v1/jobs?botId=${botId}`)).json<{ jobs: JobJson[] }>().jobs;

  it('removes its conversations, history, media jobs (one mid-processing), outbox, credentials and /inspect entries, and a bot created under its id starts empty', async () => {
    await runningBot(api, NEIGHBOUR);
    await api.request('POST', `/v1/bots/${NEIGHBOUR}/simulator/inbound`, { from: '1777', text: 'stay' });
    await runningBot(api, BOT);
    await api.request('POST', `/v1/bots/${BOT}/simulator/inbound`, { from: '1555', text: 'remember me' });
    await api.request('POST', `/v1/bots/${BOT}/simulator/inbound`, voiceNote('1555'));
    await api.request('POST', `/v1/bots/${BOT}/simulator/inbound`, voiceNote('gate-deleted'));
    await eventually(() => api.processor.waiting(), (n) => n === 1);
    const jobs = await eventually(() => jobsOf(BOT), (j) => j.map((x) => x.state).sort().join() === 'delivered,processing');
    await api.request('POST', `/v1/bots/${BOT}/messages`, { to: '1555', text: 'hello back' });
    await eventually(async () => (await api.request('GET', `/v1/bots/${BOT}/simulator/outbound`)).json<{ messages: unknown[] }>().messages.length, (n) => n === 1);
    await t.store.authState.set(BOT, { creds: { me: { id: 'paired-account' } }, session: { s1: 'keys' } });

    expect(await stored(BOT)).toEqual({ bots: 1, actors: 3, mediaJobs: 2, messages: 4, outbox: 1, authState: 2, counters: 2 });
    const before = await eventually(() => inspected(BOT), (kinds) => kinds.filter((k) => k === 'media-job').length === 2);
    expect(before).toEqual(['bot', 'correspondent-queue', 'correspondent-queue', 'media-job', 'media-job', 'outbox-delivery']);

    const deleted = await api.request('DELETE', `/v1/bots/${BOT}`);
    expect(deleted.statusCode).toBe(204);

    expect(await stored(BOT)).toEqual(nothing);
    expect(await inspected(BOT)).toEqual([]);
    expect(api.services.runtime.conversations.actors().filter((q) => q.botId === BOT)).toEqual([]);
    expect(api.services.runtime.bots.has(BOT)).toBe(false);
    expect((await api.request('GET', `/v1/bots/${BOT}`)).statusCode).toBe(404);
    expect(await jobsOf(BOT)).toEqual([]);
    expect((await api.request('GET', '/metrics', undefined, {})).body).not.toContain(`bot="${BOT}"`);
    expect(api.simulator.isConnected(BOT)).toBe(false);

    // The worker still holding the deleted job finishes now; its result has nowhere to go.
    api.processor.release();
    await new Promise((r) => setTimeout(r, 300));
    expect(await stored(BOT)).toEqual(nothing);
    expect(await inspected(BOT)).toEqual([]);
    expect(await t.store.mediaJobs.get(jobs.find((j) => j.state === 'processing')!.id)).toBeNull();

    const again = await api.request('POST', '/v1/bots', { id: BOT, provider: 'simulator' });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toMatchObject({ state: 'stopped', pendingMediaJobs: 0, queues: { correspondents: 0, messages: 0, placeholders: 0 } });
    expect((await api.request('GET', `/v1/bots/${BOT}/correspondents`)).json()).toEqual({ correspondents: [], nextCursor: null });
    expect((await api.request('GET', `/v1/bots/${BOT}/correspondents/1555/messages`)).statusCode).toBe(404);
    expect((await api.request('GET', `/v1/bots/${BOT}/correspondents/1555/history`)).statusCode).toBe(404);
    expect(await jobsOf(BOT)).toEqual([]);
    expect((await api.request('GET', `/v1/bots/${BOT}/outbox`)).json()).toEqual({ messages: [] });
    expect((await api.request('GET', `/v1/bots/${BOT}/simulator/outbound`)).json()).toEqual({ messages: [] });

    // The new bot numbers its conversations from 1 and its media still gets processed.
    await api.request('POST', `/v1/bots/${BOT}/start`);
    await eventually(async () => (await api.request('GET', `/v1/bots/${BOT}`)).json<{ state: string }>().state, (s) => s === 'connected');
    await api.request('POST', `/v1/bots/${BOT}/simulator/inbound`, { from: '1555', text: 'a fresh start' });
    await api.request('POST', `/v1/bots/${BOT}/simulator/inbound`, voiceNote('1555'));
    const fresh = await eventually(() => t.store.history.list(BOT, '1555'), (rows) => rows[1]?.status === 'final');
    expect(fresh.map((r) => [r.seq, r.content])).toEqual([[1, 'a fresh start'], [2, '[Voice message] text of voice']]);
    expect(await inspected(BOT)).toEqual(expect.arrayContaining(['bot', 'correspondent-queue', 'media-job']));

    // Nothing of the neighbour went with it.
    expect((await t.store.history.list(NEIGHBOUR, '1777')).map((r) => r.content)).toEqual(['stay']);
    expect((await api.request('GET', `/v1/bots/${NEIGHBOUR}`)).json()).toMatchObject({ state: 'connected', queues: { correspondents: 1, messages: 1 } });
    expect(await inspected(NEIGHBOUR)).toEqual(['bot', 'correspondent-queue']);
  });

  it('answers 404 to a second delete and to requests about the deleted bot', async () => {
    await api.request('POST', '/v1/bots', { id: 'bot-twice', provider: 'simulator' });
    expect((await api.request('DELETE', '/v1/bots/bot-twice')).statusCode).toBe(204);
    const second = await api.request('DELETE', '/v1/bots/bot-twice');
    expect(second.statusCode).toBe(404);
    expect(second.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Bot bot-twice not found' } });
    expect((await api.request('GET', '/v1/bots/bot-twice/correspondents')).statusCode).toBe(404);
  });
});
