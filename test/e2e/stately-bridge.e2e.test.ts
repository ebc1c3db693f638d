import { get } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { InspectionEvent } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { KEY_PROTOCOL_PREFIX, BRIDGE_PROTOCOL } from '../../src/adapters/stately-inspector/bridge-server.ts';
import { startStatelyInspector } from '../../src/adapters/stately-inspector/stately-inspector.ts';
import type { StatelyInspector } from '../../src/adapters/stately-inspector/stately-inspector.ts';
import { createAuthThrottle } from '../../src/http/auth-throttle.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createInspectionHub } from '../../src/runtime/actors/inspection-hub.ts';
import type { InspectionHub } from '../../src/runtime/actors/inspection-hub.ts';
import { connectedBot, startRuntime } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';

const API_KEY = 'bridge-test-key-0123456789';
const INSPECT_KEY = 'bridge-read-only-key-9876543210';
const PHONE = '15551234567';
const BODY = 'meet me at the station at nine';

let hub: InspectionHub;
let inspector: StatelyInspector | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await inspector?.stop();
  inspector = undefined;
});

async function start(options: { showContent?: boolean; maxFailures?: number; hub?: InspectionHub } = {}): Promise<number> {
  hub = options.hub ?? createInspectionHub();
  inspector = await startStatelyInspector({
    port: 0, hub, logger: createLogger('silent'), keys: [API_KEY, INSPECT_KEY], allowedOrigins: ['https://stately.ai'],
    throttle: createAuthThrottle({ maxFailures: options.maxFailures ?? 20 }), showContent: options.showContent ?? false,
  });
  return inspector.bridge.address().port;
}

const keyProtocol = (key: string) => `${KEY_PROTOCOL_PREFIX}${Buffer.from(key).toString('base64url')}`;

interface Viewer {
  ws: WebSocket;
  messages: string[];
}

/** Opens a viewer the way the bridge page does (a key subprotocol), or with whatever headers given. */
function open(port: number, init: { key?: string; origin?: string; host?: string; headers?: Record<string, string> } = {}): Promise<Viewer | { refused: number }> {
  const protocols = init.key === undefined ? [] : [BRIDGE_PROTOCOL, keyProtocol(init.key)];
  const headers: Record<string, string> = { ...init.headers };
  if (init.host !== undefined) headers['host'] = init.host;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, protocols, { headers, ...(init.origin === undefined ? {} : { origin: init.origin }) });
  sockets.push(ws);
  const messages: string[] = [];
  ws.on('message', (data: Buffer) => messages.push(data.toString()));
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_req, res) => resolve({ refused: res.statusCode ?? 0 }));
    ws.once('error', () => resolve({ refused: -1 }));
  });
}

async function viewer(port: number, key = API_KEY, origin = `http://127.0.0.1:${port}`): Promise<Viewer> {
  const opened = await open(port, { key, origin });
  if ('refused' in opened) throw new Error(`refused with ${opened.refused}`);
  return opened;
}

