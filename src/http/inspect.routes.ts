import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ParleyError } from '../domain/errors.ts';
import { createActorDirectory } from '../observability/actor-directory.ts';
import type { ActorDirectory, DirectoryChange } from '../observability/actor-directory.ts';
import { ownershipSummary } from '../observability/ownership-summary.ts';
import type { Cluster } from '../ports/cluster.port.ts';
import type { InspectionHub } from '../runtime/actors/inspection-hub.ts';
import { createAuthThrottle } from './auth-throttle.ts';
import type { AuthThrottle } from './auth-throttle.ts';
import { inspectAuthHook } from './inspect-auth.ts';
import { createInspectSessions } from './inspect-sessions.ts';

export interface InspectDeps {
  readonly hub: InspectionHub;
  /**
   * The directory to show. Create it (with `createActorDirectory(runtime.inspection)`) before
   * `runtime.start()` so restored actors are in it; when omitted, one is created here and only
   * sees actors that change after registration.
   */
  readonly directory?: ActorDirectory;
  /** Mermaid `stateDiagram-v2` text per machine name (`bot`, `correspondent-queue`, `media-job`). */
  readonly diagrams: () => Record<string, string>;
  /**
   * The operator key. A browser opens `/inspect?key=<key>` once and gets a session cookie for it
   * (what `EventSource` then sends); scripts send `Authorization: Bearer <key>`.
   */
  readonly apiKey: string;
  /** A read-only key that opens `/inspect` and nothing under `/v1`. */
  readonly inspectKey?: string;
  /** Counts failed keys per client address; pass the one `/v1` uses too. */
  readonly authThrottle?: AuthThrottle;
  /** How long a session cookie stays valid. */
  readonly sessionTtlMs?: number;
  /** Interval of SSE heartbeat comments, which keep proxies from closing an idle stream. */
  readonly heartbeatMs?: number;
  /** How long directory changes are coalesced per actor before they go out on a stream. */
  readonly coalesceMs?: number;
  /** This instance's leases and the live instances, shown beside the actors (`/inspect/cluster`). */
  readonly cluster?: Pick<Cluster, 'instanceId' | 'held' | 'instances'>;
}

interface Asset {
  /** Resolved on first request, so a missing package breaks one asset, not the server's start. */
  readonly path: () => string;
  readonly type: string;
  /** Gzipped once on first request: mermaid is 3.5 MB raw, about 1 MB compressed. */
  readonly compress: boolean;
}

const PAGE_DIR = join(import.meta.dirname, 'inspect-page');
const ASSETS: Readonly<Record<string, Asset>> = {
  'inspect.css': { path: () => join(PAGE_DIR, 'inspect.css'), type: 'text/css; charset=utf-8', compress: false },
  'inspect.js': { path: () => join(PAGE_DIR, 'inspect.js'), type: 'text/javascript; charset=utf-8', compress: false },
  'render.js': { path: () => join(PAGE_DIR, 'render.js'), type: 'text/javascript; charset=utf-8', compress: false },
  'diagram.js': { path: () => join(PAGE_DIR, 'diagram.js'), type: 'text/javascript; charset=utf-8', compress: false },
  // Served from the installed package so the page works offline, with no CDN.
  'mermaid.min.js': { path: () => join(dirname(fileURLToPath(import.meta.resolve('mermaid'))), 'mermaid.min.js'), type: 'text/javascript; charset=utf-8', compress: true },
};

// Mermaid writes <style> into its SVG, hence 'unsafe-inline' for styles only; scripts stay 'self'.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  // Nothing of the page's URL travels on in a Referer header.
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/**
 * The live actor inspector: `/inspect` (page), `/inspect/actors` (JSON), `/inspect/stream`
 * (Server-Sent Events of directory changes), `/inspect/cluster` (this instance's leases and the live
 * instances), `/inspect/diagrams` (Mermaid per machine) and `/inspect/assets/*`. Register it as its own plugin so the key check stays in this scope.
 */
