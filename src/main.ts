import { readFileSync } from 'node:fs';
import path from 'node:path';
import { selectMongo } from './adapters/mongodb/store-selection.ts';
import { unconfiguredProcessor } from './adapters/media/unconfigured.processor.ts';
import { openMongoStore } from './adapters/mongodb/mongo-store.ts';
import { createSimulatorHub } from './adapters/simulator/simulator.provider.ts';
import { startStatelyInspector } from './adapters/stately-inspector/stately-inspector.ts';
import { loadConfig } from './config/config.ts';
import type { Config } from './config/config.ts';
import { isParleyError } from './domain/errors.ts';
import { buildApp } from './http/app.ts';
import { inspectRoutes } from './http/inspect.routes.ts';
import { createActorDirectory } from './observability/actor-directory.ts';
import { machineDiagrams } from './observability/machine-diagrams.ts';
import { createLogger } from './logging/logger.ts';
import { createParleyServices } from './parley-services.ts';

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

  const mongo = await selectMongo({
    uri: config.mongodbUri,
    memoryServer: config.memoryServer,
    dbPath: path.join(config.dataDir, 'mongodb'),
    bundledDataDir: path.join(config.dataDir, 'bundled-store'),
    logger: logger.child({ scope: 'store' }),
  });
  logger.info({ store: mongo.kind }, `store: ${mongo.description}`);
  const store = await openMongoStore({ uri: mongo.uri, dbName: config.mongodbDb, serverSelectionTimeoutMS: config.mongodbServerSelectionTimeoutMs, logger: logger.child({ scope: 'store' }) });

  const simulator = createSimulatorHub();
  const services = createParleyServices({
    store,
    providers: { simulator: simulator.factory },
    processor: unconfiguredProcessor,
    logger,
    simulator,
    worker: { concurrency: config.mediaWorkerConcurrency, leaseMs: config.mediaJobLeaseMs, maxAttempts: config.mediaJobMaxAttempts },
    outbox: { leaseMs: config.outboxLeaseMs },
    queueIdleMs: config.queueIdleMs,
    maxInboundTextChars: config.inboundTextMaxChars,
  });
  const { runtime } = services;
  // Subscribed before start so restored actors appear on /inspect.
  const directory = createActorDirectory(runtime.inspection);
  const inspector = config.inspect ? startStatelyInspector({ port: config.inspectPort, hub: runtime.inspection, logger }) : undefined;
  await services.start();

  const app = await buildApp({
    logger,
    health: { pingStore: () => store.ping(), storeKind: mongo.kind },
    bodyLimit: config.bodyLimitBytes,
    version: packageVersion(),
    metrics: services.metrics,
    routes: [inspectRoutes({ hub: runtime.inspection, directory, diagrams: machineDiagrams, apiKey: config.apiKey })],
    api: {
      controlPlane: services.controlPlane,
      apiKey: config.apiKey,
      rateLimit: { max: config.rateLimitMax, timeWindow: config.rateLimitWindowMs },
    },
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
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
      inspector?.stop();
      await store.close();
      await mongo.close();
    } catch (err) {
      logger.error({ err }, 'graceful shutdown failed');
      process.exit(1);
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ port: config.port, host: config.host });
  logger.info({ url: address }, `Parley listening on ${address} (health: ${address}/healthz)`);
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
