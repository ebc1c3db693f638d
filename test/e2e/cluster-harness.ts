import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { BotOwner, Cluster, HeldLease, InstanceView } from '../../src/ports/cluster.port.ts';

const LEASE_MS = 15_000;

/**
 * Instances and who hosts which bot, as a test decides them: each instance's `Cluster` reads
 * them. An instance may be made to believe another owner than the rest (two instances that
 * disagree for a moment), and an instance that joined without a URL announces none.
 */
export function fakeClusterWorld() {
  const startedAt = new Date();
  const urls = new Map<string, string | null>();
  const placement = new Map<string, string>();
  const beliefs = new Map<string, Map<string, string | null>>();

  const ownerIdFor = (viewer: string, botId: string): string | null => {
    const believed = beliefs.get(viewer);
    if (believed?.has(botId) === true) return believed.get(botId) ?? null;
    return placement.get(botId) ?? null;
  };

  function clusterOf(self: string): Cluster {
    const leaseUntil = (): Date => new Date(Date.now() + LEASE_MS);
    return {
      instanceId: self,
      hostsLocally: (botId) => ownerIdFor(self, botId) === self,
      async ownerOf(botId): Promise<BotOwner | null> {
        const owner = ownerIdFor(self, botId);
        if (owner === null || !urls.has(owner)) return null;
        return { instanceId: owner, epoch: 1, leaseUntil: leaseUntil(), url: urls.get(owner) ?? null, local: owner === self };
      },
      async instances(): Promise<InstanceView[]> {
        return [...urls].map(([id, url]) => ({
          id, url, startedAt, seenAt: new Date(), aliveUntil: leaseUntil(), capacity: null, self: id === self,
          bots: [...placement].filter(([, owner]) => owner === id).map(([botId]) => botId),
        }));
      },
      held(): HeldLease[] {
        return [...placement].filter(([botId]) => ownerIdFor(self, botId) === self).map(([botId]) => ({ botId, epoch: 1, leaseUntil: leaseUntil() }));
      },
    };
  }

  return {
    clusterOf,
    /** An instance is alive and answers at `url` (none: null). */
    join(id: string, url: string | null): void {
      urls.set(id, url);
    },
    leave(id: string): void {
      urls.delete(id);
    },
    /** Who hosts the bot for everyone; null: nobody. */
    place(botId: string, instanceId: string | null): void {
      if (instanceId === null) placement.delete(botId);
      else placement.set(botId, instanceId);
    },
    /** What `viewer` alone takes for the bot's owner, until `forget`. */
    believe(viewer: string, botId: string, ownerId: string | null): void {
      const believed = beliefs.get(viewer) ?? new Map<string, string | null>();
      believed.set(botId, ownerId);
      beliefs.set(viewer, believed);
    },
    forget(viewer: string): void {
      beliefs.delete(viewer);
    },
  };
}

/** A port nothing listens on: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server that takes connections and never says a word: an owner that hangs. */
export async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
