import { selectMongo } from '../src/adapters/mongodb/store-selection.ts';
import { converse, phonesFor } from '../test/chaos/cluster-phones.ts';
import type { Route } from '../test/chaos/cluster-phones.ts';
import type { ParleyCluster } from '../test/chaos/parley-cluster.ts';
import { LEASE_MS, TAKEOVER_DELAY_MS, clusterWithBots, takenOver } from '../test/chaos/scale-out-setup.ts';
import { line, logger, median, storeOutsideThisHeap } from './support.ts';

// Scale-out, measured in one run on one store: inbound throughput of 1 vs 3 Parley processes
// (real child processes, as in production), and how long a SIGKILLed or stopped instance's bots
// stay down. Leases are as short as the chaos tests use, so what is printed beyond lease + delay
// is the cost of the takeover itself.
const BOTS = 30;
const CORRESPONDENTS = 4;
const PER_PHONE = 5;
const ROUNDS = 3;

let round = 0;
/** Inbound messages per second: every phone texts at once, each message only after the previous one was acknowledged. */
async function inboundRate(cluster: ParleyCluster, bots: readonly string[], route?: Route): Promise<number> {
  // Fresh correspondents every round: each conversation grows from empty, as in a cold run.
  const phones = phonesFor(bots, CORRESPONDENTS, 100 * ++round);
  const t0 = performance.now();
  await converse(cluster, phones, PER_PHONE, route);
  return (phones.length * PER_PHONE) / ((performance.now() - t0) / 1000);
}

async function rounds(cluster: ParleyCluster, bots: readonly string[], route?: Route): Promise<number> {
  await inboundRate(cluster, bots, route);
  const rates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) rates.push(await inboundRate(cluster, bots, route));
  return median(rates);
}

const mongo = await selectMongo({ uri: process.env['MONGODB_URI'] || undefined, memoryServer: process.env['MONGODB_MEMORY_SERVER'] === 'off' ? 'off' : 'auto', logger });
// As mongod runs: the bundled store in a process of its own, not on this load generator's thread.
const apart = mongo.kind === 'bundled' ? await storeOutsideThisHeap() : undefined;
const uri = apart?.uri ?? mongo.uri;
console.log(`\nscale-out on the ${apart === undefined ? mongo.description : 'bundled store in its own process'}; ${BOTS} simulator bots, ${BOTS * CORRESPONDENTS} phones x ${PER_PHONE} texts per round, median of ${ROUNDS} after a warm-up:`);
try {
  const single = await clusterWithBots(uri, { ids: ['solo'], bots: BOTS });
  let one: number;
  try {
    one = await rounds(single.cluster, single.bots);
  } finally {
    await single.cluster.close();
  }
  line('inbound over HTTP, 1 instance', `${one.toFixed(0)} msg/s`);

  const { cluster, bots, start } = await clusterWithBots(uri, { bots: BOTS });
  try {
    // Each text to the instance that owns its bot, as a provider's socket delivers it; then to any
    // instance, which forwards it to the owner.
    const toOwner = await rounds(cluster, bots, (phone) => start.owners.get(phone.botId));
    const anywhere = await rounds(cluster, bots);
    line('inbound over HTTP, 3 instances, each to its owner', `${toOwner.toFixed(0)} msg/s`);
    line('  ratio 3 instances / 1 instance', `${(toOwner / one).toFixed(2)}`);
    line('inbound over HTTP, 3 instances, through any (forwarded)', `${anywhere.toFixed(0)} msg/s`);
    line('  ratio 3 instances through any / 1 instance', `${(anywhere / one).toFixed(2)}`);

    const victim = 'p2';
    const victimBots = bots.filter((b) => start.owners.get(b) === victim);
    const killedAt = await cluster.kill(victim);
    const crash = [...(await takenOver(cluster, victimBots, victim, killedAt, 60_000)).values()];
    line(`takeover after SIGKILL, ${victimBots.length} bots (lease ${LEASE_MS} ms + delay ${TAKEOVER_DELAY_MS} ms)`, `${Math.max(...crash)} ms`);
    line('  first bot connected elsewhere', `${Math.min(...crash)} ms`);
    line('  slowest beyond lease + delay', `${Math.max(...crash) - LEASE_MS - TAKEOVER_DELAY_MS} ms`);

    const leaving = 'p3';
    const leavingBots = (await cluster.instances()).find((i) => i.id === leaving)?.bots ?? [];
    const { sentAt } = await cluster.terminate(leaving);
    const graceful = [...(await takenOver(cluster, leavingBots, leaving, sentAt, 60_000)).values()];
    line(`handover after SIGTERM, ${leavingBots.length} bots`, `${Math.max(...graceful)} ms`);
  } finally {
    await cluster.close();
  }
} finally {
  apart?.stop();
  await mongo.close();
}
