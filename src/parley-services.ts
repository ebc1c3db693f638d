import { createBotQueueLimits } from './control-plane/bot-queue-limits.ts';
import { createBotMediaKinds } from './control-plane/bot-media-kinds.ts';
import { createControlPlane } from './control-plane/control-plane.ts';
import { poolsOf } from './control-plane/bot-settings.ts';
import { createMetrics } from './observability/metrics.ts';
import type { MetricsOptions } from './observability/metrics.ts';
import { createParleyRuntime } from './runtime/parley-runtime.ts';
import type { RuntimeDeps } from './runtime/parley-runtime.ts';
import type { SimulatorControl } from './control-plane/simulator-control.ts';

export interface ParleyServicesDeps extends Omit<RuntimeDeps, 'limitsFor' | 'mediaKindsFor' | 'languageFor' | 'hooks'> {
  /** Most bots the control plane lets exist. */
  readonly maxBots?: number;
  readonly simulator?: SimulatorControl;
  readonly metrics?: MetricsOptions;
}

/**
 * Everything behind the REST API, wired once for `main.ts` and tests alike: the queue limits of
 * every bot (new conversations start with them), the runtime on a metrics-instrumented store, the
 * Prometheus registry and the control plane the routes call.
 */
export function createParleyServices(deps: ParleyServicesDeps) {
  const { simulator, metrics: metricsOptions, maxBots, ...runtimeDeps } = deps;
  const queueLimits = createBotQueueLimits();
  const mediaKinds = createBotMediaKinds();
  const metrics = createMetrics(metricsOptions);
  const store = metrics.instrumentStore(deps.store);
  const runtime = createParleyRuntime({ ...runtimeDeps, store, limitsFor: queueLimits.limitsFor, mediaKindsFor: mediaKinds.mediaKindsFor, languageFor: mediaKinds.languageFor, hooks: { onClaim: metrics.onClaim } });
  const { outbox } = runtime;
  metrics.attach({ bots: runtime.bots, conversations: runtime.conversations, stats: runtime.stats, countJobs: () => store.mediaJobs.countByState(), outbox,
    media: { stagedBytes: () => runtime.staging.stagedBytes(), pools: () => runtime.mediaJobs.pools.stats() },
  });
  const controlPlane = createControlPlane({
    store,
    runtime,
    queueLimits,
    mediaKinds,
    providers: Object.keys(deps.providers),
    outbox,
    metrics,
    ...(simulator === undefined ? {} : { simulator }),
    ...(deps.maxInboundTextChars === undefined ? {} : { maxInboundTextChars: deps.maxInboundTextChars }),
    ...(maxBots === undefined ? {} : { maxBots }),
  });
  return {
    store,
    runtime,
    controlPlane,
    metrics,
    outbox,
    queueLimits,
    /** Loads bot settings, then restores the runtime: bots that should run start again, workers and the outbox start. */
    async start(): Promise<void> {
      for (const bot of await store.bots.list()) {
        queueLimits.remember(bot);
        mediaKinds.remember(bot);
        await runtime.mediaJobs.pools.setBotPools(bot.id, poolsOf(bot));
      }
      await runtime.start();
    },
    /** Stops sending, bots and workers, and writes every snapshot. */
    async shutdown(graceMs?: number): Promise<void> {
      await runtime.shutdown(graceMs);
    },
  };
}

export type ParleyServices = ReturnType<typeof createParleyServices>;
