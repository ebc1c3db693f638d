import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ParleyError } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import { redactUri } from '../../logging/logger.ts';

export type MongoKind = 'external' | 'memory-server' | 'bundled';

/**
 * Where both embedded stores listen. Neither asks for credentials, so another machine must not
 * reach them: loopback only, whatever the library's default.
 */
export const EMBEDDED_STORE_HOST = '127.0.0.1';

/** The MongoDB Parley talks to, and how to shut it down if Parley started it. */
export interface SelectedMongo {
  readonly kind: MongoKind;
  readonly uri: string;
  /** One sentence for the start-up log. */
  readonly description: string;
  close(): Promise<void>;
}

export interface MongoSelectionOptions {
  /** MONGODB_URI: when set, nothing is started. */
  readonly uri: string | undefined;
  /** `off` skips mongodb-memory-server and goes straight to the bundled server. */
  readonly memoryServer: 'auto' | 'off';
  /** Persistent data directory for mongodb-memory-server; ephemeral when absent (tests). */
  readonly dbPath?: string;
  /** Data directory for the bundled store (journal and snapshot); in memory only when absent (tests). */
  readonly bundledDataDir?: string;
  readonly logger: Logger;
}

/**
 * Picks the store: MONGODB_URI → mongodb-memory-server (a real mongod, when a binary can be had)
 * → the bundled wire-compatible server. `npm start` and the tests share this order, so a machine
 * with a real mongod runs the same suite against it. Both embedded stores are development
 * dependencies, loaded only when reached: a production install (`npm ci --omit=dev`) has neither
 * and must be given MONGODB_URI.
 */
export async function selectMongo(options: MongoSelectionOptions): Promise<SelectedMongo> {
  const { logger } = options;
  if (options.uri !== undefined) {
    return {
      kind: 'external',
      uri: options.uri,
      description: `MongoDB at ${redactUri(options.uri)}`,
      close: async () => {},
    };
  }
  if (options.memoryServer === 'auto') {
    try {
      const memoryServer = await startMemoryServer(options.dbPath);
      if (memoryServer !== undefined) return memoryServer;
    } catch (err) {
      logger.info({ reason: oneLine(err) }, 'mongodb-memory-server unavailable; trying the bundled store');
    }
  }
  const wireServer = await importInstalled('@parley/mongo-wire-server', () => import('@parley/mongo-wire-server'));
  if (wireServer === undefined) {
    throw new ParleyError(
      'STORE_UNAVAILABLE',
      'No store available: set MONGODB_URI to a MongoDB connection string. Without it Parley starts a development store, ' +
        'and this installation has none (mongodb-memory-server-core and @parley/mongo-wire-server are development dependencies).',
    );
  }
  const dataDir = options.bundledDataDir === undefined ? undefined : path.resolve(options.bundledDataDir);
  const server = await wireServer.startWireServer({ host: EMBEDDED_STORE_HOST, port: 0, dataDir }).catch((err: unknown) => {
    // A data directory held by another running Parley, or damaged files: said in one line.
    throw new ParleyError('STORE_UNAVAILABLE', `The bundled store cannot open ${dataDir}: ${oneLine(err)}`, { cause: err });
  });
  return {
    kind: 'bundled',
    uri: server.uri,
    // `storage` says where the data is and what a clean stop, a kill -9 and a power loss leave of it.
    description: `bundled MongoDB-wire-compatible store at ${server.uri} (development/test only; data ${server.storage})`,
    close: () => server.close(),
  };
}

async function startMemoryServer(dbPath: string | undefined): Promise<SelectedMongo | undefined> {
  const memoryServer = await importInstalled('mongodb-memory-server-core', () => import('mongodb-memory-server-core'));
  if (memoryServer === undefined) return undefined;
  const { MongoBinary, MongoMemoryServer } = memoryServer;
  // One download attempt: offline machines should fall back in seconds, not after long retries.
  process.env['MONGOMS_MAX_RETRIES'] ??= '1';
  // Resolving the binary first fails quietly; MongoMemoryServer.create would print the error itself.
  await MongoBinary.getPath();
  if (dbPath !== undefined) await mkdir(dbPath, { recursive: true });
  const server = await MongoMemoryServer.create({
    instance: { ip: EMBEDDED_STORE_HOST, ...(dbPath === undefined ? {} : { dbPath: path.resolve(dbPath), storageEngine: 'wiredTiger' }) },
  });
  const uri = server.getUri();
  return {
    kind: 'memory-server',
    uri,
    description: `mongodb-memory-server (real mongod) at ${uri}${dbPath === undefined ? ', ephemeral' : `, data in ${dbPath}`}`,
    close: async () => {
      await server.stop({ doCleanup: dbPath === undefined, force: false });
    },
  };
}

/**
 * The module, or undefined when the package is not installed. Only the package's own absence
 * counts: a package that is there but fails to load is a broken install and says so.
 */
async function importInstalled<T>(name: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    const missing = (err as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && (err as Error).message.includes(`'${name}'`);
    if (missing) return undefined;
    throw err;
  }
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

