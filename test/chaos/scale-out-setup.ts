import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { lifeOf } from './cluster-invariants.ts';
import type { Session } from './cluster-invariants.ts';
import { startCluster } from './parley-cluster.ts';
import type { InstanceView, ParleyCluster } from './parley-cluster.ts';

export const MEMBERS = ['p1', 'p2', 'p3'] as const;
/**
 * Short enough that a takeover fits a test, long enough that a loaded two-core machine renews in
 * time: a renewal is due every third of it, so a process (or the store) may stall for 2.5 s and
 * keep its bots. At 3000 ms, three busy processes on a busy machine lost leases they still wanted.
 */
export const LEASE_MS = 4500;
export const TAKEOVER_DELAY_MS = 500;
export const BOT_COUNT = 30;

/** Where the output of a failed run's processes goes, one directory per run. */
export function artifactDir(what: string): string {
  return path.resolve(import.meta.dirname, '../../test-artifacts/scale-out', `${new Date().toISOString().replace(/[:.]/g, '-')}-${what.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60)}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a value; a string return is the reason it is not there yet. */
export async function waitFor<T>(what: string, probe: () => Promise<T | string>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'never probed';
  for (;;) {
    try {
      const v = await probe();
      if (typeof v !== 'string') return v;
      last = v;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last: ${String(last)}`);
    await sleep(everyMs);
  }
}

/** Whether a session still runs: not ended, and its process neither killed nor stopped. */
export function isOpen(s: Session, cluster: ParleyCluster): boolean {
  return s.endedAt === null && lifeOf(s, cluster.lives())?.endedAt === null;
}

export interface Placement {
  /** Bot → the instance `GET /v1/instances` says hosts it. */
  readonly owners: Map<string, string>;
  readonly instances: InstanceView[];
  readonly sessions: Session[];
}

/**
 * The cluster at rest: every bot listed by exactly one instance, and running there in exactly one
 * open, connected provider session. A string says what is not so yet.
 */
export async function placement(cluster: ParleyCluster, bots: readonly string[], via?: string): Promise<Placement | string> {
  const [instances, sessions] = await Promise.all([cluster.instances(via), cluster.sessions(bots)]);
  const owners = new Map<string, string>();
  for (const instance of instances) {
    for (const bot of instance.bots) {
      if (owners.has(bot)) return `${bot} listed by ${owners.get(bot)} and ${instance.id}`;
      owners.set(bot, instance.id);
    }
  }
  for (const bot of bots) {
    const owner = owners.get(bot);
    if (owner === undefined) return `${bot} listed by no instance`;
    const open = sessions.filter((s) => s.botId === bot && isOpen(s, cluster));
    if (open.length !== 1 || open[0]!.connectedAt === null || open[0]!.instanceId !== owner) {
      return `${bot} (owner ${owner}) has open sessions ${JSON.stringify(open.map((s) => [s.instanceId, s.connectedAt]))}`;
    }
  }
  if (owners.size !== bots.length) return `instances list ${owners.size} bots, expected ${bots.length}`;
  return { owners, instances, sessions };
}

/** Waits until the cluster is at rest and balanced: no instance hosts more than one bot above another. */
export async function balanced(cluster: ParleyCluster, bots: readonly string[], timeoutMs = 20_000): Promise<Placement> {
  return waitFor('bots placed, running once each, balanced', async () => {
    const p = await placement(cluster, bots);
    if (typeof p === 'string') return p;
    const counts = p.instances.map((i) => i.bots.length);
    if (p.instances.length !== cluster.answering().length) return `instances listed: ${p.instances.map((i) => i.id).join(',')}`;
    return Math.max(...counts) - Math.min(...counts) <= 1 ? p : `unbalanced: ${p.instances.map((i) => `${i.id}=${i.bots.length}`).join(' ')}`;
  }, timeoutMs);
}

/**
 * How long after `since` each of `bots` was connected on an instance other than `from`: the
 * first such connection per bot, from the session log. Resolves once all of them are.
 */
export async function takenOver(cluster: ParleyCluster, bots: readonly string[], from: string, since: number, timeoutMs = 20_000): Promise<Map<string, number>> {
  return waitFor(`bots of ${from} connected elsewhere`, async () => {
    const sessions = await cluster.sessions(bots);
    const after = new Map<string, number>();
    for (const s of sessions) {
      if (s.instanceId === from || s.connectedAt === null || s.startedAt < since) continue;
      after.set(s.botId, Math.min(after.get(s.botId) ?? Infinity, s.connectedAt - since));
    }
    const missing = bots.filter((b) => !after.has(b));
    return missing.length === 0 ? after : `not yet: ${missing.join(',')}`;
  }, timeoutMs, 50);
}

export interface ClusterWithBotsOptions {
  readonly ids?: readonly string[];
  readonly bots?: number;
  readonly leaseMs?: number;
  readonly takeoverDelayMs?: number;
}

/**
 * Members (three by default) on a fresh database of the shared store, with simulator bots (30 by
 * default) created and started round robin through them, at rest and balanced.
 */
export async function clusterWithBots(mongoUri: string, options: ClusterWithBotsOptions = {}): Promise<{ cluster: ParleyCluster; bots: string[]; start: Placement }> {
  const ids = options.ids ?? MEMBERS;
  const cluster = await startCluster({
    env: { MONGODB_URI: mongoUri, MONGODB_DB: `parley_scale_${randomBytes(4).toString('hex')}` },
    ids,
    leaseMs: options.leaseMs ?? LEASE_MS,
    takeoverDelayMs: options.takeoverDelayMs ?? TAKEOVER_DELAY_MS,
  });
  try {
    const bots = Array.from({ length: options.bots ?? BOT_COUNT }, (_, i) => `bot-${String(i).padStart(2, '0')}`);
    await Promise.all(bots.map(async (id, i) => {
      const via = cluster.member(ids[i % ids.length]!);
      const created = await via.request('POST', '/v1/bots', { id, provider: 'simulator' });
      if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${await created.text()}`);
      const started = await via.request('POST', `/v1/bots/${id}/start`);
      if (started.status !== 202) throw new Error(`start ${id}: ${started.status} ${await started.text()}`);
    }));
    return { cluster, bots, start: await balanced(cluster, bots) };
  } catch (err) {
    // What the processes printed is the evidence of why they did not come up as a cluster.
    const saved = cluster.saveOutput(artifactDir('bring-up'));
    await cluster.close();
    throw new Error(`${err instanceof Error ? err.message : String(err)} (process output in ${saved})`, { cause: err });
  }
}
