import { describe, expect, it } from 'vitest';
import { createBotHosting, storedReport } from '../../../src/control-plane/bot-hosting.ts';
import type { ActorRecord, ActorSnapshotStore } from '../../../src/ports/actor-snapshot-store.port.ts';
import type { Cluster } from '../../../src/ports/cluster.port.ts';

const record = (id: string, state: string, context: Record<string, unknown>): ActorRecord => ({
  id, kind: 'bot', botId: id, version: 3, machineVersion: 1, state, snapshot: { value: state, context }, effects: [], updatedAt: new Date(0),
});

describe('a bot hosted elsewhere, as the control plane shows it', () => {
  it('reads the report its host last stored, tolerating fields an older snapshot lacks', () => {
    expect(storedReport(record('b', 'reconnecting', { attempt: 2, retryAt: 5_000, lastError: null, lastDisconnect: 'stream errored' }))).toEqual({
      state: 'reconnecting', lastError: null, reconnect: { attempt: 2, retryAt: 5_000, lastDisconnect: 'stream errored' },
    });
    expect(storedReport(record('b', 'connected', {}))).toEqual({ state: 'connected', lastError: null, reconnect: { attempt: 0, retryAt: null, lastDisconnect: null } });
    expect(storedReport({ ...record('b', 'failed', {}), snapshot: 'garbled' })?.state).toBe('failed');
    expect(storedReport(undefined)).toBeNull();
  });

  it('reads live bots from memory, the others with one store read, and owners from the cluster', async () => {
    const reads: string[] = [];
    const stored = [record('far-1', 'connected', { attempt: 0 }), record('far-2', 'stopped', {}), record('near', 'stopped', {})];
    const actors = {
      get: async (id: string) => {
        reads.push(`get ${id}`);
        return stored.find((r) => r.id === id) ?? null;
      },
      list: async () => {
        reads.push('list');
        return stored;
      },
    } as unknown as ActorSnapshotStore;
    const cluster: Cluster = {
      instanceId: 'me',
      hostsLocally: (id) => id === 'near',
      ownerOf: async (id) => (id === 'far-1' ? { instanceId: 'other', epoch: 7, leaseUntil: new Date(9), url: 'http://other', local: false } : null),
      instances: async () => [],
      held: () => [{ botId: 'near', epoch: 2, leaseUntil: new Date(8) }],
    };
    const bots = {
      has: (id: string) => id === 'near',
      state: () => 'connected',
      context: () => ({ botId: 'near', maxReconnectAttempts: null, attempt: 0, retryAt: null, qr: null, stopReason: null, lastDisconnect: null, lastError: null }),
    };
    const hosting = createBotHosting({ cluster, store: { actors }, bots });
    const reader = hosting.reader(['near', 'far-1', 'far-2']);
    expect((await reader.report('near'))?.state).toBe('connected');
    expect(reads).toEqual([]);
    expect((await reader.report('far-1'))?.state).toBe('connected');
    expect((await reader.report('far-2'))?.state).toBe('stopped');
    expect(reads).toEqual(['list']);
    expect(await reader.owner('near')).toEqual({ instanceId: 'me', epoch: 2, leaseUntil: new Date(8) });
    expect(await reader.owner('far-1')).toEqual({ instanceId: 'other', epoch: 7, leaseUntil: new Date(9) });
    expect(await reader.owner('far-2')).toBeNull();

    // One bot: one get.
    expect((await hosting.reader(['far-2']).report('far-2'))?.state).toBe('stopped');
    expect(reads).toEqual(['list', 'get far-2']);
    // Without a cluster nobody owns anything as far as the API says.
    expect(await createBotHosting({ cluster: undefined, store: { actors }, bots }).reader(['near']).owner('near')).toBeNull();
  });
});