export function inspectRoutes(deps: InspectDeps) {
  if (deps.apiKey.length === 0) throw ParleyError.of('CONFIG_INVALID', { problem: '/inspect needs a non-empty API key' });
  const authenticate = inspectAuthHook({
    keys: deps.inspectKey === undefined ? [deps.apiKey] : [deps.apiKey, deps.inspectKey],
    sessions: createInspectSessions(deps.sessionTtlMs === undefined ? {} : { ttlMs: deps.sessionTtlMs }),
    throttle: deps.authThrottle ?? createAuthThrottle(),
  });
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const coalesceMs = deps.coalesceMs ?? 50;

  return async function register(app: FastifyInstance): Promise<void> {
    const owned = deps.directory === undefined;
    const directory = deps.directory ?? createActorDirectory(deps.hub);
    const streams = new Set<() => void>();
    const assetCache = new Map<string, Promise<{ raw: Buffer; gz: Buffer | null }>>();
    let diagrams: Record<string, string> | undefined;
    let page: Promise<string> | undefined;

    // Asset files are static code shipped with Parley, no runtime data; everything else in this
    // scope needs a session or a key.
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.url === '/inspect/assets/:name') return undefined;
      return authenticate(request, reply);
    });

    // An open event stream would otherwise hold app.close() until the browser goes away.
    app.addHook('preClose', async () => {
      for (const end of [...streams]) end();
    });
    app.addHook('onClose', async () => {
      if (owned) directory.close();
    });

    // An operator page, not part of the REST contract: kept out of the OpenAPI document.
    const hidden = { schema: { hide: true } };

    app.get('/inspect', hidden, async (_request, reply) => {
      page ??= readFile(join(PAGE_DIR, 'index.html'), 'utf8');
      return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(await page);
    });

    app.get('/inspect/actors', hidden, async (_request, reply) => reply.headers({ 'cache-control': 'no-store' }).send({ at: Date.now(), actors: directory.list() }));

    app.get('/inspect/cluster', hidden, async (_request, reply) => reply.headers({ 'cache-control': 'no-store' }).send(await ownershipSummary(deps.cluster, Date.now())));

    app.get('/inspect/diagrams', hidden, async (_request, reply) => {
      diagrams ??= deps.diagrams();
      return reply.headers({ 'cache-control': 'no-store' }).send({ diagrams });
    });

    app.get<{ Params: { name: string } }>('/inspect/assets/:name', hidden, async (request, reply) => {
      const { name } = request.params;
      const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (asset === undefined) throw ParleyError.of('NOT_FOUND', { resource: `Asset ${name}` });
      let loading = assetCache.get(name);
      if (loading === undefined) {
        loading = loadAsset(asset);
        assetCache.set(name, loading);
        loading.catch(() => assetCache.delete(name));
      }
      const { raw, gz } = await loading;
      const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      void reply.headers({ 'content-type': asset.type, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache', vary: 'accept-encoding' });
      if (gz !== null && acceptsGzip) return reply.header('content-encoding', 'gzip').send(gz);
      return reply.send(raw);
    });

    app.get('/inspect/stream', { ...hidden, config: { eventStream: true } }, (_request, reply) => {
      openStream(reply);
    });

    /** One SSE client: a full snapshot first (also after every reconnect), then changes coalesced per actor. */
    function openStream(reply: FastifyReply): void {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // Tells nginx-style proxies not to buffer the stream.
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      const pending = new Map<string, DirectoryChange>();
      let timer: NodeJS.Timeout | undefined;
      let blocked = false;
      let ended = false;

      const send = (chunk: string): void => {
        if (!res.write(chunk)) blocked = true;
      };
      const flush = (): void => {
        timer = undefined;
        if (ended || blocked) return;
        const changes = [...pending.values()];
        pending.clear();
        for (const change of changes) {
          if (change.type === 'actor') send(`event: actor\ndata: ${JSON.stringify(change.actor)}\n\n`);
          else send(`event: removed\ndata: ${JSON.stringify({ id: change.id })}\n\n`);
        }
      };
      // A slow client never makes the server queue more than one pending change per actor.
      res.on('drain', () => {
        blocked = false;
        if (pending.size > 0) timer ??= setTimeout(flush, 0);
      });

      send(`retry: 2000\n\nevent: snapshot\ndata: ${JSON.stringify({ at: Date.now(), actors: directory.list() })}\n\n`);
      const unsubscribe = directory.subscribe((change) => {
        pending.set(change.type === 'actor' ? change.actor.id : change.id, change);
        timer ??= setTimeout(flush, coalesceMs);
      });
      const heartbeat = setInterval(() => {
        if (!blocked) send(`: heartbeat ${Date.now()}\n\n`);
      }, heartbeatMs);
      heartbeat.unref();

      const end = (): void => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(heartbeat);
        clearTimeout(timer);
        streams.delete(end);
        if (!res.writableEnded) res.end();
      };
      streams.add(end);
      res.on('close', end);
      res.on('error', end);
    }
  };
}

async function loadAsset(asset: Asset): Promise<{ raw: Buffer; gz: Buffer | null }> {
  const raw = await readFile(asset.path());
  return { raw, gz: asset.compress ? await promisify(gzip)(raw) : null };
}
