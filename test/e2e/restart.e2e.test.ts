import { describe, expect, it } from 'vitest';
import { createSimulatorHub } from '../../src/adapters/simulator/simulator.provider.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createParleyServices } from '../../src/parley-services.ts';
import { eventually } from '../support/runtime-harness.ts';
import { useTestStore } from '../support/test-store.ts';
import { botInState, runningBot, startApi } from './api-harness.ts';
import { testMedia } from '../support/test-media.ts';

interface QueueJson {
  messages: { content: string }[];
}
interface CorrespondentsJson {
  correspondents: { id: string; messages: number; characters: number; placeholders: number; lastAcceptedAt: string | null }[];
}

describe('Parley restarting over the same store', () => {
  const t = useTestStore('parley_api_restart');

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

  it('lists the correspondents and queue counts an earlier process persisted, before any message arrives', async () => {
    const first = await startApi(t.store);
    await runningBot(first, 'bot-list');
    for (const [from, text] of [['1555', 'one'], ['1555', 'two'], ['1666', 'three']] as const) {
      await first.request('POST', '/v1/bots/bot-list/simulator/inbound', { from, text });
    }
    await first.request('POST', '/v1/bots/bot-list/stop');
    const listed = (await first.request('GET', '/v1/bots/bot-list/correspondents')).json<CorrespondentsJson>();
    expect(listed.correspondents.map((c) => [c.id, c.messages, c.characters])).toEqual([['1666', 1, 5], ['1555', 2, 6]]);
    await first.close();

    // A process that has not loaded a single queue yet reads them from the store.
    const cold = createParleyServices({
      store: t.store, providers: { simulator: createSimulatorHub().factory }, media: testMedia(async () => ({ status: 'processed', text: '' })),
      logger: createLogger('silent'), metrics: { defaultMetrics: false },
    });
    expect(cold.runtime.conversations.actors()).toEqual([]);
    expect(JSON.parse(JSON.stringify(await cold.controlPlane.correspondents('bot-list')))).toEqual(listed);
    expect(await cold.controlPlane.getBot('bot-list')).toMatchObject({ state: 'stopped', queues: { correspondents: 2, messages: 3, placeholders: 0 } });
    expect((await cold.controlPlane.queueMessages('bot-list', '1555')).messages.map((m) => m.content)).toEqual(['one', 'two']);
    expect((await cold.controlPlane.listBots()).bots.find((b) => b.id === 'bot-list')).toMatchObject({ queues: { correspondents: 2, messages: 3 } });
    expect(cold.runtime.conversations.actors()).toEqual([]);

    const second = await startApi(t.store);
    try {
      expect((await second.request('GET', '/v1/bots/bot-list/correspondents')).json()).toEqual(listed);
      expect((await second.request('GET', '/v1/bots/bot-list')).json()).toMatchObject({ state: 'stopped', queues: { correspondents: 2, messages: 3, placeholders: 0 } });
    } finally {
      await second.close();
    }
  });
});
