import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import type { InspectionEvent } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStatelyInspector } from '../../src/adapters/stately-inspector/stately-inspector.ts';
import type { StatelyInspector } from '../../src/adapters/stately-inspector/stately-inspector.ts';
import { createAuthThrottle } from '../../src/http/auth-throttle.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createInspectionHub } from '../../src/runtime/actors/inspection-hub.ts';

const CHROMIUM = '/usr/bin/chromium';
const API_KEY = 'bridge-browser-key-0123456789';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/**
 * A page from some other site the operator happens to visit, which tries the bridge the way the
 * package's own bridge page does (no key), and with the key as if it had learnt it.
 */
function attackerPage(bridgePort: number): string {
  const withKey = `parley-key.${Buffer.from(API_KEY).toString('base64url')}`;
  return `<!doctype html><script>
    const attempt = (protocols) => new Promise((resolve) => {
      const ws = new WebSocket('ws://localhost:${bridgePort}/', protocols);
      ws.onopen = () => resolve('opened');
      ws.onmessage = (m) => resolve('received ' + m.data);
      ws.onerror = () => resolve('refused');
    });
    window.outcome = Promise.all([attempt([]), attempt(['parley-inspect', '${withKey}'])]);
  </script>`;
}

describe('the Stately bridge in a real browser', () => {
  const hub = createInspectionHub();
  let inspector: StatelyInspector;
  let attacker: Server;
  let context: BrowserContext | undefined;
  let page: Page;
  let profile: string | undefined;
  let bridge: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Debian chromium is missing at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does this)`);
    }
    inspector = await startStatelyInspector({
      port: 0, hub, logger: createLogger('silent'), keys: [API_KEY], allowedOrigins: ['https://stately.ai'], throttle: createAuthThrottle(),
    });
    bridge = `http://127.0.0.1:${inspector.bridge.address().port}`;
    attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage(inspector.bridge.address().port)));
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    profile = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await inspector?.stop();
    await new Promise((resolve) => attacker?.close(resolve));
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  it('refuses a page of another origin, with or without the key', async () => {
    hub.inspect({ type: '@xstate.actor', actorRef: { id: 'bot-1', sessionId: 'bot-1', logic: { config: { id: 'bot' } } }, rootId: 'bot-1' } as unknown as InspectionEvent);
    const { port } = attacker.address() as AddressInfo;
    await page.goto(`http://localhost:${port}/`);
    expect(await page.evaluate('window.outcome')).toEqual(['refused', 'refused']);
    expect(inspector.bridge.viewers()).toBe(0);
  });

  it('connects its own page once the key is entered, never putting the key in the URL', async () => {
    await page.goto(`${bridge}/`, { waitUntil: 'domcontentloaded' });
    await page.fill('#key', 'not-the-key-000000000000');
    await page.click('button[type="submit"]');
    await page.waitForSelector('#status[data-status="down"]');
    expect(inspector.bridge.viewers()).toBe(0);
    await page.fill('#key', API_KEY);
    await page.click('button[type="submit"]');
    await page.waitForSelector('#status[data-status="live"]');
    expect(inspector.bridge.viewers()).toBe(1);
    // The actor reported before the page connected is replayed to it.
    await page.waitForSelector('#count:not([data-count="0"])');
    expect(page.url()).toBe(`${bridge}/`);
    expect(await page.inputValue('#key')).toBe('');
  });
});
