import { afterEach, describe, expect, it } from 'vitest';
import { faultyStore } from '../../support/faulty-store.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { eventually, startRuntime } from '../../support/runtime-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

const LEASE = { leaseMs: 800, renewMs: 100, takeoverDelayMs: 100 };
/** Every write ownership makes: the lease's, the registry's and the fence of a bot's actors. */
const WRITES = ['ownership.acquire', 'ownership.renew', 'ownership.release', 'instances.heartbeat', 'actors.fenceBot'] as const;
const BOTS = ['own-f1', 'own-f2'];

let t: TestStore | undefined;
const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) h.runtime.halt();
  await t?.dispose();
  t = undefined;
});

const connected = (h: Harness, botId: string) => h.runtime.bots.has(botId) && h.runtime.bots.state(botId) === 'connected';

async function seeded(name: string): Promise<TestStore> {
  const store = await openTestStore(name);
  const seed = await startRuntime(store.store, { instanceId: 'seed', ownership: LEASE });
  for (const id of BOTS) await seed.runtime.bots.create({ id, provider: 'test', settings: {}, desiredState: 'running' });
  // The seed stops gracefully: its leases are released for the instance under test.
  await seed.runtime.shutdown(500);
  return store;
}

describe('ownership under one transient store fault on each of its writes', () => {
  for (const at of ['before', 'after'] as const) {
    for (const label of WRITES) {
      it(`hosts every bot exactly once when ${label} fails once ${at === 'before' ? 'before reaching the store' : 'after landing'}`, async () => {
        t = await seeded(`parley_own_fault_${label.replace('.', '_')}_${at}`);
        const faulty = faultyStore(t.store);
        (at === 'before' ? faulty.failOnce : faulty.landThenFail)(label);
        const a = await startRuntime(faulty.store, { instanceId: 'a', ownership: LEASE });
        running.push(a);
        // A release happens on a handover: a second instance joining makes one.
        const b = await startRuntime(t.store, { instanceId: 'b', ownership: LEASE });
        running.push(b);
        await eventually(
          () => BOTS.map((id) => [a, b].filter((h) => connected(h, id) && h.runtime.cluster.hostsLocally(id)).length),
          (hosts) => hosts.every((n) => n === 1),
          5000,
        );
        // Settled, not a passing moment: a few rounds later still one host each, the leases agreeing.
        await new Promise((r) => setTimeout(r, 5 * LEASE.renewMs));
        for (const id of BOTS) {
          const hosts = [a, b].filter((h) => h.runtime.cluster.hostsLocally(id)).map((h) => h.runtime.cluster.instanceId);
          expect(hosts).toHaveLength(1);
          expect((await t?.store.ownership.get(id))?.owner).toBe(hosts[0]);
        }
      });
    }
  }
});
