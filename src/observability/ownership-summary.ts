import type { Cluster } from '../ports/cluster.port.ts';

/** This instance's leases and the live instances, as `/inspect` shows them (times in epoch ms). */
export interface OwnershipSummary {
  readonly at: number;
  /** This instance's id; null for a single instance run without a cluster. */
  readonly instance: string | null;
  /** The leases this instance holds, by bot id. */
  readonly leases: ReadonlyArray<{ readonly botId: string; readonly epoch: number; readonly leaseUntil: number }>;
  /** The live instances, oldest first; null when the store could not say. */
  readonly instances: ReadonlyArray<{ readonly id: string; readonly self: boolean; readonly bots: number; readonly startedAt: number; readonly aliveUntil: number }> | null;
}

/**
 * What the inspector shows of ownership: ids, epochs, expiries and counts. Instance URLs stay out:
 * the read-only inspector key need not learn the cluster's internal addresses.
 */
export async function ownershipSummary(cluster: Pick<Cluster, 'instanceId' | 'held' | 'instances'> | undefined, now: number): Promise<OwnershipSummary> {
  if (cluster === undefined) return { at: now, instance: null, leases: [], instances: [] };
  const leases = cluster.held()
    .map((lease) => ({ botId: lease.botId, epoch: lease.epoch, leaseUntil: lease.leaseUntil.getTime() }))
    .sort((a, b) => (a.botId < b.botId ? -1 : a.botId > b.botId ? 1 : 0));
  const instances = await cluster.instances().then(
    (list) => list.map((i) => ({ id: i.id, self: i.self, bots: i.bots.length, startedAt: i.startedAt.getTime(), aliveUntil: i.aliveUntil.getTime() })),
    () => null,
  );
  return { at: now, instance: cluster.instanceId, leases, instances };
}
