import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiReplyGenerator } from '../../src/adapters/openai/openai-reply-generator.ts';
import type { ReplyGenerator } from '../../src/ports/reply-generator.port.ts';
import { startFakeOpenAi } from '../support/fake-openai-server.ts';
import type { ChatCall, FakeCall, FakeOpenAi } from '../support/fake-openai-server.ts';
import { oggFixture } from '../support/media-fixtures.ts';
import { eventually } from '../support/runtime-harness.ts';
import { useApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';
import { useMediaApi } from './media-setup.ts';

/**
 * AI replies end to end, through REST only: the simulator's messages reach the reply actors, which
 * ask a local OpenAI-compatible server and answer through the outbox, once per burst.
 */

interface HistoryRow {
  seq: number;
  direction: string;
  source: string;
  content: string;
  status: string;
}

const BOT = 'ai-bot';
const AI = { enabled: true, debounceMs: 300, maxWaitMs: 3_000, mediaWaitMs: 10_000, typingMaxMs: 0, systemPrompt: 'Be brief.' };
const SETTLE_MS = 10_000;

let fake: FakeOpenAi;
let voice: Uint8Array;
// A slow model, for the tests that act while a reply is being generated.
let chatDelayMs = 0;

beforeAll(async () => {
  [fake, voice] = await Promise.all([startFakeOpenAi({ delayMs: () => chatDelayMs }), oggFixture()]);
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  chatDelayMs = 0;
  fake.reply('chat', (call) => `reply to: ${lastUserTurn(call)}`);
});

const chats = (): ChatCall[] => fake.calls.filter((c): c is ChatCall => c.route === 'chat');
const chatsWith = (text: string) => chats().filter((c) => c.turns.some((t) => t.content.includes(text)));
const lastUserTurn = (call: FakeCall): string => (call.route === 'chat' ? ([...call.turns].reverse().find((t) => t.role === 'user')?.content ?? '') : '');

// The fake server's URL is known only once it listens, after the API's options are collected.
let generator: ReplyGenerator | undefined;
const ctx = useMediaApi('parley_e2e_ai', () => ({ openAiUrl: fake.url }), {
  ai: {
    generator: (request, signal) => {
      generator ??= createOpenAiReplyGenerator({ apiKey: 'test-key', baseURL: fake.url, timeoutMs: 5_000 });
      return generator(request, signal);
    },
    defaultModel: 'gpt-test',
    retry: { baseMs: 100, maxMs: 200, jitter: 0 },
  },
});

beforeAll(async () => {
  const created = await ctx.api.request('POST', '/v1/bots', { id: BOT, provider: 'simulator', ai: AI });
  expect(created.statusCode).toBe(201);
  await ctx.api.request('POST', `/v1/bots/${BOT}/start`);
  await eventually(async () => (await ctx.api.request('GET', `/v1/bots/${BOT}`)).json<{ state: string }>(), (b) => b.state === 'connected');
});

const inbound = (a: Api, body: Record<string, unknown>) => a.request('POST', `/v1/bots/${BOT}/simulator/inbound`, body);
const sentTo = async (a: Api, to: string) => (await a.simulator.outbound(BOT)).filter((m) => m.to === to);
const history = async (a: Api, cid: string) => (await a.request('GET', `/v1/bots/${BOT}/correspondents/${cid}/history`)).json<{ messages: HistoryRow[] }>().messages;
const aiStatus = async (a: Api, cid: string) => (await a.request('GET', `/v1/bots/${BOT}/correspondents/${cid}/ai`)).json<Record<string, unknown>>();
/** Waits past the debounce and a reply's round trip, so a second reply would have shown up. */
const quiet = () => new Promise((resolve) => setTimeout(resolve, 1_200));

describe('AI replies', () => {
  it('answers a text with exactly one reply, in the simulator outbound and in history', async () => {
    const from = '4915550401';
    expect((await inbound(ctx.api, { from, text: 'What are your opening hours?' })).statusCode).toBe(202);
    await eventually(async () => sentTo(ctx.api, from), (sent) => sent.length >= 1, SETTLE_MS);
    await quiet();
    expect((await sentTo(ctx.api, from)).map((m) => m.text)).toEqual(['reply to: What are your opening hours?']);
    const rows = await eventually(() => history(ctx.api, from), (r) => r.some((row) => row.direction === 'outbound' && row.status === 'sent'));
    expect(rows.map((r) => [r.direction, r.source, r.content])).toEqual([
      ['inbound', 'user', 'What are your opening hours?'],
      ['outbound', 'bot', 'reply to: What are your opening hours?'],
    ]);
    const [call] = chatsWith('What are your opening hours?');
    expect(call?.model).toBe('gpt-test');
    expect(call?.turns[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(await aiStatus(ctx.api, from)).toMatchObject({ state: 'idle', sent: 1, answeredThrough: 1, lastError: null });
  });

  it('answers three texts of a burst with one reply that saw all three', async () => {
    const from = '4915550402';
    for (const text of ['Hi', 'I have a question', 'about my order']) await inbound(ctx.api, { from, text });
    await eventually(async () => sentTo(ctx.api, from), (sent) => sent.length >= 1, SETTLE_MS);
    await quiet();
    expect(await sentTo(ctx.api, from)).toHaveLength(1);
    const calls = chatsWith('about my order');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.turns.filter((t) => t.role === 'user').map((t) => t.content)).toEqual(['Hi', 'I have a question', 'about my order']);
  });

  it('answers a voice note and the text right after it with one reply whose prompt holds the transcript (race m)', async () => {
    const from = '4915550403';
    await inbound(ctx.api, { from, media: { kind: 'voice', mimetype: 'audio/ogg', dataBase64: Buffer.from(voice).toString('base64') } });
    await inbound(ctx.api, { from, text: 'see my voice note' });
    await eventually(async () => sentTo(ctx.api, from), (sent) => sent.length >= 1, SETTLE_MS);
    await quiet();
    expect(await sentTo(ctx.api, from)).toHaveLength(1);
    const calls = chatsWith('see my voice note');
    expect(calls).toHaveLength(1);
    const users = calls[0]?.turns.filter((t) => t.role === 'user').map((t) => t.content) ?? [];
    expect(users).toHaveLength(2);
    expect(users[0]).toMatch(/^\[Voice message\] transcript of [0-9a-f]{8}$/);
    expect(users[1]).toBe('see my voice note');
  });

  it('sends the bot\'s earlier replies back to the model as assistant turns', async () => {
    const from = '4915550404';
    await inbound(ctx.api, { from, text: 'first question' });
    await eventually(async () => sentTo(ctx.api, from), (sent) => sent.length >= 1, SETTLE_MS);
    await eventually(() => history(ctx.api, from), (r) => r.some((row) => row.direction === 'outbound' && row.status === 'sent'));
    await inbound(ctx.api, { from, text: 'second question' });
    await eventually(async () => sentTo(ctx.api, from), (sent) => sent.length >= 2, SETTLE_MS);
    const [call] = chatsWith('second question');
    expect(call?.turns.slice(1)).toEqual([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'reply to: first question' },
      { role: 'user', content: 'second question' },
    ]);
  });

  it('drops the reply being generated and pauses when the owner writes from the phone (race l)', async () => {
    const from = '4915550405';
    chatDelayMs = 1_000;
    await inbound(ctx.api, { from, text: 'are you a bot?' });
    await eventually(async () => chatsWith('are you a bot?'), (calls) => calls.length === 1, SETTLE_MS);
    expect((await inbound(ctx.api, { from, text: 'No, this is Anna.', fromMe: true })).statusCode).toBe(202);
    const status = await eventually(() => aiStatus(ctx.api, from), (s) => s['state'] === 'paused');
    expect(status).toMatchObject({ pausedBy: 'owner', dropped: 1, sent: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await sentTo(ctx.api, from)).toEqual([]);
    // Written during the pause: left to the human.
    await inbound(ctx.api, { from, text: 'ok thanks' });
    await quiet();
    expect(await sentTo(ctx.api, from)).toEqual([]);
    const rows = await history(ctx.api, from);
    expect(rows.map((r) => [r.direction, r.source, r.content])).toEqual([
      ['inbound', 'user', 'are you a bot?'],
      ['outbound', 'owner', 'No, this is Anna.'],
      ['inbound', 'user', 'ok thanks'],
    ]);
  });

  it('retries after the model failed with a 500 and answers once', async () => {
    const from = '4915550406';
    fake.failNext('chat', 500);
    await inbound(ctx.api, { from, text: 'retry me' });
    await eventually(async () => sentTo(ctx.api, from), (sent) => sent.length >= 1, SETTLE_MS);
    await quiet();
    expect((await sentTo(ctx.api, from)).map((m) => m.text)).toEqual(['reply to: retry me']);
    expect(chatsWith('retry me').map((c) => c.answer)).toEqual([500, 'ok']);
    expect(await aiStatus(ctx.api, from)).toMatchObject({ state: 'idle', sent: 1, failed: 0 });
  });

  it('gives up visibly when the model keeps failing, and answers the next message', async () => {
    const from = '4915550407';
    fake.failNext('chat', 500, 3);
    await inbound(ctx.api, { from, text: 'doomed' });
    const status = await eventually(() => aiStatus(ctx.api, from), (s) => s['failed'] === 1, SETTLE_MS);
    expect(status).toMatchObject({ state: 'idle', lastError: 'the model failed (HTTP 500)' });
    expect(await sentTo(ctx.api, from)).toEqual([]);
    const metrics = (await ctx.api.request('GET', '/metrics')).body;
    expect(metrics).toMatch(/parley_ai_replies_total\{outcome="failed"\} [1-9]/);
    await inbound(ctx.api, { from, text: 'try again' });
    await eventually(async () => sentTo(ctx.api, from), (sent) => sent.length >= 1, SETTLE_MS);
    expect((await sentTo(ctx.api, from)).map((m) => m.text)).toEqual(['reply to: try again']);
  });

  it('lets an operator pause and resume the AI in a conversation', async () => {
    const from = '4915550408';
    // No body: until resumed.
    const paused = await ctx.api.request('POST', `/v1/bots/${BOT}/correspondents/${from}/ai/pause`);
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ state: 'paused', pausedBy: 'operator', pausedUntil: null });
    await inbound(ctx.api, { from, text: 'anyone there?' });
    await quiet();
    expect(await sentTo(ctx.api, from)).toEqual([]);
    expect((await ctx.api.request('POST', `/v1/bots/no-such-bot/correspondents/${from}/ai/pause`)).statusCode).toBe(404);
    const timed = await ctx.api.request('POST', `/v1/bots/${BOT}/correspondents/${from}/ai/pause`, { durationMs: 60_000 });
    expect(timed.json<{ pausedUntil: number }>().pausedUntil).toBeGreaterThan(Date.now() + 50_000);
    const resumed = await ctx.api.request('POST', `/v1/bots/${BOT}/correspondents/${from}/ai/resume`);
    expect(resumed.json()).toMatchObject({ state: 'idle' });
    await inbound(ctx.api, { from, text: 'hello again' });
    await eventually(async () => sentTo(ctx.api, from), (sent) => sent.length >= 1, SETTLE_MS);
    expect((await sentTo(ctx.api, from)).map((m) => m.text)).toEqual(['reply to: hello again']);
  });

  it('shows typing before a reply and splits it on blank lines when the bot asks for both', async () => {
    const bot = 'ai-typing-bot';
    await ctx.api.request('POST', '/v1/bots', { id: bot, provider: 'simulator', ai: { ...AI, typingMaxMs: 200, splitOnBlankLines: true } });
    await ctx.api.request('POST', `/v1/bots/${bot}/start`);
    await eventually(async () => ctx.api.simulator.isConnected(bot), Boolean);
    fake.reply('chat', () => 'First paragraph.\n\nSecond paragraph.');
    await ctx.api.request('POST', `/v1/bots/${bot}/simulator/inbound`, { from: '4915550409', text: 'tell me two things' });
    await eventually(async () => ctx.api.simulator.outbound(bot), (sent) => sent.length >= 2, SETTLE_MS);
    expect((await ctx.api.simulator.outbound(bot)).map((m) => m.text)).toEqual(['First paragraph.', 'Second paragraph.']);
    const [typing] = ctx.api.simulator.presence(bot);
    expect(typing).toMatchObject({ to: '4915550409', presence: 'composing' });
    expect(typing?.at).toBeLessThanOrEqual((await ctx.api.simulator.outbound(bot))[0]?.sentAt ?? 0);
    await quiet();
    expect(await ctx.api.simulator.outbound(bot)).toHaveLength(2);
    expect(await ctx.api.request('GET', `/v1/bots/${bot}/correspondents/4915550409/ai`).then((r) => r.json<Record<string, unknown>>())).toMatchObject({ state: 'idle', sent: 1 });
  });

  it('stays quiet in group chats unless the bot answers groups', async () => {
    await inbound(ctx.api, { from: '4915550410', group: '120363000000000001@g.us', text: 'hello group' });
    await quiet();
    expect(await sentTo(ctx.api, '120363000000000001@g.us')).toEqual([]);
    expect(chatsWith('hello group')).toEqual([]);
  });

  it('refuses AI settings whose maximum wait is below the debounce', async () => {
    const res = await ctx.api.request('PATCH', `/v1/bots/${BOT}`, { ai: { debounceMs: 5_000, maxWaitMs: 1_000 } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});

describe('AI replies without an OpenAI key', () => {
  const plain = useApi('parley_e2e_ai_nokey');

  it('accepts the setting but sends nothing, and the conversation goes on', async () => {
    await plain.api.request('POST', '/v1/bots', { id: 'nokey-bot', provider: 'simulator', ai: { enabled: true, debounceMs: 0 } });
    await plain.api.request('POST', '/v1/bots/nokey-bot/start');
    await eventually(async () => plain.api.simulator.isConnected('nokey-bot'), Boolean);
    const res = await plain.api.request('POST', '/v1/bots/nokey-bot/simulator/inbound', { from: '4915550411', text: 'hello?' });
    expect(res.statusCode).toBe(202);
    await quiet();
    expect(await plain.api.simulator.outbound('nokey-bot')).toEqual([]);
    const status = (await plain.api.request('GET', '/v1/bots/nokey-bot/correspondents/4915550411/ai')).json<Record<string, unknown>>();
    expect(status).toMatchObject({ state: 'idle', sent: 0 });
  });
});
