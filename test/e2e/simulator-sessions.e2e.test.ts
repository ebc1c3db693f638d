import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatorHub } from '../../src/adapters/simulator/simulator.provider.ts';
import type { ParleyServices } from '../../src/parley-services.ts';
import { E2E_API_KEY, startProviderApp } from '../support/provider-e2e-app.ts';
import { eventually } from '../support/runtime-harness.ts';
import { testMedia } from '../support/test-media.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';

interface SessionJson {
  sessionId: string;
  instanceId: string;
  startedAt: string;
  connectedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
}

const BOT = 'sim-sessions';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The simulator routes over a hub whose world is the store: what any instance would answer. */
describe('the simulator session log over REST', () => {
  let t: TestStore;
  let app: FastifyInstance;
  let services: ParleyServices;
  const request = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${E2E_API_KEY}` }, ...(payload === undefined ? {} : { payload }) });
  const sessions = async (id = BOT) => (await request('GET', `/v1/bots/${id}/simulator/sessions`)).json<{ sessions: SessionJson[] }>().sessions;
  const state = async () => (await request('GET', `/v1/bots/${BOT}`)).json<{ state: string }>().state;

  beforeAll(async () => {
    t = await openTestStore('parley_simulator_sessions');
    const simulator = createSimulatorHub({ world: t.store.simulator, instanceId: 'instance-a' });
    ({ services, app } = await startProviderApp({
      store: t.store,
      openAiUrl: 'http://127.0.0.1:9',
      providers: { simulator: simulator.factory },
      simulator,
      media: testMedia(async () => ({ status: 'processed', text: '' })),
    }));
  });
  afterAll(async () => {
    await app?.close();
    await services?.shutdown(1000);
    await t?.dispose();
  });

  it('lists a running session with ISO times, ends it on stop, and shares what the bot sent with another instance', async () => {
    expect((await request('POST', '/v1/bots', { id: BOT, provider: 'simulator' })).statusCode).toBe(201);
    expect((await request('GET', `/v1/bots/${BOT}/simulator/sessions`)).json()).toEqual({ sessions: [] });
    await request('POST', `/v1/bots/${BOT}/start`);
    await eventually(state, (s) => s === 'connected');
    const [running] = await sessions();
    expect(running).toEqual({ sessionId: expect.any(String), instanceId: 'instance-a', startedAt: expect.stringMatching(ISO), connectedAt: expect.stringMatching(ISO), endedAt: null, endReason: null });

    expect((await request('POST', `/v1/bots/${BOT}/messages`, { to: '15550001111', text: 'hello' })).statusCode).toBe(202);
    const sent = await eventually(async () => (await request('GET', `/v1/bots/${BOT}/simulator/outbound`)).json<{ messages: { text: string }[] }>().messages, (m) => m.length === 1);
    // Another instance's hub reads the same world.
    expect(await createSimulatorHub({ world: t.store.simulator, instanceId: 'instance-b' }).outbound(BOT)).toEqual(sent);

    await request('POST', `/v1/bots/${BOT}/stop`);
    await eventually(state, (s) => s === 'stopped');
    expect(await sessions()).toEqual([{ ...running, endedAt: expect.stringMatching(ISO), endReason: 'stopped' }]);
  });

  it('starts a bot created again under a deleted id with empty logs', async () => {
    expect((await request('DELETE', `/v1/bots/${BOT}`)).statusCode).toBe(204);
    expect((await request('GET', `/v1/bots/${BOT}/simulator/sessions`)).statusCode).toBe(404);
    await request('POST', '/v1/bots', { id: BOT, provider: 'simulator' });
    expect(await sessions()).toEqual([]);
    expect((await request('GET', `/v1/bots/${BOT}/simulator/outbound`)).json()).toEqual({ messages: [] });
    expect(await t.store.simulator.outbound(BOT)).toEqual([]);
  });
});
