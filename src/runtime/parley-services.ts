import { createBotDirectory } from './bot-directory.ts';
import { createControlPlane } from './control-plane.ts';
import { createMetrics } from './metrics.ts';
import type { MetricsOptions } from './metrics.ts';
import { createOutboxSender } from './outbox-sender.ts';
import type { OutboxSenderOptions } from './outbox-sender.ts';
import { createParleyRuntime } from './parley-runtime.ts';
import type { RuntimeDeps } from './parley-runtime.ts';
import type { SimulatorControl } from './simulator-control.ts';

export interface ParleyServicesDeps extends Omit<RuntimeDeps, 'limitsFor' | 'hooks'> {
  readonly simulator?: SimulatorControl;
  readonly outbox?: Partial<Pick<OutboxSenderOptions, 'pollMs' | 'retryDelaysMs' | 'leaseMs'>>;
  readonly metrics?: MetricsOptions;
}

/**
 * Everything behind the REST API, wired once for `main.ts` and tests alike: the bot directory
 * feeding queue limits, the runtime on a metrics-instrumented store, the outbox sender, the
 * Prometheus registry and the control plane the routes call.
 */
export function createParleyServices(deps: ParleyServicesDeps) {
  const { simulator, outbox: outboxOptions, metrics: metricsOptions, ...runtimeDeps } = deps;
  const directory = createBotDirectory();
  const metrics = createMetrics(metricsOptions);
  const store = metrics.instrumentStore(deps.store);
  const runtime = createParleyRuntime({ ...runtimeDeps, store, limitsFor: directory.limitsFor, hooks: { onClaim: metrics.onClaim } });
  const outbox = createOutboxSender({
    outbox: store.outbox,
    bots: runtime.bots,
    owner: runtime.owner,
    logger: deps.logger,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...outboxOptions,
  });
  metrics.attach({ bots: runtime.bots, conversations: runtime.conversations, stats: runtime.stats, countJobs: () => store.mediaJobs.countByState(), outbox });
  const controlPlane = createControlPlane({
    store,
    runtime,
    directory,
    providers: Object.keys(deps.providers),
    outbox,
    metrics,
    ...(simulator === undefined ? {} : { simulator }),
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
  });
  return {
    store,
    runtime,
    controlPlane,
    metrics,
    outbox,
    directory,
    /** Loads bot settings, restores the runtime (bots that should run start again), starts sending. */
    async start(): Promise<void> {
      await directory.load(store.bots);
      await runtime.start();
      outbox.start();
    },
    /** Stops sending, then stops bots and workers and writes every snapshot. */
    async shutdown(graceMs?: number): Promise<void> {
      await outbox.stop();
      await runtime.shutdown(graceMs);
    },
  };
}

export type ParleyServices = ReturnType<typeof createParleyServices>;
