import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { eventually } from '../support/runtime-harness.ts';
import { runningBot, startApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';

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
  let t: TestStore;
  let api: Api;
  beforeAll(async () => {
    t = await openTestStore('parley_bot_settings');
    api = await startApi(t.store);
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  it('merges settings, resets a field given as null, and keeps what the patch does not name', async () => {
    const created = await api.request('POST', '/v1/bots', { id: 'merge', provider: 'simulator', queue: { maxMessages: 50, maxAgeDays: 3 }, ai: { enabled: false, model: 'small' }, media: { pool: 'a' } });
    expect(created.statusCode).toBe(201);
    const res = await api.request('PATCH', '/v1/bots/merge', { queue: { maxMessages: 20, maxAgeDays: null }, ai: { enabled: true }, media: null });
    expect(res.statusCode).toBe(200);
    const bot = res.json<BotJson>();
    expect(bot.settings).toEqual({ queue: { maxMessages: 20 }, ai: { enabled: true, model: 'small' } });
    expect(bot.updatedAt > created.json<BotJson>().updatedAt).toBe(true);
    expect((await api.request('GET', '/v1/bots/merge')).json<BotJson>().settings).toEqual(bot.settings);
  });

  it('applies smaller queue limits to a running conversation at once; history keeps every message', async () => {
    await runningBot(api, 'live');
    for (let i = 1; i <= 5; i++) expect((await api.request('POST', '/v1/bots/live/simulator/inbound', { from: '1555', text: `message ${i}` })).statusCode).toBe(202);
    const queue = () => api.request('GET', '/v1/bots/live/correspondents/1555/messages').then((r) => r.json<QueueJson>().messages.map((m) => m.content));
    await eventually(queue, (c) => c.length === 5);

    expect((await api.request('PATCH', '/v1/bots/live', { queue: { maxMessages: 2 } })).statusCode).toBe(200);
    expect(await queue()).toEqual(['message 4', 'message 5']);
    // A conversation that starts later takes them too.
    await api.request('POST', '/v1/bots/live/simulator/inbound', { from: '1666', text: 'hello' });
    expect((await t.store.history.list('live', '1555')).length).toBe(5);
    const stored = await t.store.actors.get('live|1666');
    expect((stored?.snapshot as { context: { limits: { maxMessages: number } } }).context.limits.maxMessages).toBe(2);
  });

  it('refuses a patch whose result is invalid with 400 naming the field, and changes nothing', async () => {
    await api.request('POST', '/v1/bots', { id: 'strict', provider: 'simulator' });
    for (const [patch, field] of [
      [{ ai: { model: 'x' } }, 'body.ai'],
      [{ queue: { maxMessages: 10_001 } }, 'body.queue.maxMessages'],
      [{ queue: { maxCharactersPerMessage: 5 } }, 'body.queue.maxCharactersPerMessage'],
      [{ media: { $where: 1 } }, 'body.media.$where'],
      [{}, 'body'],
      [{ provider: 'baileys' }, 'body'],
    ] as const) {
      const res = await api.request('PATCH', '/v1/bots/strict', patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json<ErrorJson>().error.code).toBe('VALIDATION_FAILED');
      expect(res.json<ErrorJson>().error.message.startsWith(field), res.json<ErrorJson>().error.message).toBe(true);
    }
    expect((await t.store.bots.get('strict'))?.settings).toEqual({});
    expect((await api.request('PATCH', '/v1/bots/nobody', { ai: { enabled: true } })).statusCode).toBe(404);
  });
});
