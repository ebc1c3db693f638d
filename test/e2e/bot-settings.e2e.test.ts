import { describe, expect, it } from 'vitest';
import { eventually } from '../support/runtime-harness.ts';
import { runningBot, useApi, voiceNote } from './api-harness.ts';

interface ErrorJson {
  error: { code: string; message: string };
}
interface BotJson {
  settings?: { queue?: Record<string, number>; ai?: Record<string, unknown>; media?: Record<string, unknown> };
  updatedAt: string;
}
interface QueueJson {
  messages: { content: string }[];
}

describe('PATCH /v1/bots/:id', () => {
  const env = useApi('parley_bot_settings');

  it('merges settings, resets a field given as null, and keeps what the patch does not name', async () => {
    const created = await env.api.request('POST', '/v1/bots', { id: 'merge', provider: 'simulator', queue: { maxMessages: 50, maxAgeDays: 3 }, ai: { enabled: false, model: 'small' }, media: { language: 'de' } });
    expect(created.statusCode).toBe(201);
    const res = await env.api.request('PATCH', '/v1/bots/merge', { queue: { maxMessages: 20, maxAgeDays: null }, ai: { enabled: true }, media: null });
    expect(res.statusCode).toBe(200);
    const bot = res.json<BotJson>();
    expect(bot.settings).toEqual({ queue: { maxMessages: 20 }, ai: { enabled: true, model: 'small' } });
    expect(bot.updatedAt > created.json<BotJson>().updatedAt).toBe(true);
    expect((await env.api.request('GET', '/v1/bots/merge')).json<BotJson>().settings).toEqual(bot.settings);
  });

  it('applies smaller queue limits to a running conversation at once; history keeps every message', async () => {
    await runningBot(env.api, 'live');
    for (let i = 1; i <= 5; i++) expect((await env.api.request('POST', '/v1/bots/live/simulator/inbound', { from: '1555', text: `message ${i}` })).statusCode).toBe(202);
    const queue = () => env.api.request('GET', '/v1/bots/live/correspondents/1555/messages').then((r) => r.json<QueueJson>().messages.map((m) => m.content));
    await eventually(queue, (c) => c.length === 5);

    expect((await env.api.request('PATCH', '/v1/bots/live', { queue: { maxMessages: 2 } })).statusCode).toBe(200);
    expect(await queue()).toEqual(['message 4', 'message 5']);
    // A conversation that starts later takes them too.
    await env.api.request('POST', '/v1/bots/live/simulator/inbound', { from: '1666', text: 'hello' });
    expect((await env.t.store.history.list('live', '1555')).length).toBe(5);
    const stored = await env.t.store.actors.get('live|1666');
    expect((stored?.snapshot as { context: { limits: { maxMessages: number } } }).context.limits.maxMessages).toBe(2);
  });

  it('refuses a patch whose result is invalid with 400 naming the field, and changes nothing', async () => {
    await env.api.request('POST', '/v1/bots', { id: 'strict', provider: 'simulator' });
    for (const [patch, field] of [
      [{ ai: { model: 'x' } }, 'body.ai'],
      [{ queue: { maxMessages: 10_001 } }, 'body.queue.maxMessages'],
      [{ queue: { maxCharactersPerMessage: 5 } }, 'body.queue.maxCharactersPerMessage'],
      [{ media: { $where: 1 } }, 'body.media.$where'],
      [{}, 'body'],
      [{ provider: 'baileys' }, 'body'],
    ] as const) {
      const res = await env.api.request('PATCH', '/v1/bots/strict', patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json<ErrorJson>().error.code).toBe('VALIDATION_FAILED');
      expect(res.json<ErrorJson>().error.message.startsWith(field), res.json<ErrorJson>().error.message).toBe(true);
    }
    expect((await env.t.store.bots.get('strict'))?.settings).toEqual({});
    expect((await env.api.request('PATCH', '/v1/bots/nobody', { ai: { enabled: true } })).statusCode).toBe(404);
  });
});

