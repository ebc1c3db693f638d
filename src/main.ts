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
import { createLogger } from './logging/logger.ts';
import { createParleyRuntime } from './runtime/parley-runtime.ts';

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
    logger: logger.child({ scope: 'store' }),
  });
  logger.info({ store: mongo.kind }, `store: ${mongo.description}`);
  const store = await openMongoStore({ uri: mongo.uri, dbName: config.mongodbDb });

  const simulator = createSimulatorHub();
  const runtime = createParleyRuntime({
    store,
    providers: { simulator: simulator.factory },
    processor: unconfiguredProcessor,
    logger,
  });
  const inspector = config.inspect ? startStatelyInspector({ port: config.inspectPort, hub: runtime.inspection, logger }) : undefined;
  await runtime.start();

  const app = await buildApp({
    logger,
    health: { pingStore: () => store.ping(), storeKind: mongo.kind },
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
    await app.close();
    await runtime.shutdown(Math.floor(config.shutdownTimeoutMs / 2));
    inspector?.stop();
    await store.close();
    await mongo.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  const address = await app.listen({ port: config.port, host: config.host });
  logger.info({ url: address }, `Parley listening on ${address} (health: ${address}/healthz)`);
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
