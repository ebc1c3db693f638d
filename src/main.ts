import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { selectMongo } from './adapters/mongodb/store-selection.ts';
import { createSecretBox } from './adapters/crypto/secret-box.ts';
import { openMongoStore } from './adapters/mongodb/mongo-store.ts';
import { createSimulatorHub } from './adapters/simulator/simulator.provider.ts';
import { BAILEYS_PROVIDER, DEFAULT_PAIRING, createBaileysProvider } from './adapters/baileys/baileys.provider.ts';
import { CLOUD_API_PROVIDER, createCloudApiProvider } from './adapters/cloud-api/cloud-api.provider.ts';
import { createCloudApiWebhooks } from './adapters/cloud-api/cloud-api-webhooks.ts';
import { createGraphClient } from './adapters/cloud-api/graph-client.ts';
import type { CloudApiAccount } from './domain/cloud-api-account.ts';
import { readCloudApiAccount } from './runtime/bots/cloud-api-credentials.ts';
import { startStatelyInspector } from './adapters/stately-inspector/stately-inspector.ts';
import { loadConfig } from './config/config.ts';
import { warnAboutWeakKeys } from './config/key-strength.ts';
import type { Config } from './config/config.ts';
import { resolveSecretKey } from './config/secret-key.ts';
import { isParleyError } from './domain/errors.ts';
import { buildApp } from './http/app.ts';
import { createAuthThrottle } from './http/auth-throttle.ts';
import { inspectRoutes } from './http/inspect.routes.ts';
import { createActorDirectory } from './observability/actor-directory.ts';
import { machineDiagrams } from './observability/machine-diagrams.ts';
import { createLogger } from './logging/logger.ts';
import { createMediaSetup } from './media-setup.ts';
import { createParleyServices } from './parley-services.ts';
import { createOpenAiReplyGenerator } from './adapters/openai/openai-reply-generator.ts';