/** A snapshot of a conversation as the runtime reports it: a message body and a phone number in the context and the event. */
function conversationSnapshot(): InspectionEvent {
  const correspondentId = `${PHONE}@s.whatsapp.net`;
  const actorRef = { id: `bot-1|${correspondentId}`, sessionId: `bot-1|${correspondentId}` };
  const message = { id: 7, content: BODY, sender: { id: correspondentId, displayName: 'Alice Example' }, source: 'whatsapp', mediaJobId: null };
  return {
    type: '@xstate.snapshot', actorRef, rootId: actorRef.sessionId,
    event: { type: 'message.text-received', message, now: 1 },
    snapshot: { status: 'active', value: { holding: 'idle' }, context: { botId: 'bot-1', correspondentId, window: { messages: [message], totalChars: BODY.length, nextId: 8 } } },
  } as unknown as InspectionEvent;
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the Stately inspector bridge', () => {
  it('listens on loopback only', async () => {
    const port = await start();
    expect(inspector!.bridge.address().address).toBe('127.0.0.1');
    const outward = Object.values(networkInterfaces()).flat().find((i) => i !== undefined && i.family === 'IPv4' && !i.internal);
    if (outward !== undefined) {
      const reached = await new Promise<boolean>((resolve) => {
        const socket = connect(port, outward.address);
        socket.once('connect', () => resolve(true)).once('error', () => resolve(false));
      });
      expect(reached).toBe(false);
    }
  });

  it('refuses a foreign Origin at the upgrade, even with the key', async () => {
    const port = await start();
    expect(await open(port, { key: API_KEY, origin: 'https://evil.example' })).toEqual({ refused: 403 });
    expect(await open(port, { key: API_KEY, origin: 'http://localhost:3000' })).toEqual({ refused: 403 });
    expect(await open(port, { key: API_KEY, origin: 'null' })).toEqual({ refused: 403 });
    expect(inspector!.bridge.viewers()).toBe(0);
    // Its own page and Stately's origin are let in, with the key.
    expect('ws' in (await open(port, { key: API_KEY, origin: `http://localhost:${port}` }))).toBe(true);
    expect('ws' in (await open(port, { key: INSPECT_KEY, origin: 'https://stately.ai' }))).toBe(true);
  });

  it('refuses a foreign Host (DNS rebinding) at the page and the upgrade', async () => {
    const port = await start();
    expect(await open(port, { key: API_KEY, host: `rebound.example:${port}` })).toEqual({ refused: 403 });
    // fetch will not send a Host of our choosing; a plain request will.
    const rebound = await new Promise<number>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/', headers: { host: `rebound.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(rebound).toBe(403);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('content-security-policy')).toContain('frame-src https://stately.ai');
    expect(await page.text()).toContain('src="https://stately.ai/inspect"');
  });

  it('wants a key, as a subprotocol or a bearer token, and counts the wrong ones', async () => {
    const port = await start({ maxFailures: 3 });
    expect(await open(port, {})).toEqual({ refused: 401 });
    expect(await open(port, { key: 'not-the-key-000000000000' })).toEqual({ refused: 401 });
    const bearer = await open(port, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect('ws' in bearer && bearer.ws.protocol).toBe('');
    expect(await open(port, { key: 'still-not-the-key-00000000' })).toEqual({ refused: 401 });
    expect(await open(port, { key: API_KEY })).toEqual({ refused: 429 });
  });

  it('never echoes the key subprotocol', async () => {
    const port = await start();
    expect((await viewer(port)).ws.protocol).toBe(BRIDGE_PROTOCOL);
  });

  it('relays nothing a client sends, to other clients or to later ones', async () => {
    const port = await start();
    const sender = await viewer(port);
    const listener = await viewer(port);
    sender.ws.send(JSON.stringify({ type: '@xstate.snapshot', sessionId: 'forged', snapshot: { context: { text: 'injected' } } }));
    hub.inspect(conversationSnapshot());
    await until(() => listener.messages.length === 1);
    const late = await viewer(port);
    await until(() => late.messages.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const seen of [listener.messages, late.messages, sender.messages]) {
      expect(seen).toHaveLength(1);
      expect(seen.join('')).not.toContain('forged');
      expect(seen.join('')).not.toContain('injected');
    }
  });

  it('forwards no message body, name or phone number, keeping states, event types and a stable pseudonym', async () => {
    const port = await start();
    const watching = await viewer(port);
    hub.inspect(conversationSnapshot());
    hub.inspect(conversationSnapshot());
    await until(() => watching.messages.length === 2);
    const [first, second] = watching.messages as [string, string];
    for (const secret of [BODY, PHONE, 'Alice']) expect(first).not.toContain(secret);
    const event = JSON.parse(first) as { sessionId: string; snapshot: { value: unknown; context: Record<string, unknown> }; event: { type: string; message: { id: number; content: string } } };
    expect(event.snapshot.value).toEqual({ holding: 'idle' });
    expect(event.event.type).toBe('message.text-received');
    expect(event.event.message).toMatchObject({ id: 7, content: '[redacted]' });
    expect(event.snapshot.context).toMatchObject({ botId: 'bot-1', window: { totalChars: BODY.length, nextId: 8 } });
    expect(Number((event as unknown as { createdAt: string }).createdAt)).toBeGreaterThan(0);
    expect(event.sessionId).toMatch(/^bot-1\|~[A-Za-z0-9_-]{8}@s\.whatsapp\.net$/);
    expect(event.snapshot.context['correspondentId']).toBe(event.sessionId.slice('bot-1|'.length));
    // One person, one pseudonym, event after event.
    const withoutTime = (json: string) => ({ ...(JSON.parse(json) as object), createdAt: undefined });
    expect(withoutTime(second)).toEqual(withoutTime(first));
  });

  it.each([
    ['redacts', false],
    ['with INSPECT_SHOW_CONTENT forwards', true],
  ])('%s what a real runtime reports: inbound text, a caption, a media result and an outgoing message', async (_label, showContent) => {
    const t = await openTestStore('parley_stately_bridge');
    const h = await startRuntime(t.store, { processor: async () => ({ status: 'processed', text: 'transcript: the parcel is in locker 12' }) });
    try {
      const port = await start({ hub: h.runtime.inspection, showContent });
      const watching = await viewer(port);
      const botId = await connectedBot(h, 'bridge-bot');
      await h.provider.text(botId, PHONE, BODY);
      await h.provider.media(botId, `+${PHONE}`, 'voice', undefined, 'caption: my address is 1 Main St');
      await h.runtime.outbox.send(botId, PHONE, 'reply: see you at nine');
      const seen = () => watching.messages.join('\n');
      await until(() => seen().includes('"deliveryId"') && seen().includes('"delivered"') && seen().includes('"completed"'), 10_000);
      expect(seen()).toContain('message.text-received');
      for (const secret of [BODY, PHONE, 'my address', 'locker 12', 'see you at nine']) {
        if (showContent) expect(seen()).toContain(secret);
        else expect(seen()).not.toContain(secret);
      }
    } finally {
      await inspector?.stop();
      inspector = undefined;
      await h.runtime.shutdown(1000);
      await t.dispose();
    }
  });
});
