import { describe, expect, it } from 'vitest';
import type { MediaProcessor } from '../../src/ports/media-processor.port.ts';
import { eventually } from '../support/runtime-harness.ts';
import { testMedia } from '../support/test-media.ts';
import { runningBot, useApi, voiceNote } from './api-harness.ts';

interface ErrorJson {
  error: { code: string; message: string };
}
interface JobJson {
  id: string;
  pool: string | null;
  state: string;
}

// The configured pools run `test`; a bot's own pools may name the real processor names.
const echo: MediaProcessor = async (m) => ({ status: 'processed', text: `default pool saw ${m.kind}` });
const held: (() => void)[] = [];
const media = {
  ...testMedia(echo),
  processors: {
    test: echo,
    noop: async (m: { language: string | null }) => ({ status: 'processed' as const, text: m.language === null ? 'own pool' : `own pool (${m.language})` }),
    // Holds its job until the test lets go, so a job can be caught waiting in a pool.
    document: (m: { kind: string }, signal: AbortSignal) =>
      new Promise<{ status: 'processed'; text: string }>((resolve, reject) => {
        held.push(() => resolve({ status: 'processed', text: `held ${m.kind}` }));
        signal.addEventListener('abort', () => reject(new Error('stopped')));
      }),
    unsupported: async () => ({ status: 'unreadable' as const, reason: 'not here' }),
  },
};
const jobsOf = async (api: ReturnType<typeof useApi>['api'], botId: string) =>
  (await api.request('GET', `/v1/jobs?botId=${botId}`)).json<{ jobs: JobJson[] }>().jobs;
const queue = async (api: ReturnType<typeof useApi>['api'], botId: string, from: string) =>
  (await api.request('GET', `/v1/bots/${botId}/correspondents/${from}/messages`)).json<{ messages: { content: string }[] }>().messages.map((m) => m.content);

describe('a bot\'s own media pools (PATCH /v1/bots/:id media.pools)', () => {
  const env = useApi('parley_bot_media_pools', { media });

  it('refuses pools that could not route with 400 listing every problem, and keeps the settings', async () => {
    await env.api.request('POST', '/v1/bots', { id: 'strict-pools', provider: 'simulator' });
    const res = await env.api.request('PATCH', '/v1/bots/strict-pools', {
      media: {
        pools: [
          { name: 'voice', kinds: ['voice'], processor: 'noop', concurrency: 1 },
          { name: 'voice', kinds: ['image'], processor: 'noop', concurrency: 1 },
          { name: 'also-voice', kinds: ['voice'], processor: 'noop', concurrency: 1 },
        ],
      },
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json<ErrorJson>();
    expect(error.code).toBe('VALIDATION_FAILED');
    for (const problem of [
      'pool "voice" is defined more than once',
      'route voice * is claimed by both "voice" and "also-voice"',
      'no catch-all pool (one with no kinds and no mime types) for media nothing else accepts',
    ]) expect(error.message).toContain(problem);
    const unknown = await env.api.request('PATCH', '/v1/bots/strict-pools', { media: { pools: [{ name: 'all', processor: 'teleport', concurrency: 1 }] } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json<ErrorJson>().error.message).toMatch(/^body\.media\.pools\.0\.processor/);
    expect((await env.t.store.bots.get('strict-pools'))?.settings).toEqual({});
  });

  it('routes the bot\'s media to its own pools and the others\' to the configured ones', async () => {
    await runningBot(env.api, 'own-pools', 'simulator', { media: { pools: [{ name: 'everything', processor: 'noop', concurrency: 2 }] } });
    await runningBot(env.api, 'default-pools');
    for (const bot of ['own-pools', 'default-pools']) expect((await env.api.request('POST', `/v1/bots/${bot}/simulator/inbound`, voiceNote('1555'))).statusCode).toBe(202);
    expect(await eventually(() => queue(env.api, 'own-pools', '1555'), (c) => c.length === 1 && !c[0]!.includes('processing'))).toEqual(['[Voice message] own pool']);
    expect(await eventually(() => queue(env.api, 'default-pools', '1555'), (c) => c.length === 1 && !c[0]!.includes('processing'))).toEqual(['[Voice message] default pool saw voice']);
    expect((await jobsOf(env.api, 'own-pools')).map((j) => j.pool)).toEqual(['own-pools/everything']);
    expect((await jobsOf(env.api, 'default-pools')).map((j) => j.pool)).toEqual(['media']);
  });

  it('hands the bot\'s language hint to its processors, and a changed hint to the next message', async () => {
    await runningBot(env.api, 'speaks', 'simulator', { media: { language: 'pt-BR', pools: [{ name: 'all', processor: 'noop', concurrency: 1 }] } });
    await env.api.request('POST', '/v1/bots/speaks/simulator/inbound', voiceNote('1555', { providerMessageId: 'L-1' }));
    await eventually(() => queue(env.api, 'speaks', '1555'), (c) => c.length === 1 && !c[0]!.includes('processing'));
    await env.api.request('PATCH', '/v1/bots/speaks', { media: { language: 'de' } });
    await env.api.request('POST', '/v1/bots/speaks/simulator/inbound', voiceNote('1555', { providerMessageId: 'L-2' }));
    expect(await eventually(() => queue(env.api, 'speaks', '1555'), (c) => c.length === 2 && !c[1]!.includes('processing'))).toEqual([
      '[Voice message] own pool (pt-BR)',
      '[Voice message] own pool (de)',
    ]);
  });

  it('moves jobs still waiting to the pools that serve them after a change, and back to the configured ones when removed', async () => {
    await runningBot(env.api, 'repooled', 'simulator', { media: { pools: [{ name: 'slow', processor: 'document', concurrency: 1 }] } });
    for (const n of [1, 2]) await env.api.request('POST', '/v1/bots/repooled/simulator/inbound', voiceNote('1555', { providerMessageId: `V-${n}` }));
    // One job runs in the pool of concurrency 1, the other waits behind it.
    await eventually(() => held.length, (n) => n === 1);
    expect((await jobsOf(env.api, 'repooled')).map((j) => j.pool)).toEqual(['repooled/slow', 'repooled/slow']);

    const patched = await env.api.request('PATCH', '/v1/bots/repooled', { media: { pools: null } });
    expect(patched.statusCode, patched.body).toBe(200);
    // The waiting job moved to the configured pools; the running one finishes where it started.
    await eventually(() => jobsOf(env.api, 'repooled'), (jobs) => jobs.some((j) => j.pool === 'media' && j.state === 'delivered'));
    held.splice(0).forEach((release) => release());
    const contents = await eventually(() => queue(env.api, 'repooled', '1555'), (c) => c.every((x) => !x.includes('processing')));
    expect(contents.sort()).toEqual(['[Voice message] default pool saw voice', '[Voice message] held voice']);
  });
});
