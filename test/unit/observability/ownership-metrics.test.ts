import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.ts';
import type { MetricsSource } from '../../../src/observability/metrics.ts';
import { ownershipSummary } from '../../../src/observability/ownership-summary.ts';
import type { InstanceView } from '../../../src/ports/cluster.port.ts';

const instance = (id: string, bots: string[], self: boolean): InstanceView => ({
  id, url: `http://${id}:3000`, startedAt: new Date(1_000), seenAt: new Date(2_000), aliveUntil: new Date(17_000), capacity: null, bots, self,
});

function source(cluster: MetricsSource['cluster']): MetricsSource {
  return {
    bots: { ids: () => [], state: () => 'stopped' },
    conversations: { actors: () => [] },
    stats: { conflicts: 0, lateResultsDiscarded: 0, duplicates: 0, deadLettered: 0 },
    countJobs: async () => ({}),
    ...(cluster === undefined ? {} : { cluster }),
  };
}

describe('ownership metrics', () => {
  it('name the instance, count its leases and the live instances, and count ownership changes by kind', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let reachable = true;
    metrics.attach(source({
      instanceId: 'inst-a',
      held: () => [{ botId: 'b1', epoch: 2, leaseUntil: new Date(9_000) }, { botId: 'b2', epoch: 1, leaseUntil: new Date(9_000) }],
      instances: async () => {
        if (!reachable) throw new Error('store down');
        return [instance('inst-a', ['b1', 'b2'], true), instance('inst-b', [], false)];
      },
    }));
    metrics.onOwnership('acquired');
    metrics.onOwnership('acquired');
    metrics.onOwnership('lost');
    const text = await metrics.render();
    expect(text).toContain('parley_instance_info{instance="inst-a"} 1');
    expect(text).toContain('parley_bots_owned 2');
    expect(text).toContain('parley_instances_alive 2');
    expect(text).toContain('parley_ownership_changes_total{change="acquired"} 2');
    expect(text).toContain('parley_ownership_changes_total{change="lost"} 1');
    expect(text).toContain('parley_ownership_changes_total{change="released"} 0');

    // A store that does not answer costs the count its update, not the scrape.
    reachable = false;
    expect(await metrics.render()).toContain('parley_instances_alive 2');
  });

  it('show zeros and no instance without a cluster', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.attach(source(undefined));
    const text = await metrics.render();
    expect(text).not.toMatch(/parley_instance_info\{/);
    expect(text).toContain('parley_bots_owned 0');
    expect(text).toContain('parley_instances_alive 0');
  });
});

describe('the ownership summary /inspect shows', () => {
  it('lists this instance\'s leases by bot and the live instances without their addresses', async () => {
    const summary = await ownershipSummary({
      instanceId: 'inst-a',
      held: () => [{ botId: 'zz', epoch: 1, leaseUntil: new Date(5_000) }, { botId: 'aa', epoch: 4, leaseUntil: new Date(6_000) }],
      instances: async () => [instance('inst-a', ['aa', 'zz'], true)],
    }, 42);
    expect(summary).toEqual({
      at: 42,
      instance: 'inst-a',
      leases: [{ botId: 'aa', epoch: 4, leaseUntil: 6_000 }, { botId: 'zz', epoch: 1, leaseUntil: 5_000 }],
      instances: [{ id: 'inst-a', self: true, bots: 2, startedAt: 1_000, aliveUntil: 17_000 }],
    });
    expect(JSON.stringify(summary)).not.toContain('http://');
  });

  it('says when the store could not list the instances, and that there is no cluster without one', async () => {
    const failing = await ownershipSummary({ instanceId: 'i', held: () => [], instances: () => Promise.reject(new Error('down')) }, 1);
    expect(failing.instances).toBeNull();
    expect(await ownershipSummary(undefined, 1)).toEqual({ at: 1, instance: null, leases: [], instances: [] });
  });
});
