import net, { type AddressInfo, type Socket } from 'node:net';
import type { WireLogger } from './commands/context.ts';
import { serveConnection, type ServerCounters } from './connection.ts';
import { CursorRegistry } from './cursors.ts';
import { openDataDir, type PersistentStore } from './persistence/data-dir.ts';
import { Store } from './store.ts';

export type { WireLogger } from './commands/context.ts';

/** Options for {@link startWireServer}. */
export interface WireServerOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (the default) picks a free ephemeral port. */
  port?: number;
  /** Receives connection-level diagnostics; nothing is logged without it. */
  logger?: WireLogger;
  /**
   * Keeps the data in this directory (journal, snapshot, lock) and loads it on start; without it
   * data lives in memory only. One server per directory.
   */
  dataDir?: string;
  /** With `dataDir`: journal size after which a snapshot is written and the journal emptied (default 64 MiB). */
  journalMaxBytes?: number;
}

/** A running in-memory, MongoDB-wire-compatible server. */
export interface WireServer {
  /** Connection string for the official driver, e.g. `mongodb://127.0.0.1:PORT/?directConnection=true`. */
  readonly uri: string;
  readonly port: number;
  /** Where the data lives and what survives a stop, in one sentence. */
  readonly storage: string;
  /**
   * Stops listening, drops every client connection and cursor; then writes a snapshot into the
   * data directory, or, without one, discards all data.
   */
  close(): Promise<void>;
  /** Open connections, commands executed so far, and open cursors. */
  stats(): { connections: number; commands: number; openCursors: number };
}

function uriHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

const IN_MEMORY = 'in memory only: lost when the process ends';

/**
 * Starts a MongoDB-wire-compatible server backed by in-memory storage, journalled to `dataDir`
 * when one is given. Every command runs synchronously against shared state, so each command is
 * atomic with respect to all clients.
 */
export async function startWireServer(opts: WireServerOptions = {}): Promise<WireServer> {
  const host = opts.host ?? '127.0.0.1';
  const persistent: PersistentStore | undefined =
    opts.dataDir === undefined ? undefined : openDataDir({ dataDir: opts.dataDir, journalMaxBytes: opts.journalMaxBytes, logger: opts.logger });
  const store = persistent?.store ?? new Store();
  const cursors = new CursorRegistry();
  const sockets = new Set<Socket>();
  const counters: ServerCounters = { commands: 0, nextRequestId: 0 };
  const startedAt = Date.now();
  let nextConnectionId = 0;
  let port = 0;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const connectionId = ++nextConnectionId;
    opts.logger?.debug({ connectionId, remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'client connected');
    serveConnection(socket, { store, cursors, connectionId, logger: opts.logger, server: { host, port, startedAt, connections: () => sockets.size } }, counters);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    persistent?.abandon();
    throw err;
  });
  port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;

  return {
    uri: `mongodb://${uriHost(host)}:${port}/?directConnection=true`,
    port,
    storage: persistent?.description ?? IN_MEMORY,
    close() {
      closing ??= (async () => {
        cursors.close();
        const drained = [...sockets].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await Promise.all([...drained, stopped]);
        persistent?.close();
      })();
      return closing;
    },
    stats: () => ({ connections: sockets.size, commands: counters.commands, openCursors: cursors.size }),
  };
}
