import { describe, expect, it } from 'vitest';
import { useApi } from './api-harness.ts';

interface ErrorJson {
  error: { code: string; message: string };
}

// With the default body limit (1 MiB), so the cap on a text is what refuses it, not the body size.
describe('inbound input caps', () => {
  const env = useApi('parley_input_caps', { runningBots: ['bot-caps'] });

  it('refuses a text or caption longer than WhatsApp allows with 400 naming it, and stores nothing', async () => {
    const big = 'x'.repeat(65_537);
    for (const [payload, field] of [
      [{ from: '1555', text: big }, 'body.text'],
      [{ from: '1555', media: { kind: 'image', mimetype: 'image/png', dataBase64: 'AAEC', caption: big } }, 'body.media.caption'],
    ] as const) {
      const res = await env.api.request('POST', '/v1/bots/bot-caps/simulator/inbound', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json<ErrorJson>().error.code).toBe('VALIDATION_FAILED');
      expect(res.json<ErrorJson>().error.message.startsWith(`${field}: `)).toBe(true);
    }
    expect(await env.t.store.history.list('bot-caps', '1555')).toEqual([]);
    const fits = await env.api.request('POST', '/v1/bots/bot-caps/simulator/inbound', { from: '1555', text: 'x'.repeat(65_536) });
    expect(fits.statusCode).toBe(202);
  });
});

describe('correspondent ids', () => {
  const env = useApi('parley_correspondent_ids', { runningBots: ['bot-ids'] });

  it('refuses a recipient or sender with spaces or control characters, and queues nothing', async () => {
    for (const id of ['   ', '1555 666', '1555\u0000', 'a\tb']) {
      const sent = await env.api.request('POST', '/v1/bots/bot-ids/messages', { to: id, text: 'hi' });
      expect(sent.statusCode, JSON.stringify(id)).toBe(400);
      expect(sent.json<ErrorJson>().error.message.startsWith('body.to')).toBe(true);
      const received = await env.api.request('POST', '/v1/bots/bot-ids/simulator/inbound', { from: id, text: 'hi' });
      expect(received.statusCode).toBe(400);
    }
    expect(await env.t.store.outbox.list({ botId: 'bot-ids' })).toEqual([]);
  });

  it('shows a message not tried yet as due from its creation, not from 1970', async () => {
    // A stopped bot holds the message, so it stays waiting for its first try.
    await env.api.request('POST', '/v1/bots', { id: 'bot-held', provider: 'simulator' });
    const sent = await env.api.request('POST', '/v1/bots/bot-held/messages', { to: '1555', text: 'hi' });
    expect(sent.statusCode).toBe(202);
    const { messages } = (await env.api.request('GET', '/v1/bots/bot-held/outbox')).json<{ messages: { nextAttemptAt: string | null; createdAt: string }[] }>();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.nextAttemptAt).toBe(messages[0]?.createdAt);
  });
});

describe('a lower text cap of this instance (INBOUND_TEXT_MAX_CHARS)', () => {
  const env = useApi('parley_text_cap', { maxInboundTextChars: 200, runningBots: ['bot-cap'] });

  it('refuses a longer simulated text or caption with 400 naming the field, and stores nothing', async () => {
    const long = 'x'.repeat(201);
    for (const [payload, field] of [
      [{ from: '1555', text: long }, 'body.text'],
      [{ from: '1555', media: { kind: 'image', mimetype: 'image/png', dataBase64: 'AAEC', caption: long } }, 'body.media.caption'],
    ] as const) {
      const res = await env.api.request('POST', '/v1/bots/bot-cap/simulator/inbound', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json<ErrorJson>().error.message.startsWith(`${field}: must not be longer than 200`)).toBe(true);
    }
    expect(await env.t.store.history.list('bot-cap', '1555')).toEqual([]);
    expect((await env.api.request('POST', '/v1/bots/bot-cap/simulator/inbound', { from: '1555', text: 'x'.repeat(200) })).statusCode).toBe(202);
  });

  it('stores a longer text a provider delivers cut, with the marker that says so', async () => {
    await env.api.services.runtime.conversations.receive('bot-cap', {
      providerMessageId: 'LONG-1', correspondentId: '1666', sender: { id: '1666', displayName: null }, group: null, originatingAt: null,
      text: 'y'.repeat(1_000), media: null,
    });
    const [row] = await env.t.store.history.list('bot-cap', '1666');
    expect(row?.content).toBe(`${'y'.repeat(200 - ' [truncated]'.length)} [truncated]`);
  });
});
