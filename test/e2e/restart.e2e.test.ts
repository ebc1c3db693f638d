import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { botInState, runningBot, startApi } from './api-harness.ts';

interface QueueJson {
  messages: { content: string }[];
}

describe('Parley restarting over the same store', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await openTestStore('parley_api_restart');
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('restarts the bots that were running, leaves stopped ones stopped, and keeps queues and queue limits', async () => {
    const first = await startApi(t.store);
    await runningBot(first, 'bot-on', 'simulator', { queue: { maxMessages: 2 } });
    await first.request('POST', '/v1/bots', { id: 'bot-off', provider: 'simulator' });
    await first.request('POST', '/v1/bots/bot-on/simulator/inbound', { from: '1555', text: 'before the restart' });
    await first.close();

    const second = await startApi(t.store);
    try {
      await botInState(second, 'bot-on', 'connected');
      expect((await second.request('GET', '/v1/bots/bot-off')).json()).toMatchObject({ state: 'stopped', desiredState: 'stopped' });
      const kept = (await second.request('GET', '/v1/bots/bot-on/correspondents/1555/messages')).json<QueueJson>();
      expect(kept.messages.map((m) => m.content)).toEqual(['before the restart']);

      // A conversation started after the restart gets the bot's configured limit too.
      for (const text of ['a', 'b', 'c']) await second.request('POST', '/v1/bots/bot-on/simulator/inbound', { from: '1666', text });
      const window = await eventually(
        async () => (await second.request('GET', '/v1/bots/bot-on/correspondents/1666/messages')).json<QueueJson>(),
        (q) => q.messages.at(-1)?.content === 'c',
      );
      expect(window.messages.map((m) => m.content)).toEqual(['b', 'c']);
    } finally {
      await second.close();
    }
  });
});