describe('bot media settings', () => {
  const env = useApi('parley_media_settings');

  it('knows its keys: an unknown key or a bad value is refused with 400 naming it, on create and patch alike', async () => {
    await env.api.request('POST', '/v1/bots', { id: 'known', provider: 'simulator' });
    for (const [method, url, body, field] of [
      ['POST', '/v1/bots', { id: 'unknown-key', provider: 'simulator', media: { apiKey: 'sk-live-1' } }, 'body.media.apiKey'],
      ['POST', '/v1/bots', { id: 'bad-kind', provider: 'simulator', media: { kinds: ['voice', 'hologram'] } }, 'body.media.kinds.1'],
      ['POST', '/v1/bots', { id: 'twice', provider: 'simulator', media: { kinds: ['voice', 'voice'] } }, 'body.media.kinds'],
      ['POST', '/v1/bots', { id: 'bad-language', provider: 'simulator', media: { language: 'german language' } }, 'body.media.language'],
      ['POST', '/v1/bots', { id: 'long-language', provider: 'simulator', media: { language: `de${'-abcdefgh'.repeat(10)}` } }, 'body.media.language'],
      ['PATCH', '/v1/bots/known', { media: { pools: [{ name: 'voice' }] } }, 'body.media.pools.0.processor'],
      ['PATCH', '/v1/bots/known', { media: { pools: [{ name: 'all', processor: 'noop', concurrency: 1, apiKey: 'x' }] } }, 'body.media.pools.0.apiKey'],
      ['PATCH', '/v1/bots/known', { media: { nested: { deeper: {} } } }, 'body.media.nested'],
    ] as const) {
      const res = await env.api.request(method, url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json<ErrorJson>().error.code).toBe('VALIDATION_FAILED');
      expect(res.json<ErrorJson>().error.message.startsWith(`${field}: `), res.json<ErrorJson>().error.message).toBe(true);
    }
    expect((await env.api.request('GET', '/v1/bots/unknown-key')).statusCode).toBe(404);
    expect((await env.t.store.bots.get('known'))?.settings).toEqual({});
    const patched = await env.api.request('PATCH', '/v1/bots/known', { media: { kinds: ['document'], language: 'pt-BR' } });
    expect(patched.json<BotJson>().settings).toEqual({ media: { kinds: ['document'], language: 'pt-BR' } });
    // Merge patch: an array is replaced whole, a field set to null goes, an emptied section goes.
    expect((await env.api.request('PATCH', '/v1/bots/known', { media: { kinds: ['voice', 'audio'] } })).json<BotJson>().settings).toEqual({ media: { kinds: ['voice', 'audio'], language: 'pt-BR' } });
    expect((await env.api.request('PATCH', '/v1/bots/known', { media: { kinds: null, language: null } })).json<BotJson>().settings).toEqual({});
  });

  it('applies kinds live: after a PATCH a media message of an excluded kind is a note without a job, and back again', async () => {
    await runningBot(env.api, 'picky');
    expect((await env.api.request('PATCH', '/v1/bots/picky', { media: { kinds: ['image'] } })).statusCode).toBe(200);
    expect((await env.api.request('POST', '/v1/bots/picky/simulator/inbound', voiceNote('1555', { providerMessageId: 'V1' }))).statusCode).toBe(202);
    const [note] = await env.t.store.history.list('picky', '1555');
    expect(note).toMatchObject({
      seq: 1, kind: 'voice', status: 'final', mediaJobId: null,
      content: '[Voice message] (could not be processed: media of this kind is not processed for this bot)',
    });
    const queue = await eventually(() => env.api.request('GET', '/v1/bots/picky/correspondents/1555/messages').then((r) => r.json<QueueJson>().messages), (m) => m.length === 1);
    expect(queue[0]?.content).toBe(note?.content);
    expect((await env.api.request('GET', '/v1/jobs?botId=picky')).json<{ jobs: unknown[] }>().jobs).toEqual([]);

    expect((await env.api.request('PATCH', '/v1/bots/picky', { media: { kinds: null } })).statusCode).toBe(200);
    expect((await env.api.request('POST', '/v1/bots/picky/simulator/inbound', voiceNote('1555', { providerMessageId: 'V2' }))).statusCode).toBe(202);
    const rows = await env.t.store.history.list('picky', '1555');
    expect(rows[1]).toMatchObject({ seq: 2, kind: 'voice', status: 'placeholder', mediaJobId: expect.any(String) });
    expect((await env.api.request('GET', '/v1/jobs?botId=picky')).json<{ jobs: { id: string }[] }>().jobs.map((j) => j.id)).toEqual([rows[1]?.mediaJobId]);
  });

  it('still loads and lists a bot stored with free-form media; the unknown keys are never shown and go at the next write', async () => {
    let deep: Record<string, unknown> = { end: true };
    for (let i = 0; i < 40; i++) deep = { deeper: deep };
    const now = new Date();
    await env.t.store.bots.create({ id: 'legacy', provider: 'simulator', desiredState: 'stopped', settings: { queue: { maxMessages: 30 }, media: { apiKey: 'sk-live-legacy', kinds: ['voice'], language: 12, deep } } }, now);
    const list = await env.api.request('GET', '/v1/bots');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain('sk-live-legacy');
    expect(list.json<{ bots: ({ id: string } & BotJson)[] }>().bots.find((b) => b.id === 'legacy')?.settings).toEqual({ queue: { maxMessages: 30 }, media: { kinds: ['voice'] } });
    const one = await env.api.request('GET', '/v1/bots/legacy');
    expect(one.statusCode).toBe(200);
    expect(one.body).not.toContain('sk-live-legacy');

    const patched = await env.api.request('PATCH', '/v1/bots/legacy', { queue: { maxMessages: 20 } });
    expect(patched.statusCode).toBe(200);
    expect((await env.t.store.bots.get('legacy'))?.settings).toEqual({ queue: { maxMessages: 20 }, media: { kinds: ['voice'] } });
  });
});
