import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { runningBot, startApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';

interface ErrorJson {
  error: { code: string; message: string };
}

// With the default body limit (25 MB), so the cap on a text is what refuses it, not the body size.
describe('inbound input caps', () => {
  let t: TestStore;
  let api: Api;
  beforeAll(async () => {
    t = await openTestStore('parley_input_caps');
    api = await startApi(t.store);
    await runningBot(api, 'bot-caps');
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  it('refuses a text or caption longer than WhatsApp allows with 400 naming it, and stores nothing', async () => {
    const big = 'x'.repeat(65_537);
    for (const [payload, field] of [
      [{ from: '1555', text: big }, 'body.text'],
      [{ from: '1555', media: { kind: 'image', mimetype: 'image/png', dataBase64: 'AAEC', caption: big } }, 'body.media.caption'],
    ] as const) {
      const res = await api.request('POST', '/v1/bots/bot-caps/simulator/inbound', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json<ErrorJson>().error.code).toBe('VALIDATION_FAILED');
      expect(res.json<ErrorJson>().error.message.startsWith(`${field}: `)).toBe(true);
    }
    expect(await t.store.history.list('bot-caps', '1555')).toEqual([]);
    const fits = await api.request('POST', '/v1/bots/bot-caps/simulator/inbound', { from: '1555', text: 'x'.repeat(65_536) });
    expect(fits.statusCode).toBe(202);
  });
});
