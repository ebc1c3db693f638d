import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { botInState, runningBot, startApi, voiceNote } from './api-harness.ts';
import type { Api } from './api-harness.ts';

interface ErrorJson {
  error: { code: string; message: string };
}
interface QueueJson {
  messages: { id: number; content: string; source: string; mediaJobId: string | null; providerMessageId: string | null }[];
}
interface HistoryJson {
  messages: { seq: number; content: string; status: string; direction: string; mediaJobId: string | null; providerMessageId: string | null }[];
}
interface JobJson {
  id: string;
  botId: string;
  correspondentId: string;
  kind: string;
  state: string;
  attempt: number;
  error: string | null;
}


describe('REST control plane', () => {
  let t: TestStore;
  let api: Api;
  beforeAll(async () => {
    t = await openTestStore('parley_api');
    api = await startApi(t.store, { bodyLimit: 16 * 1024 });
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  describe('bots', () => {
    it('creates a stopped bot with its settings, lists it and shows it with state and counts', async () => {
      const created = await api.request('POST', '/v1/bots', {
        id: 'bot-a', provider: 'simulator', queue: { maxMessages: 50 }, ai: { enabled: true, model: 'gpt-x', systemPrompt: 'be kind' }, media: { kinds: ['voice', 'image'], language: 'pt-BR' },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        id: 'bot-a', provider: 'simulator', state: 'stopped', desiredState: 'stopped', pendingMediaJobs: 0,
        queues: { correspondents: 0, messages: 0, placeholders: 0 },
        settings: { queue: { maxMessages: 50 }, ai: { enabled: true, model: 'gpt-x', systemPrompt: 'be kind' }, media: { kinds: ['voice', 'image'], language: 'pt-BR' } },
      });
      expect(created.json<{ createdAt: string }>().createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      const list = await api.request('GET', '/v1/bots');
      expect(list.statusCode).toBe(200);
      expect(list.json<{ bots: { id: string }[] }>().bots.map((b) => b.id)).toContain('bot-a');
      const one = await api.request('GET', '/v1/bots/bot-a');
      expect(one.statusCode).toBe(200);
      expect(one.json()).toMatchObject({ id: 'bot-a', state: 'stopped', desiredState: 'stopped' });
      expect(await t.store.bots.get('bot-a')).toMatchObject({ settings: { queue: { maxMessages: 50 } } });
    });

    it('answers 409 BOT_EXISTS when the bot id exists', async () => {
      await api.request('POST', '/v1/bots', { id: 'bot-dup', provider: 'simulator' });
      const again = await api.request('POST', '/v1/bots', { id: 'bot-dup', provider: 'simulator' });
      expect(again.statusCode).toBe(409);
      expect(again.json<ErrorJson>().error).toEqual({ code: 'BOT_EXISTS', message: 'Bot bot-dup already exists' });
    });

    it.each<[string, Record<string, unknown>, RegExp]>([
      ['a missing id', { provider: 'simulator' }, /^body\.id: must have required property 'id'$/],
      ['an id with capitals', { id: 'Bot_A', provider: 'simulator' }, /^body\.id: must match pattern/],
      ['an unknown field', { id: 'bot-x', provider: 'simulator', colour: 'red' }, /^body\.colour: must NOT have additional properties$/],
      ['an unknown provider', { id: 'bot-x', provider: 'telegram' }, /^body\.provider: /],
      ['a provider this process does not run', { id: 'bot-x', provider: 'cloud-api' }, /^body\.provider: provider cloud-api is not available/],
      ['a zero queue limit', { id: 'bot-x', provider: 'simulator', queue: { maxMessages: 0 } }, /^body\.queue\.maxMessages: /],
      ['an AI setting without enabled', { id: 'bot-x', provider: 'simulator', ai: { model: 'm' } }, /^body\.ai\.enabled: must have required property 'enabled'$/],
    ])('refuses %s with 400 VALIDATION_FAILED naming the field', async (_label, payload, message) => {
      const res = await api.request('POST', '/v1/bots', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json<ErrorJson>().error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(message) });
    });

    it.each<[string, 'GET' | 'POST' | 'DELETE', string, unknown]>([
      ['show', 'GET', '/v1/bots/ghost', undefined],
      ['start', 'POST', '/v1/bots/ghost/start', undefined],
      ['stop', 'POST', '/v1/bots/ghost/stop', undefined],
      ['delete', 'DELETE', '/v1/bots/ghost', undefined],
      ['QR', 'GET', '/v1/bots/ghost/qr', undefined],
      ['pairing code', 'POST', '/v1/bots/ghost/pairing-code', { phoneNumber: '+4915550000' }],
      ['correspondents', 'GET', '/v1/bots/ghost/correspondents', undefined],
      ['queue', 'GET', '/v1/bots/ghost/correspondents/1555/messages', undefined],
      ['history', 'GET', '/v1/bots/ghost/correspondents/1555/history', undefined],
      ['send', 'POST', '/v1/bots/ghost/messages', { to: '1555', text: 'hi' }],
      ['outbox', 'GET', '/v1/bots/ghost/outbox', undefined],
      ['simulator inbound', 'POST', '/v1/bots/ghost/simulator/inbound', { from: '1555', text: 'hi' }],
      ['simulator outbound', 'GET', '/v1/bots/ghost/simulator/outbound', undefined],
    ])('answers 404 NOT_FOUND for %s of an unknown bot', async (_label, method, url, payload) => {
      const res = await api.request(method, url, payload);
      expect(res.statusCode).toBe(404);
      expect(res.json<ErrorJson>().error).toEqual({ code: 'NOT_FOUND', message: 'Bot ghost not found' });
    });

    it('starts a bot in the background (202) and reports it connected', async () => {
      await api.request('POST', '/v1/bots', { id: 'bot-start', provider: 'simulator' });
      const started = await api.request('POST', '/v1/bots/bot-start/start');
      expect(started.statusCode).toBe(202);
      expect(started.json()).toMatchObject({ id: 'bot-start', desiredState: 'running' });
      await botInState(api, 'bot-start', 'connected');
      const stopped = await api.request('POST', '/v1/bots/bot-start/stop');
      expect(stopped.statusCode).toBe(200);
      expect(stopped.json()).toMatchObject({ state: 'stopped', desiredState: 'stopped' });
    });

    it('refuses QR and pairing code for the simulator with 409 NOT_SUPPORTED_BY_PROVIDER', async () => {
      await api.request('POST', '/v1/bots', { id: 'bot-noqr', provider: 'simulator' });
      const qr = await api.request('GET', '/v1/bots/bot-noqr/qr');
      expect(qr.statusCode).toBe(409);
      expect(qr.json<ErrorJson>().error.code).toBe('NOT_SUPPORTED_BY_PROVIDER');
      const pairing = await api.request('POST', '/v1/bots/bot-noqr/pairing-code', { phoneNumber: '+4915550000' });
      expect(pairing.statusCode).toBe(409);
      expect(pairing.json<ErrorJson>().error.code).toBe('NOT_SUPPORTED_BY_PROVIDER');
    });

    it('serves the QR a provider published and its pairing code', async () => {
      await runningBot(api, 'bot-wa', 'baileys');
      expect((await api.request('GET', '/v1/bots/bot-wa/qr')).json()).toEqual({ qr: null, dataUrl: null, expiresAt: null });
      await api.request('POST', '/v1/bots/bot-wa/stop');
      api.whatsapp.needScan('bot-wa', 'QR-DATA-1');
      await api.request('POST', '/v1/bots/bot-wa/start');
      await botInState(api, 'bot-wa', 'awaiting-qr');
      expect((await api.request('GET', '/v1/bots/bot-wa/qr')).json()).toEqual({ qr: 'QR-DATA-1', dataUrl: expect.stringMatching(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/), expiresAt: null });
      const pairing = await api.request('POST', '/v1/bots/bot-wa/pairing-code', { phoneNumber: '+4915550123' });
      expect(pairing.statusCode).toBe(200);
      expect(pairing.json()).toEqual({ code: 'PAIR-0123' });
      const bad = await api.request('POST', '/v1/bots/bot-wa/pairing-code', { phoneNumber: 'call me' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json<ErrorJson>().error.message).toMatch(/^body\.phoneNumber: /);
    });

    it('refuses a pairing code while the bot is not running with 409 BOT_NOT_RUNNING', async () => {
      await api.request('POST', '/v1/bots', { id: 'bot-unpaired', provider: 'baileys' });
      const pairing = await api.request('POST', '/v1/bots/bot-unpaired/pairing-code', { phoneNumber: '+4915550123' });
      expect(pairing.statusCode).toBe(409);
      expect(pairing.json<ErrorJson>().error).toEqual({ code: 'BOT_NOT_RUNNING', message: 'Bot bot-unpaired is not running; start it first' });
    });

    it('refuses the simulator routes for a bot on another provider with 409 NOT_SUPPORTED_BY_PROVIDER', async () => {
      await api.request('POST', '/v1/bots', { id: 'bot-real', provider: 'baileys' });
      const inbound = await api.request('POST', '/v1/bots/bot-real/simulator/inbound', { from: '1555', text: 'hi' });
      expect(inbound.statusCode).toBe(409);
      expect(inbound.json<ErrorJson>().error.code).toBe('NOT_SUPPORTED_BY_PROVIDER');
      const outbound = await api.request('GET', '/v1/bots/bot-real/simulator/outbound');
      expect(outbound.statusCode).toBe(409);
      expect(outbound.json<ErrorJson>().error.code).toBe('NOT_SUPPORTED_BY_PROVIDER');
    });

    it('deletes a bot (stopping it first) with its history, and frees the id', async () => {
      await runningBot(api, 'bot-del');
      await api.request('POST', '/v1/bots/bot-del/simulator/inbound', { from: '1555', text: 'remember me' });
      const deleted = await api.request('DELETE', '/v1/bots/bot-del');
      expect(deleted.statusCode).toBe(204);
      expect(deleted.body).toBe('');
      expect((await api.request('GET', '/v1/bots/bot-del')).statusCode).toBe(404);
      expect((await api.request('GET', '/v1/bots')).json<{ bots: { id: string }[] }>().bots.map((b) => b.id)).not.toContain('bot-del');
      expect(await t.store.actors.get('bot-del')).toBeNull();
      expect(await t.store.history.list('bot-del', '1555')).toEqual([]);
      expect(api.simulator.isConnected('bot-del')).toBe(false);
      expect((await api.request('POST', '/v1/bots', { id: 'bot-del', provider: 'simulator' })).statusCode).toBe(201);
    });
  });

  describe('conversations', () => {
    beforeAll(async () => {
      await runningBot(api, 'bot-chat', 'simulator', { queue: { maxMessages: 3 } });
    });

    it('stores an inbound text in history before answering, and shows it in the live queue', async () => {
      const res = await api.request('POST', '/v1/bots/bot-chat/simulator/inbound', { from: '4915550001', text: 'hello', displayName: 'Ann' });
      expect(res.statusCode).toBe(202);
      const { messageId } = res.json<{ messageId: string }>();
      expect(messageId).toMatch(/^SIM-/);
      const rows = await t.store.history.list('bot-chat', '4915550001');
      expect(rows.map((r) => [r.seq, r.content, r.status, r.direction, r.providerMessageId])).toEqual([[1, 'hello', 'final', 'inbound', messageId]]);
      const queue = await eventually(
        async () => (await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550001/messages')).json<QueueJson>(),
        (q) => q.messages.length === 1,
      );
      expect(queue.messages[0]).toMatchObject({ id: 1, content: 'hello', source: 'user', mediaJobId: null, providerMessageId: messageId, sender: { id: '4915550001', displayName: 'Ann' } });
      const history = await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550001/history');
      expect(history.statusCode).toBe(200);
      expect(history.json<HistoryJson>().messages).toEqual([
        expect.objectContaining({ seq: 1, content: 'hello', status: 'final', direction: 'inbound', source: 'user', kind: 'text', mediaJobId: null, finalizedAt: expect.any(String) }),
      ]);
    });

    it('stores a replayed message (same providerMessageId) once', async () => {
      const first = await api.request('POST', '/v1/bots/bot-chat/simulator/inbound', { from: '4915550002', text: 'once', providerMessageId: 'WA-REPLAY-1' });
      const second = await api.request('POST', '/v1/bots/bot-chat/simulator/inbound', { from: '4915550002', text: 'once', providerMessageId: 'WA-REPLAY-1' });
      expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
      expect(second.json()).toEqual({ messageId: 'WA-REPLAY-1' });
      const history = (await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550002/history')).json<HistoryJson>();
      expect(history.messages.map((m) => m.providerMessageId)).toEqual(['WA-REPLAY-1']);
      const queue = await eventually(async () => (await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550002/messages')).json<QueueJson>(), (q) => q.messages.length > 0);
      expect(queue.messages).toHaveLength(1);
    });

    it('keeps the live window to the bot\'s queue limit while history keeps everything, paged with limit and beforeSeq', async () => {
      for (const text of ['m1', 'm2', 'm3', 'm4', 'm5']) await api.request('POST', '/v1/bots/bot-chat/simulator/inbound', { from: '4915550003', text });
      const queue = await eventually(
        async () => (await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550003/messages')).json<QueueJson>(),
        (q) => q.messages.at(-1)?.content === 'm5',
      );
      expect(queue.messages.map((m) => m.content)).toEqual(['m3', 'm4', 'm5']);
      const all = (await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550003/history')).json<HistoryJson>();
      expect(all.messages.map((m) => m.content)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      const page = (await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550003/history?limit=2&beforeSeq=4')).json<HistoryJson>();
      expect(page.messages.map((m) => m.seq)).toEqual([2, 3]);
      const bad = await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550003/history?limit=0');
      expect(bad.statusCode).toBe(400);
      expect(bad.json<ErrorJson>().error.message).toMatch(/^querystring\.limit: /);
    });

    it('lists the bot\'s correspondents with their counts', async () => {
      const res = await api.request('GET', '/v1/bots/bot-chat/correspondents');
      expect(res.statusCode).toBe(200);
      const list = res.json<{ correspondents: { id: string; messages: number; characters: number; placeholders: number; lastAcceptedAt: string | null }[] }>().correspondents;
      expect(list.map((c) => c.id).sort()).toEqual(['4915550001', '4915550002', '4915550003']);
      expect(list.find((c) => c.id === '4915550003')).toMatchObject({ messages: 3, characters: 6, placeholders: 0, lastAcceptedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
    });

    it('leaves a bot\'s updatedAt alone when it is started while running or stopped while stopped', async () => {
      const first = (await api.request('POST', '/v1/bots/bot-chat/start')).json<{ updatedAt: string; state: string }>();
      const again = (await api.request('POST', '/v1/bots/bot-chat/start')).json<{ updatedAt: string; state: string }>();
      expect(again).toMatchObject({ state: 'connected', updatedAt: first.updatedAt });
    });

    it('answers 404 for the queue and the history of a correspondent the bot never heard from', async () => {
      for (const what of ['messages', 'history']) {
        const res = await api.request('GET', `/v1/bots/bot-chat/correspondents/nobody/${what}`);
        expect(res.statusCode).toBe(404);
        expect(res.json<ErrorJson>().error.code).toBe('NOT_FOUND');
      }
      // An empty page of a conversation that exists is a page.
      const past = await api.request('GET', '/v1/bots/bot-chat/correspondents/4915550001/history?beforeSeq=1');
      expect(past.statusCode).toBe(200);
      expect(past.json<{ messages: unknown[] }>().messages).toEqual([]);
    });

    it('validates simulated messages and names the field', async () => {
      const both = await api.request('POST', '/v1/bots/bot-chat/simulator/inbound', { from: '1', text: 'x', media: voiceNote('1').media });
      expect(both.statusCode).toBe(400);
      expect(both.json<ErrorJson>().error.message).toMatch(/^body\.text: exactly one of text and media is required$/);
      const badBase64 = await api.request('POST', '/v1/bots/bot-chat/simulator/inbound', { from: '1', media: { kind: 'image', mimetype: 'image/png', dataBase64: '@@@' } });
      expect(badBase64.statusCode).toBe(400);
      expect(badBase64.json<ErrorJson>().error.message).toMatch(/^media\.dataBase64: /);
      const noFrom = await api.request('POST', '/v1/bots/bot-chat/simulator/inbound', { text: 'x' });
      expect(noFrom.json<ErrorJson>().error.message).toBe("body.from: must have required property 'from'");
    });

    it('refuses inbound messages for a stopped simulator bot with 409 CONFLICT', async () => {
      await api.request('POST', '/v1/bots', { id: 'bot-idle', provider: 'simulator' });
      const res = await api.request('POST', '/v1/bots/bot-idle/simulator/inbound', { from: '1555', text: 'anyone?' });
      expect(res.statusCode).toBe(409);
      expect(res.json<ErrorJson>().error.code).toBe('CONFLICT');
    });
  });

  describe('media', () => {
    it('accepts corrupt simulator media with no data (202), a download that fails', async () => {
      await runningBot(api, 'bot-corrupt');
      for (const media of [{ kind: 'document', mimetype: 'application/pdf' }, { kind: 'image', mimetype: 'image/png', dataBase64: '' }]) {
        const res = await api.request('POST', '/v1/bots/bot-corrupt/simulator/inbound', { from: 'c-1', media, corrupt: true });
        expect(res.statusCode).toBe(202);
      }
      const rows = await eventually(() => t.store.history.list('bot-corrupt', 'c-1'), (r) => r.length === 2);
      expect(rows.map((r) => r.kind)).toEqual(['document', 'image']);
    });

    it('turns simulator media into a placeholder with a job, then finalizes it in place', async () => {
      await runningBot(api, 'bot-media');
      const res = await api.request('POST', '/v1/bots/bot-media/simulator/inbound', voiceNote('gate-1', { providerMessageId: 'WA-V1' }));
      expect(res.statusCode).toBe(202);
      const [row] = await t.store.history.list('bot-media', 'gate-1');
      expect(row).toMatchObject({ seq: 1, status: 'placeholder', kind: 'voice', mediaJobId: expect.any(String) });
      const queue = await eventually(async () => (await api.request('GET', '/v1/bots/bot-media/correspondents/gate-1/messages')).json<QueueJson>(), (q) => q.messages.length === 1);
      expect(queue.messages[0]).toMatchObject({ id: 1, mediaJobId: row!.mediaJobId, providerMessageId: 'WA-V1' });
      const jobs = (await api.request('GET', '/v1/jobs?botId=bot-media')).json<{ jobs: JobJson[] }>().jobs;
      expect(jobs).toEqual([{
        id: row!.mediaJobId, botId: 'bot-media', correspondentId: 'gate-1', messageId: row!.seq, kind: 'voice', mimetype: 'audio/ogg', pool: 'media', sizeBytes: 4,
        state: expect.stringMatching(/pending|processing/), statePath: expect.stringMatching(/pending|processing/), attempt: expect.any(Number), error: null,
        createdAt: expect.any(String), updatedAt: expect.any(String),
      }]);
      expect((await api.request('GET', '/v1/bots/bot-media')).json()).toMatchObject({ pendingMediaJobs: 1, queues: { correspondents: 1, messages: 1, placeholders: 1 } });

      await eventually(() => api.processor.waiting(), (n) => n === 1);
      api.processor.release();
      const final = await eventually(async () => (await api.request('GET', '/v1/bots/bot-media/correspondents/gate-1/messages')).json<QueueJson>(), (q) => q.messages[0]?.mediaJobId === null);
      expect(final.messages[0]!.content).toBe('[Voice message] text of voice');
      const history = (await api.request('GET', '/v1/bots/bot-media/correspondents/gate-1/history')).json<HistoryJson>();
      expect(history.messages).toMatchObject([{ seq: 1, status: 'final', content: '[Voice message] text of voice' }]);
      await eventually(async () => (await api.request('GET', '/v1/bots/bot-media')).json<{ pendingMediaJobs: number }>(), (b) => b.pendingMediaJobs === 0);
      const delivered = (await api.request('GET', '/v1/jobs?botId=bot-media&state=delivered')).json<{ jobs: JobJson[] }>().jobs;
      expect(delivered.map((j) => j.id)).toEqual([row!.mediaJobId]);
    });

    it('keeps the queue and its placeholder across a bot stop and start, and finalizes it after the start', async () => {
      await runningBot(api, 'bot-pause');
      await api.request('POST', '/v1/bots/bot-pause/simulator/inbound', { from: 'gate-2', text: 'before the voice note' });
      await api.request('POST', '/v1/bots/bot-pause/simulator/inbound', voiceNote('gate-2'));
      await eventually(() => api.processor.waiting(), (n) => n === 1);

      const stopped = await api.request('POST', '/v1/bots/bot-pause/stop');
      expect(stopped.json()).toMatchObject({ state: 'stopped', desiredState: 'stopped', pendingMediaJobs: 1, queues: { correspondents: 1, messages: 2, placeholders: 1 } });
      const held = (await api.request('GET', '/v1/jobs?botId=bot-pause')).json<{ jobs: JobJson[] }>().jobs;
      expect(held.map((j) => j.state)).toEqual(['holding']);
      const queue = (await api.request('GET', '/v1/bots/bot-pause/correspondents/gate-2/messages')).json<QueueJson>();
      expect(queue.messages.map((m) => [m.content, m.mediaJobId !== null])).toEqual([['before the voice note', false], [expect.stringMatching(/^\[Voice message\]/), true]]);

      await api.request('POST', '/v1/bots/bot-pause/start');
      await botInState(api, 'bot-pause', 'connected');
      api.processor.release();
      const final = await eventually(
        async () => (await api.request('GET', '/v1/bots/bot-pause/correspondents/gate-2/messages')).json<QueueJson>(),
        (q) => q.messages.every((m) => m.mediaJobId === null),
      );
      expect(final.messages.map((m) => m.content)).toEqual(['before the voice note', '[Voice message] text of voice']);
    });

    it('retries a failed job on request (202) and refuses to retry one that is not failed (409)', async () => {
      await runningBot(api, 'bot-retry');
      api.processor.failing.add('broken-1');
      await api.request('POST', '/v1/bots/bot-retry/simulator/inbound', voiceNote('broken-1'));
      const [failed] = await eventually(
        async () => (await api.request('GET', '/v1/jobs?botId=bot-retry&state=failed')).json<{ jobs: JobJson[] }>().jobs,
        (jobs) => jobs.length === 1,
      );
      expect(failed).toMatchObject({ state: 'failed', attempt: 1, error: 'processor exploded', correspondentId: 'broken-1' });
      const note = await eventually(() => t.store.history.list('bot-retry', 'broken-1'), (rows) => rows[0]?.status === 'failed');
      expect(note[0]!.content).toMatch(/^\[Voice message\]/);

      api.processor.failing.delete('broken-1');
      const retried = await api.request('POST', `/v1/jobs/${failed!.id}/retry`);
      expect(retried.statusCode).toBe(202);
      expect(retried.json()).toMatchObject({ id: failed!.id, state: expect.stringMatching(/pending|processing|completed|delivered/) });
      await eventually(async () => (await api.request('GET', '/v1/jobs?botId=bot-retry')).json<{ jobs: JobJson[] }>().jobs[0]?.state, (s) => s === 'delivered');
      const rows = await eventually(() => t.store.history.list('bot-retry', 'broken-1'), (r) => r[0]?.status === 'final');
      expect(rows[0]!.content).toBe('[Voice message] text of voice');

      const again = await api.request('POST', `/v1/jobs/${failed!.id}/retry`);
      expect(again.statusCode).toBe(409);
      expect(again.json<ErrorJson>().error).toEqual({ code: 'JOB_NOT_RETRYABLE', message: `Media job ${failed!.id} is delivered; only failed jobs can be retried` });
      const missing = await api.request('POST', '/v1/jobs/no-such-job/retry');
      expect(missing.statusCode).toBe(404);
      const badFilter = await api.request('GET', '/v1/jobs?state=lost');
      expect(badFilter.statusCode).toBe(400);
      expect(badFilter.json<ErrorJson>().error.message).toMatch(/^querystring\.state: /);
    });
  });

  describe('outbound', () => {
    it('queues a message (202) and sends it through the simulator', async () => {
      await runningBot(api, 'bot-out');
      const res = await api.request('POST', '/v1/bots/bot-out/messages', { to: '4915550009', text: 'hi from the bot' });
      expect(res.statusCode).toBe(202);
      const { id, state } = res.json<{ id: string; state: string }>();
      expect(state).toBe('pending');
      const sent = await eventually(async () => (await api.request('GET', '/v1/bots/bot-out/simulator/outbound')).json<{ messages: { to: string; text: string }[] }>(), (o) => o.messages.length === 1);
      expect(sent.messages[0]).toMatchObject({ to: '4915550009', text: 'hi from the bot', providerMessageId: expect.stringMatching(/^SIM-OUT-/) });
      const outbox = await eventually(async () => (await api.request('GET', '/v1/bots/bot-out/outbox')).json<{ messages: { id: string; state: string }[] }>(), (o) => o.messages[0]?.state === 'sent');
      expect(outbox.messages).toMatchObject([{ id, state: 'sent', attempt: 1, lastError: null }]);
    });

    it('holds messages while the bot is stopped and sends them once it is connected', async () => {
      await api.request('POST', '/v1/bots', { id: 'bot-later', provider: 'simulator' });
      const queued = await api.request('POST', '/v1/bots/bot-later/messages', { to: '1555', text: 'wait for me' });
      expect(queued.json<{ state: string }>().state).toBe('holding');
      await new Promise((r) => setTimeout(r, 120));
      expect((await api.request('GET', '/v1/bots/bot-later/outbox')).json<{ messages: { state: string }[] }>().messages[0]!.state).toBe('holding');
      await api.request('POST', '/v1/bots/bot-later/start');
      await eventually(async () => (await api.request('GET', '/v1/bots/bot-later/simulator/outbound')).json<{ messages: unknown[] }>().messages.length, (n) => n === 1);
    });

    it('retries a failed send with backoff, then fails it for good after the last retry', async () => {
      await runningBot(api, 'bot-flaky', 'baileys');
      api.whatsapp.failSendsTo('flaky', 2);
      api.whatsapp.failSendsTo('gone', Number.POSITIVE_INFINITY);
      await api.request('POST', '/v1/bots/bot-flaky/messages', { to: 'flaky', text: 'third time lucky' });
      await api.request('POST', '/v1/bots/bot-flaky/messages', { to: 'gone', text: 'never arrives' });
      const outbox = await eventually(
        async () => (await api.request('GET', '/v1/bots/bot-flaky/outbox')).json<{ messages: { to: string; state: string; attempt: number; lastError: string | null }[] }>(),
        (o) => o.messages.every((m) => m.state === 'sent' || m.state === 'failed'),
      );
      expect(outbox.messages.find((m) => m.to === 'flaky')).toMatchObject({ state: 'sent', attempt: 3 });
      expect(outbox.messages.find((m) => m.to === 'gone')).toMatchObject({ state: 'failed', attempt: 4, lastError: 'network down for gone' });
      expect(api.whatsapp.sent.filter((s) => s.botId === 'bot-flaky').map((s) => s.text)).toEqual(['third time lucky']);
      const failedOnly = (await api.request('GET', '/v1/bots/bot-flaky/outbox?state=failed')).json<{ messages: { to: string }[] }>();
      expect(failedOnly.messages.map((m) => m.to)).toEqual(['gone']);
    });

    it('refuses a send without text, naming the field', async () => {
      const res = await api.request('POST', '/v1/bots/bot-out/messages', { to: '1555' });
      expect(res.statusCode).toBe(400);
      expect(res.json<ErrorJson>().error).toEqual({ code: 'VALIDATION_FAILED', message: "body.text: must have required property 'text'" });
    });
  });

  describe('operations', () => {
    it('exposes the named Prometheus metrics', async () => {
      const res = await api.request('GET', '/metrics', undefined, {});
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.body;
      expect(text).toMatch(/^parley_bots\{state="connected"\} [1-9]\d*$/m);
      expect(text).toMatch(/^parley_bots\{state="stopped"\} \d+$/m);
      expect(text).toMatch(/^parley_queue_messages\{bot="bot-chat"\} 5$/m);
      expect(text).toMatch(/^parley_queue_placeholders\{bot="bot-chat"\} 0$/m);
      expect(text).toMatch(/^parley_queues_resident [1-9]\d*$/m);
      expect(text).toMatch(/^parley_media_staged_bytes \d+$/m);
      expect(text).toMatch(/^parley_media_pool_concurrency\{pool="media"\} 4$/m);
      expect(text).toMatch(/^parley_media_pool_running\{pool="media"\} \d+$/m);
      expect(text).toMatch(/^parley_media_jobs\{state="delivered"\} [1-9]\d*$/m);
      expect(text).toMatch(/^parley_media_jobs\{state="failed"\} \d+$/m);
      for (const histogram of ['pickup', 'processing', 'end_to_end']) {
        expect(text).toMatch(new RegExp(`^parley_media_job_${histogram}_seconds_count [1-9]\\d*$`, 'm'));
        expect(text).toMatch(new RegExp(`^parley_media_job_${histogram}_seconds_bucket\\{le="0.1"\\} \\d+$`, 'm'));
      }
      expect(text).toMatch(/^parley_late_results_discarded_total \d+$/m);
      expect(text).toMatch(/^parley_store_write_conflicts_total \d+$/m);
      expect(text).toMatch(/^parley_inbound_duplicates_total [1-9]\d*$/m);
      expect(text).toMatch(/^parley_outbox_sent_total [1-9]\d*$/m);
      expect(text).toMatch(/^parley_outbox_failed_total [1-9]\d*$/m);
    });
  });
});
