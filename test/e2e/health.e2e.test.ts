import { describe, expect, it } from 'vitest';
import { openMongoStore } from '../../src/adapters/mongodb/mongo-store.ts';
import { buildApp } from '../../src/http/app.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { startWireServer } from '@parley/mongo-wire-server';
import { useTestStore } from '../support/test-store.ts';

describe('health endpoints', () => {
  const t = useTestStore('parley_health');

  it('answers liveness and readiness while the store is reachable', async () => {
    const app = await buildApp({ logger: createLogger('silent'), health: { pingStore: () => t.store.ping(), storeKind: t.kind } });
    const live = await app.inject({ method: 'GET', url: '/healthz' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', store: t.kind });
    await app.close();
  });

  it('reports 503 STORE_UNAVAILABLE once the store goes away, and recovers when it returns', async () => {
    const server = await startWireServer({ port: 0 });
    const store = await openMongoStore({ uri: server.uri, dbName: 'health_probe', serverSelectionTimeoutMS: 300 });
    const app = await buildApp({ logger: createLogger('silent'), health: { pingStore: () => store.ping(), storeKind: 'bundled' } });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await server.close();
    const down = await app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: 'Store is not reachable' } });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await app.close();
    await store.close();
  });

  it('answers unknown routes with a stable 404 code and no stack trace', async () => {
    const app = await buildApp({ logger: createLogger('silent'), health: { pingStore: async () => {}, storeKind: 'x' } });
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'Route GET /nope not found' } });
    await app.close();
  });
});
