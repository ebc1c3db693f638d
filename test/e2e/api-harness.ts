import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { createSimulatorHub } from '../../src/adapters/simulator/simulator.provider.ts';
import type { SimulatorHub } from '../../src/adapters/simulator/simulator.provider.ts';
import { buildApp } from '../../src/http/app.ts';
import { createAuthThrottle } from '../../src/http/auth-throttle.ts';
import type { AuthThrottle } from '../../src/http/auth-throttle.ts';
import type { AppDeps } from '../../src/http/app.ts';
import { inspectRoutes } from '../../src/http/inspect.routes.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { MediaToProcess } from '../../src/ports/media-processor.port.ts';
import { testMedia } from '../support/test-media.ts';
import type { MediaSetup, RuntimeDeps } from '../../src/runtime/parley-runtime.ts';
import type { ProviderEvent, ProviderFactory, ProviderHandlers } from '../../src/ports/provider.port.ts';
import type { Store } from '../../src/ports/store.port.ts';
import { createActorDirectory } from '../../src/observability/actor-directory.ts';
import type { ActorDirectory } from '../../src/observability/actor-directory.ts';
import { machineDiagrams } from '../../src/observability/machine-diagrams.ts';
import { createBotMediaKinds } from '../../src/control-plane/bot-media-kinds.ts';
import { createControlPlane } from '../../src/control-plane/control-plane.ts';
import type { CloudApiWebhooks } from '../../src/ports/cloud-api.port.ts';
import type { Cluster } from '../../src/ports/cluster.port.ts';
import { createParleyServices } from '../../src/parley-services.ts';
import type { AiSetup } from '../../src/parley-services.ts';
import type { ParleyServices } from '../../src/parley-services.ts';
import type { WebhookOptions } from '../../src/webhook-setup.ts';
import { eventually } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';

export const API_KEY = 'e2e-key-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${API_KEY}` };

/** A simulated inbound voice note from `from`, with any further body fields. */
export const voiceNote = (from: string, extra: Record<string, unknown> = {}) => ({ from, media: { kind: 'voice', mimetype: 'audio/ogg', dataBase64: 'AAECAw==' }, ...extra });

/**
 * A stand-in for a real WhatsApp provider, registered as `baileys`: it connects at once, can be
 * made to wait for a QR scan, hands out pairing codes, and fails sends to chosen recipients a set
 * number of times (`Infinity` for ever).
 */
export function fakeWhatsApp() {
  const handlers = new Map<string, ProviderHandlers>();
  const failures = new Map<string, number>();
  const sent: { botId: string; to: string; text: string }[] = [];
  const qrs = new Map<string, string>();
  const factory: ProviderFactory = (botId, _settings, h) => {
    handlers.set(botId, h);
    return {
      start: async () => {
        const qr = qrs.get(botId);
        setImmediate(() => h.onEvent(qr === undefined ? { type: 'provider.connected' } : { type: 'provider.qr', qr }));
      },
      stop: async () => {},
      async send(to, text) {
        const left = failures.get(to) ?? 0;
        if (left > 0) {
          failures.set(to, left - 1);
          throw new Error(`network down for ${to}`);
        }
        sent.push({ botId, to, text });
        return { providerMessageId: `FAKE-${sent.length}` };
      },
      requestPairingCode: async (phone) => `PAIR-${phone.slice(-4)}`,
    };
  };
  return {
    factory,
    sent,
    /** The bot's next sessions wait for a scan of `qr` instead of connecting. */
    needScan(botId: string, qr: string) {
      qrs.set(botId, qr);
    },
    failSendsTo(to: string, times: number) {
      failures.set(to, times);
    },
    emit(botId: string, event: ProviderEvent) {
      handlers.get(botId)?.onEvent(event);
    },
  };
}

/**
 * A media processor the test steers: jobs of correspondents starting with `gate` wait until
 * `release()`, jobs of correspondents in `failing` throw.
 */
export function steeredProcessor() {
  const failing = new Set<string>();
  let waiters: (() => void)[] = [];
  return {
    failing,
    release() {
      const w = waiters;
      waiters = [];
      w.forEach((f) => f());
    },
    waiting: () => waiters.length,
    async process(job: MediaToProcess) {
      if (job.correspondentId.startsWith('gate')) await new Promise<void>((resolve) => waiters.push(resolve));
      if (failing.has(job.correspondentId)) throw new Error('processor exploded');
      return { status: 'processed' as const, text: `text of ${job.kind}` };
    },
  };
}

