import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';

/** Where the bridge listens, whatever else is configured: other machines never reach it. */
export const BRIDGE_HOST = '127.0.0.1';
/** Stately's inspector, which the bridge page frames and hands the events to. */
export const STATELY_INSPECTOR_URL = 'https://stately.ai/inspect';
/** The subprotocol the bridge answers with; the key travels in a second one, never echoed. */
export const BRIDGE_PROTOCOL = 'parley-inspect';
export const KEY_PROTOCOL_PREFIX = 'parley-key.';

/** The failed-authentication throttle shared with the HTTP API (structurally; adapters know no HTTP). */
export interface FailureThrottle {
  retryAfterMs(address: string): number;
  fail(address: string): void;
}

export interface BridgeServerOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Keys that may watch: the API key, and the read-only inspector key when set. */
  readonly keys: readonly string[];
  /** Origins besides the bridge's own page whose pages may connect. */
  readonly allowedOrigins: readonly string[];
  readonly throttle: FailureThrottle;
  /** Events kept for a viewer that connects later (actor definitions come once, at start). */
  readonly replay?: number;
  readonly maxViewers?: number;
}

export interface BridgeServer {
  /** Sends one event to every viewer; viewers never send anything anywhere. */
  broadcast(json: string): void;
  address(): AddressInfo;
  viewers(): number;
  close(): Promise<void>;
}

const PAGE_DIR = join(import.meta.dirname, 'bridge-page');
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/bridge.js': { file: 'bridge.js', type: 'text/javascript; charset=utf-8' },
  '/bridge.css': { file: 'bridge.css', type: 'text/css; charset=utf-8' },
};
// A viewer that reads slower than events come is dropped rather than buffered without bound.
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * The bridge between Parley's actors and Stately's inspector: a page (served here) that frames
 * the inspector, and a WebSocket that feeds it. Unlike the server `@statelyai/inspect` ships, it
 * listens on loopback only; refuses a foreign Host (DNS rebinding) and a foreign Origin (any web
 * page the operator happens to visit); wants a key before it sends anything; and only ever
 * broadcasts what Parley produces, never what a client sends.
 */
export async function startBridgeServer(options: BridgeServerOptions): Promise<BridgeServer> {
  const keyDigests = options.keys.map(digest);
  const replayLimit = options.replay ?? 200;
  const maxViewers = options.maxViewers ?? 8;
  const recent: string[] = [];
  const wss = new WebSocketServer({
    noServer: true,
    // Viewers have nothing to say; a large frame is an attack, and ws closes the socket on it.
    maxPayload: 1024,
    handleProtocols: (protocols) => (protocols.has(BRIDGE_PROTOCOL) ? BRIDGE_PROTOCOL : false),
  });
  const server = createServer((req, res) => void servePage(req, res));
  let port = options.port;

  const ownHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  const allowedOrigins = (): Set<string> => new Set([...ownHosts().map((host) => `http://${host}`), ...options.allowedOrigins]);

  async function servePage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] as string;
    const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
    if (!ownHosts().includes(req.headers.host ?? '')) return void plain(res, 403, 'Forbidden: the bridge answers to 127.0.0.1 and localhost only');
    if (req.method !== 'GET' || asset === undefined) return void plain(res, 404, 'Not found');
    const inspector = new URL(STATELY_INSPECTOR_URL).origin;
    const body = await readFile(join(PAGE_DIR, asset.file), 'utf8');
    res.writeHead(200, {
      'content-type': asset.type,
      'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ${ownHosts().map((host) => `ws://${host}`).join(' ')}; frame-src ${inspector}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(body.replaceAll('{{INSPECTOR_URL}}', STATELY_INSPECTOR_URL));
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const address = req.socket.remoteAddress ?? '';
    const origin = req.headers.origin;
    if (!ownHosts().includes(req.headers.host ?? '')) return refuse(socket, 403, 'Host not allowed');
    // Browsers always send Origin on a WebSocket; a client without one is no web page, and the
    // key below still stands in its way.
    if (origin !== undefined && !allowedOrigins().has(origin)) return refuse(socket, 403, 'Origin not allowed');
    const waitMs = options.throttle.retryAfterMs(address);
    if (waitMs > 0) return refuse(socket, 429, 'Too many failed authentications', { 'retry-after': String(Math.ceil(waitMs / 1000)) });
    if (!presentsKey(req)) {
      options.throttle.fail(address);
      return refuse(socket, 401, 'A key is required');
    }
    if (wss.clients.size >= maxViewers) return refuse(socket, 503, 'Too many viewers');
    wss.handleUpgrade(req, socket, head, (ws) => {
      for (const json of recent) ws.send(json);
      // Whatever a viewer sends is dropped here: relaying it would let one client feed others.
      ws.on('message', () => undefined);
      ws.on('error', () => ws.terminate());
    });
  });

  /** The key as a subprotocol `parley-key.<base64url of the key>` (what a browser can send), or as a bearer token. */
  function presentsKey(req: IncomingMessage): boolean {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const candidates = offered.filter((p) => p.startsWith(KEY_PROTOCOL_PREFIX)).map((p) => Buffer.from(p.slice(KEY_PROTOCOL_PREFIX.length), 'base64url').toString('utf8'));
    const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) candidates.push(bearer);
    // Every candidate against every key, so timing tells nothing about which came close.
    let matched = false;
    for (const candidate of candidates.slice(0, 4)) for (const key of keyDigests) matched = timingSafeEqual(digest(candidate), key) || matched;
    return matched;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, BRIDGE_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;

  return {
    broadcast(json) {
      recent.push(json);
      if (recent.length > replayLimit) recent.shift();
      for (const ws of wss.clients) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) ws.terminate();
        else ws.send(json);
      }
    },
    address: () => server.address() as AddressInfo,
    viewers: () => wss.clients.size,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(text);
}

function refuse(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close', 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(reason)}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${reason}`);
}
