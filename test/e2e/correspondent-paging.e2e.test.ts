import { describe, expect, it } from 'vitest';
import { useApi } from './api-harness.ts';

interface Page {
  correspondents: { id: string; messages: number; lastAcceptedAt: string | null }[];
  nextCursor: string | null;
}

describe('bounded lists and counts', () => {
  const env = useApi('parley_paging', { maxBots: 3, runningBots: ['pager'] });

  it('pages a bot\'s conversations most recently active first, every conversation once', async () => {
    for (let i = 0; i < 7; i++) {
      expect((await env.api.request('POST', '/v1/bots/pager/simulator/inbound', { from: `4917${i}`, text: `hello ${i}` })).statusCode).toBe(202);
    }
    await env.api.services.runtime.conversations.flush();
    const seen: { id: string; lastAcceptedAt: string | null }[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const url = `/v1/bots/pager/correspondents?limit=3${after === null ? '' : `&after=${after}`}`;
      const res = await env.api.request('GET', url);
      expect(res.statusCode).toBe(200);
      const page = res.json<Page>();
      expect(page.correspondents.length).toBeLessThanOrEqual(3);
      seen.push(...page.correspondents);
      after = page.nextCursor;
      if (after === null) break;
    }
    // Messages within one millisecond tie; ties go by id, so the order is checked, not the exact list.
    expect(seen.map((c) => c.id).sort()).toEqual(['49170', '49171', '49172', '49173', '49174', '49175', '49176']);
    const order = seen.map((c) => [-Date.parse(c.lastAcceptedAt ?? ''), c.id] as const);
    expect(order).toEqual([...order].sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])));
    expect((await env.api.request('GET', '/v1/bots/pager/correspondents?after=bm9wZQ')).statusCode).toBe(400);
  });

  it('refuses a bot beyond MAX_BOTS with 409 LIMIT_REACHED, and takes one again after a deletion', async () => {
    for (const id of ['second', 'third']) expect((await env.api.request('POST', '/v1/bots', { id, provider: 'simulator' })).statusCode).toBe(201);
    const refused = await env.api.request('POST', '/v1/bots', { id: 'fourth', provider: 'simulator' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ error: { code: string } }>().error.code).toBe('LIMIT_REACHED');
    expect(await env.t.store.bots.get('fourth')).toBeNull();
    expect((await env.api.request('DELETE', '/v1/bots/third')).statusCode).toBe(204);
    expect((await env.api.request('POST', '/v1/bots', { id: 'fourth', provider: 'simulator' })).statusCode).toBe(201);
  });
});