/** The composition root: reads config, picks the store, wires adapters into the app, serves. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(isParleyError(err) ? err.message : err);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  if (config.apiKeyGenerated) announceGeneratedKey(config.apiKey);
  warnAboutWeakKeys({ API_KEY: config.apiKeyGenerated ? undefined : config.apiKey, INSPECT_KEY: config.inspectKey }, logger);
  // One count of failed keys per client address for /v1, /inspect and the Stately bridge alike.
  const authThrottle = createAuthThrottle({ maxFailures: config.authFailureLimit, windowMs: config.authFailureWindowMs });
  const inspectorKeys = config.inspectKey === undefined ? [config.apiKey] : [config.apiKey, config.inspectKey];

  const mongo = await selectMongo({
    uri: config.mongodbUri,
    memoryServer: config.memoryServer,
    dbPath: path.join(config.dataDir, 'mongodb'),
    bundledDataDir: path.join(config.dataDir, 'bundled-store'),
    logger: logger.child({ scope: 'store' }),
  });
  logger.info({ store: mongo.kind }, `store: ${mongo.description}`);
  const secrets = createSecretBox(await resolveSecretKey(config, logger), config.secretKeysPrevious);
  const store = await openMongoStore({ uri: mongo.uri, dbName: config.mongodbDb, serverSelectionTimeoutMS: config.mongodbServerSelectionTimeoutMs, logger: logger.child({ scope: 'store' }), secrets });
  // Secrets sealed under an earlier key, or stored before encryption, are sealed again with the current key.
  void Promise.all([store.authState.reseal(), store.webhookSubscriptions.reseal()]).then(
    (counts) => ({ resealed: counts.reduce((n, c) => n + c.resealed, 0), unreadable: counts.reduce((n, c) => n + c.unreadable, 0) }),
  ).then(
    ({ resealed, unreadable }) => logger[unreadable > 0 ? 'warn' : 'info']({ resealed, unreadable }, `secrets at rest: ${resealed} re-encrypted with the current key, ${unreadable} under no configured key`),
    (err: unknown) => logger.error({ err }, 'secrets at rest: re-encryption failed; it is tried again at the next start'),
  );

  // The simulator keeps its sessions and outbound log in the store, shared by every instance.
  // Until the graceful stop below exists, a collision ends the process at once.
  let idCollision = (): void => process.exit(1);
  const simulator = createSimulatorHub({ world: store.simulator, instanceId: config.instanceId, logger: logger.child({ scope: 'simulator' }) });
  const graph = (account: CloudApiAccount) => createGraphClient(account);
  const cloudApiAccount = (botId: string, settings: Readonly<Record<string, unknown>>) => readCloudApiAccount(store.authState, botId, settings);
  const services = createParleyServices({
    store,
    providers: {
      simulator: simulator.factory,
      [BAILEYS_PROVIDER]: createBaileysProvider({
        authState: store.authState, history: store.history, logger,
        pairing: { ...DEFAULT_PAIRING, maxQrCodes: config.baileysQrMaxCodes, qrTimeoutMs: config.baileysQrTimeoutMs },
      }),
      [CLOUD_API_PROVIDER]: createCloudApiProvider({ account: cloudApiAccount, graph, logger }),
    },
    cloudApiWebhooks: createCloudApiWebhooks({ history: store.history, graph, maxMediaBytes: config.mediaMaxFileBytes }),
    reconnect: { maxAttempts: config.botMaxReconnectAttempts === 0 ? null : config.botMaxReconnectAttempts, maxDelayMs: config.botReconnectMaxDelayMs },
    media: await createMediaSetup(config),
    ai: {
      generator: config.openaiApiKey === undefined
        ? null
        : createOpenAiReplyGenerator({ apiKey: config.openaiApiKey, baseURL: config.openaiBaseUrl ?? null, timeoutMs: config.openaiReplyTimeoutMs }),
      defaultModel: config.openaiReplyModel,
    },
    logger,
    simulator,
    instanceId: config.instanceId,
    ownership: {
      leaseMs: config.ownershipLeaseMs,
      renewMs: Math.max(200, Math.floor(config.ownershipLeaseMs / 3)),
      takeoverDelayMs: config.ownershipTakeoverDelayMs,
      capacity: config.maxBotsPerInstance === 0 ? null : config.maxBotsPerInstance,
      url: config.instanceUrl ?? null,
      // Two live processes under one id would both host every bot under one epoch: this one goes.
      onIdCollision: () => idCollision(),
    },
    worker: { leaseMs: config.mediaJobLeaseMs, maxAttempts: config.mediaJobMaxAttempts, pollMs: config.workPollMs },
    outbox: { leaseMs: config.outboxLeaseMs, pollMs: config.workPollMs },
    webhooks: {
      retryDelaysMs: config.webhookRetryDelaysMs, timeoutMs: config.webhookTimeoutMs, leaseMs: config.webhookLeaseMs, denyPrivate: config.webhookDenyPrivate,
      pollMs: config.workPollMs,
    },
    queueIdleMs: config.queueIdleMs,
    maxInboundTextChars: config.inboundTextMaxChars,
    maxResidentQueues: config.maxResidentQueues,
    maxBots: config.maxBots,
  });
  const { runtime } = services;
  // Subscribed before start so restored actors appear on /inspect.
  const directory = createActorDirectory(runtime.inspection);
  const inspector = config.inspect
    ? await startStatelyInspector({
        port: config.inspectPort, hub: runtime.inspection, logger, keys: inspectorKeys,
        allowedOrigins: config.inspectAllowedOrigins, throttle: authThrottle, showContent: config.inspectShowContent,
      })
    : undefined;
  // Bots are taken only once this instance answers (below): peers place none on it before.
  await services.start({ hosting: false });

  const app = await buildApp({
    logger,
    health: { pingStore: () => store.ping(), storeKind: mongo.kind },
    bodyLimit: config.bodyLimitBytes,
    limits: {
      requestTimeoutMs: config.httpRequestTimeoutMs,
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      connectionTimeoutMs: config.httpConnectionTimeoutMs,
      keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
      mediaBodyLimit: config.mediaBodyLimitBytes,
      maxConcurrentLargeBodies: config.maxConcurrentLargeBodies,
      maxEventStreams: config.maxEventStreams,
      maxEventStreamsPerClient: config.maxEventStreamsPerClient,
    },
    version: packageVersion(),
    metrics: services.metrics,
    cluster: runtime.cluster,
    routes: [
      inspectRoutes({
        hub: runtime.inspection, directory, diagrams: machineDiagrams, apiKey: config.apiKey, inspectKey: config.inspectKey,
        authThrottle, sessionTtlMs: config.inspectSessionTtlMs, cluster: runtime.cluster,
      }),
    ],
    api: {
      controlPlane: services.controlPlane,
      apiKey: config.apiKey,
      rateLimit: { max: config.rateLimitMax, timeWindow: config.rateLimitWindowMs },
      whatsappWebhooks: { bodyLimit: config.cloudApiWebhookBodyLimitBytes, rateLimit: { max: config.cloudApiWebhookRateLimitMax, timeWindow: 60_000 } },
      authThrottle,
    },
  });

  let stopping = false;
  const stop = async (signal: string, exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    try {
      // Stop accepting requests (in-flight ones finish), then bots, workers and the outbox.
      await app.close();
      await services.shutdown(Math.floor(config.shutdownTimeoutMs / 2));
      await inspector?.stop();
      await store.close();
      await services.runtime.staging.close();
      await mongo.close();
    } catch (err) {
      logger.error({ err }, 'graceful shutdown failed');
      process.exit(1);
    }
    logger.info('stopped');
    process.exit(exitCode);
  };
  idCollision = () => void stop('INSTANCE_ID collision', 1);
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ port: config.port, host: config.host });
  // Other instances forward calls for the bots hosted here to this address.
  if (config.instanceUrl === undefined) runtime.ownership.announceAt(reachableUrl(address));
  await runtime.ownership.start();
  logger.info({ url: address, instanceId: config.instanceId }, `Parley listening on ${address} (health: ${address}/healthz)`);
}

/** The listen address as other hosts reach it: a wildcard address becomes this host's name. */
function reachableUrl(address: string): string {
  const url = new URL(address);
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = hostname();
  return url.origin;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function announceGeneratedKey(key: string): void {
  process.stdout.write(
    `\nNo API_KEY set: generated one for this run.\n  API_KEY=${key}\n` +
      `Use it as "Authorization: Bearer <key>". Set API_KEY in the environment to keep a stable key.\n\n`,
  );
}

main().catch((err: unknown) => {
  console.error('Parley failed to start:', isParleyError(err) ? `${err.code}: ${err.message}` : err);
  process.exit(1);
});