export interface Api {
  app: FastifyInstance;
  services: ParleyServices;
  simulator: SimulatorHub;
  whatsapp: ReturnType<typeof fakeWhatsApp>;
  processor: ReturnType<typeof steeredProcessor>;
  /** What `/inspect` shows, fed since before the services started (as in `main.ts`). */
  directory: ActorDirectory;
  request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** The real runtime, control plane and Fastify app on `store`, with the simulator and the fake provider. */
/** What a test may set on the API it starts. */
export type ApiOptions = Partial<Pick<AppDeps, 'bodyLimit' | 'limits'>> & {
  rateLimit?: { max: number; timeWindow: number };
  maxInboundTextChars?: number;
  maxBots?: number;
  authThrottle?: AuthThrottle;
  /** The real media pipeline (processors, pools, store); by default one pool runs the steered processor. */
  media?: MediaSetup;
  worker?: RuntimeDeps['worker'];
  /** Event webhooks; by default the real HTTP sender with short retries and quick pickup. */
  webhooks?: WebhookOptions;
  /** The model AI replies come from; AI is off for every bot when absent. */
  ai?: AiSetup;
  /** Providers beside the simulator and the fake WhatsApp (`baileys`), with Meta's webhooks for `cloud-api`. */
  providers?: Readonly<Record<string, ProviderFactory>>;
  cloudApiWebhooks?: CloudApiWebhooks;
  /** This instance's id among several on one store (each needs its own). */
  instanceId?: string;
  /**
   * The cluster the HTTP layer and the control plane see, in place of the runtime's own: a test
   * chooses who hosts which bot and where each instance answers.
   */
  cluster?: Cluster;
};

/**
 * An API on its own test store for the surrounding `describe`: started (with `runningBots`
 * running) before its tests, closed after them. Read `api` and `t` inside tests.
 */
export function useApi(dbName: string, options: ApiOptions & { runningBots?: readonly string[] } = {}): { readonly api: Api; readonly t: TestStore } {
  let started: { api: Api; t: TestStore } | undefined;
  beforeAll(async () => {
    const { runningBots = [], ...app } = options;
    const t = await openTestStore(dbName);
    const api = await startApi(t.store, app);
    started = { api, t };
    for (const id of runningBots) await runningBot(api, id);
  });
  afterAll(async () => {
    await started?.api.close();
    await started?.t.dispose();
  });
  const get = () => {
    if (started === undefined) throw new Error('useApi: read api and t inside tests, not while collecting them');
    return started;
  };
  return { get api() { return get().api; }, get t() { return get().t; } };
}

export async function startApi(store: Store, app: ApiOptions = {}): Promise<Api> {
  const logger = createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');
  const simulator = createSimulatorHub();
  const whatsapp = fakeWhatsApp();
  const processor = steeredProcessor();
  const services = createParleyServices({
    store,
    providers: { simulator: simulator.factory, baileys: whatsapp.factory, ...app.providers },
    media: app.media ?? testMedia((job) => processor.process(job)),
    logger,
    simulator,
    worker: { pollMs: 50, leaseMs: 5_000, maxAttempts: 1, ...app.worker },
    historyWindowMs: 1,
    outbox: { pollMs: 50, retry: { baseMs: 20, maxMs: 80, jitter: 0 } },
    webhooks: { retryDelaysMs: [50, 50], pollMs: 50, timeoutMs: 2_000, ...app.webhooks },
    metrics: { defaultMetrics: false },
    ...(app.maxInboundTextChars === undefined ? {} : { maxInboundTextChars: app.maxInboundTextChars }),
    ...(app.maxBots === undefined ? {} : { maxBots: app.maxBots }),
    ...(app.ai === undefined ? {} : { ai: app.ai }),
    ...(app.cloudApiWebhooks === undefined ? {} : { cloudApiWebhooks: app.cloudApiWebhooks }),
    ...(app.instanceId === undefined ? {} : { instanceId: app.instanceId }),
  });
  const directory = createActorDirectory(services.runtime.inspection);
  // One count of failed keys for /v1 and /inspect, as main.ts wires it.
  const authThrottle = app.authThrottle ?? createAuthThrottle();
  await services.start();
  const instance = await buildApp({
    logger,
    health: { pingStore: () => store.ping(), storeKind: 'test' },
    version: '1.2.3',
    metrics: services.metrics,
    routes: [inspectRoutes({ hub: services.runtime.inspection, directory, diagrams: machineDiagrams, apiKey: API_KEY, authThrottle, ...(app.cluster === undefined ? {} : { cluster: app.cluster }) })],
    api: { controlPlane: controlPlaneOf(services, simulator, app), apiKey: API_KEY, rateLimit: app.rateLimit ?? { max: 10_000, timeWindow: 60_000 }, authThrottle },
    ...(app.cluster === undefined ? {} : { cluster: app.cluster }),
    ...(app.bodyLimit === undefined ? {} : { bodyLimit: app.bodyLimit }),
    ...(app.limits === undefined ? {} : { limits: app.limits }),
  });
  return {
    app: instance,
    services,
    simulator,
    whatsapp,
    processor,
    directory,
    request(method, url, payload, headers = AUTH) {
      return instance.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
    },
    async close() {
      processor.release();
      await instance.close();
      await services.shutdown(1000);
      directory.close();
    },
  };
}

/**
 * The services' control plane, or, for a test's own cluster, one on the same runtime and store
 * that sees that cluster (settings of bots it creates reach the runtime's defaults only).
 */
function controlPlaneOf(services: ParleyServices, simulator: SimulatorHub, app: ApiOptions): ParleyServices['controlPlane'] {
  if (app.cluster === undefined) return services.controlPlane;
  return createControlPlane({
    store: services.store, runtime: services.runtime, queueLimits: services.queueLimits, mediaKinds: createBotMediaKinds(), outbox: services.outbox,
    providers: ['simulator', 'baileys', ...Object.keys(app.providers ?? {})], simulator, metrics: services.metrics, cluster: app.cluster,
    ...(app.cloudApiWebhooks === undefined ? {} : { cloudApiWebhooks: app.cloudApiWebhooks }),
  });
}

/** Creates a bot through the API, starts it and waits until it is connected. */
export async function runningBot(api: Api, id: string, provider = 'simulator', extra: Record<string, unknown> = {}): Promise<void> {
  const created = await api.request('POST', '/v1/bots', { id, provider, ...extra });
  if (created.statusCode !== 201) throw new Error(`create ${id}: ${created.statusCode} ${created.body}`);
  await api.request('POST', `/v1/bots/${id}/start`);
  await botInState(api, id, 'connected');
}

export async function botInState(api: Api, id: string, state: string): Promise<Record<string, unknown>> {
  return eventually(
    async () => (await api.request('GET', `/v1/bots/${id}`)).json<Record<string, unknown>>(),
    (bot) => bot['state'] === state,
  );
}
