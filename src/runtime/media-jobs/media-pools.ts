import { isMediaKind } from '../../domain/media-kind.ts';
import { resolvePool } from '../../domain/media-routing.ts';
import type { MediaPoolRoute, MediaRouteKey } from '../../domain/media-routing.ts';
import type { Logger } from '../../logging/logger.ts';
import type { MediaJobRecord, MediaJobStore } from '../../ports/media-job-store.port.ts';
import type { MediaProcessor, MediaProcessors } from '../../ports/media-processor.port.ts';

/** A pool's running worker, as pools need it. */
export interface PoolWorker {
  start(): void;
  wake(): void;
  halt(): void;
  stop(graceMs?: number): Promise<void>;
  retire(): Promise<void>;
  stats(): { running: number; queued: number };
}

export interface MediaPoolsDeps {
  /** Pools every bot uses unless it has its own (validated by the caller). */
  readonly defaults: readonly MediaPoolRoute[];
  readonly processors: MediaProcessors;
  readonly jobs: MediaJobStore;
  /** One worker claiming the jobs routed to `poolId`. */
  readonly createWorker: (poolId: string, pool: MediaPoolRoute) => PoolWorker;
  readonly logger: Logger;
}

interface RunningPool {
  readonly route: MediaPoolRoute;
  readonly worker: PoolWorker;
}

// Jobs are created with a media kind; a stored kind no release knows routes like any unknown media.
const routeKey = (job: MediaJobRecord): MediaRouteKey | null => (isMediaKind(job.kind) ? { kind: job.kind, mimetype: job.mimetype } : null);

/** Id of a bot's own pool: apart from the default pool of the same name. */
export const botPoolId = (botId: string, name: string): string => `${botId}/${name}`;

/**
 * The worker pools: the default ones, and a bot's own when its settings give it pools. A job is
 * routed when it is created and stores its pool's id; each pool runs its own worker (a p-queue of
 * its concurrency) claiming only its jobs from the shared media work queue, fairly across bots.
 */
export function createMediaPools(deps: MediaPoolsDeps) {
  const log = deps.logger.child({ scope: 'media-pools' });
  const pools = new Map<string, RunningPool>();
  const botPools = new Map<string, readonly MediaPoolRoute[]>();
  // Workers of removed pools finishing what they run; a shutdown still waits for (or halts) them.
  const retiring = new Map<PoolWorker, Promise<void>>();
  let running = false;

  const add = (poolId: string, route: MediaPoolRoute): void => {
    const worker = deps.createWorker(poolId, route);
    pools.set(poolId, { route, worker });
    if (running) worker.start();
  };
  for (const route of deps.defaults) add(route.name, route);

  /** The pool id a job of this bot and media goes to. */
  function route(botId: string, key: MediaRouteKey): string {
    const own = botPools.get(botId);
    const chosen = resolvePool(own ?? deps.defaults, key);
    // Pools are validated to have a catch-all, so a miss means none was configured at all.
    if (chosen === null) throw new Error(`no media pool accepts ${key.kind} ${key.mimetype}`);
    return own === undefined ? chosen.name : botPoolId(botId, chosen.name);
  }

  /** Points the bot's unclaimed jobs at the pools that now serve them. */
  async function reroute(botId: string): Promise<number> {
    let moved = 0;
    for (const job of await deps.jobs.list({ botId, states: ['pending', 'holding'] })) {
      const key = routeKey(job);
      const poolId = key === null ? null : route(botId, key);
      if (poolId !== null && poolId !== job.pool && (await deps.jobs.assignPool(job.id, job.version, poolId))) moved += 1;
    }
    return moved;
  }

  return {
    route,

    /** The processor of a pool; `null` when the pool is gone (its bot's pools changed meanwhile). */
    processorFor(poolId: string): MediaProcessor | null {
      const pool = pools.get(poolId);
      return pool === undefined ? null : (deps.processors[pool.route.processor] ?? null);
    },

    /** Looks for work in one pool now (a job was just routed to it). */
    wake(poolId: string): void {
      pools.get(poolId)?.worker.wake();
    },
    wakeAll(): void {
      for (const pool of pools.values()) pool.worker.wake();
    },

    /**
     * Gives a bot its own pools (`undefined`: the defaults again). Workers of pools it no longer has
     * finish what they run; its unclaimed jobs move to the pools that now serve them.
     */
    async setBotPools(botId: string, routes: readonly MediaPoolRoute[] | undefined): Promise<void> {
      const before = botPools.get(botId);
      if (JSON.stringify(before) === JSON.stringify(routes)) return;
      if (routes === undefined) botPools.delete(botId);
      else botPools.set(botId, routes);
      for (const old of before ?? []) {
        const id = botPoolId(botId, old.name);
        const pool = pools.get(id);
        pools.delete(id);
        // What it runs finishes and reports as usual; it claims nothing more.
        if (pool !== undefined) retiring.set(pool.worker, pool.worker.retire().finally(() => retiring.delete(pool.worker)));
      }
      for (const fresh of routes ?? []) add(botPoolId(botId, fresh.name), fresh);
      const moved = await reroute(botId);
      if (moved > 0) log.info({ botId, moved }, 'media jobs moved to the bot\'s new pools');
      for (const fresh of routes ?? []) pools.get(botPoolId(botId, fresh.name))?.worker.wake();
      if (routes === undefined) this.wakeAll();
    },

    /**
     * Unclaimed jobs routed to a pool that no longer exists (pools renamed in the configuration
     * while the jobs waited) move to the pools that serve them now.
     */
    async rerouteStranded(): Promise<number> {
      const stranded = await deps.jobs.list({ states: ['pending', 'holding'], outsidePools: [...pools.keys()] });
      let moved = 0;
      for (const job of stranded) {
        const key = routeKey(job);
        if (key !== null && (await deps.jobs.assignPool(job.id, job.version, route(job.botId, key)))) moved += 1;
      }
      if (moved > 0) log.warn({ moved }, 'media jobs of pools no longer configured moved to current pools');
      return moved;
    },

    start(): void {
      running = true;
      for (const pool of pools.values()) pool.worker.start();
    },
    halt(): void {
      running = false;
      for (const worker of [...[...pools.values()].map((p) => p.worker), ...retiring.keys()]) worker.halt();
    },
    async stop(graceMs?: number): Promise<void> {
      running = false;
      await Promise.all([...[...pools.values()].map((p) => p.worker), ...retiring.keys()].map((w) => w.stop(graceMs)));
    },
    /** Jobs running and queued in this process, per pool. */
    stats(): Record<string, { running: number; queued: number; concurrency: number }> {
      return Object.fromEntries([...pools].map(([id, p]) => [id, { ...p.worker.stats(), concurrency: p.route.concurrency }]));
    },
  };
}

export type MediaPools = ReturnType<typeof createMediaPools>;
