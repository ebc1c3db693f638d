import { afterAll, describe, expect, it } from 'vitest';
import { createActorDirectory } from '../../../src/observability/actor-directory.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';
import { eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { useTestStore } from '../../support/test-store.ts';
import { scriptedSender } from '../../support/webhook-receiver.ts';

describe('webhook deliveries as operators see them', () => {
  const t = useTestStore('parley_webhook_inspection');
  let h: Harness | undefined;
  afterAll(async () => {
    await h?.runtime.shutdown(200);
  });

  it('appear on /inspect by ids, event type and status, never the URL, the body or the secret; and count in the metrics', async () => {
    const receiver = scriptedSender();
    h = await startRuntime(t.store, { webhooks: { sender: receiver.sender, pollMs: 20, retryDelaysMs: [10] } });
    const directory = createActorDirectory(h.runtime.inspection);
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.attach({ bots: h.runtime.bots, conversations: h.runtime.conversations, stats: h.runtime.stats, countJobs: async () => ({}), webhooks: h.runtime.webhooks });
    const url = 'https://receiver.example/private-path?token=query-secret';
    const sub = await h.runtime.webhooks.subscribe({ url, events: ['*'] });
    receiver.answer({ outcome: 'retry', status: 503, error: 'HTTP 503', retryAfterMs: null }, { outcome: 'retry', status: 503, error: 'HTTP 503', retryAfterMs: null });
    await h.runtime.webhooks.publish({ id: 'e-visible', type: 'message.received', at: Date.now(), data: { content: 'a private message body' } });
    const entry = await eventually(() => directory.list().find((a) => a.kind === 'webhook-delivery'), (a) => a?.state === 'failed');
    expect(entry?.context).toMatchObject({ subscriptionId: sub.id, eventId: 'e-visible', eventType: 'message.received', attempt: 2, lastStatus: 503, error: 'HTTP 503' });
    const shown = JSON.stringify(entry);
    for (const hidden of ['receiver.example', 'query-secret', 'a private message body', sub.secret]) expect(shown).not.toContain(hidden);

    // The snapshot reaches the directory when the decision is made; its counted outcome follows once the write is durable.
    const exposition = await eventually(() => metrics.render(), (text) => /parley_webhook_deliveries_total\{outcome="failed"\} 1/.test(text));
    expect(exposition).toMatch(/parley_webhook_deliveries_total\{outcome="retried"\} 1/);
    expect(exposition).toMatch(/parley_webhook_deliveries_total\{outcome="failed"\} 1/);
    expect(exposition).toMatch(/parley_webhook_deliveries_total\{outcome="delivered"\} 0/);
    expect(exposition).toMatch(/parley_webhook_late_reports_discarded_total 0/);
    directory.close();
  });
});
