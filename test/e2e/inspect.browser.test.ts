import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../src/http/error-handler.ts';
import { inspectRoutes } from '../../src/http/inspect.routes.ts';
import { createActorDirectory } from '../../src/observability/actor-directory.ts';
import type { ActorDirectory } from '../../src/observability/actor-directory.ts';
import { MACHINES, machineDiagrams } from '../../src/observability/machine-diagrams.ts';
import { controlledProcessor, eventually, startRuntime } from '../support/runtime-harness.ts';
import type { Harness } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';

const CHROMIUM = '/usr/bin/chromium';
const API_KEY = 'inspect-test-key-0123456789';
const SCREENSHOT = join(import.meta.dirname, '..', '..', 'test-artifacts', 'inspect.png');

// The flags this sandbox needs: no background networking (the network is closed), no sandbox (root).
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

describe('/inspect in a real browser', () => {
  let t: TestStore;
  let h: Harness;
  let cp: ReturnType<typeof controlledProcessor>;
  let directory: ActorDirectory;
  let app: FastifyInstance;
  let base: string;
  let context: BrowserContext | undefined;
  let page: Page;
  let profile: string | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Debian chromium is missing at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (.ci/run does this)`);
    }
    t = await openTestStore('parley_inspect');
    cp = controlledProcessor();
    h = await startRuntime(t.store, { processor: cp.processor });
    directory = createActorDirectory(h.runtime.inspection);
    app = Fastify();
    installErrorHandler(app);
    await app.register(inspectRoutes({ hub: h.runtime.inspection, directory, diagrams: machineDiagrams, apiKey: API_KEY, heartbeatMs: 500 }));
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    profile = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
    // A persistent context is how Playwright takes a fresh --user-data-dir of our choosing.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    await app?.close();
    await h?.runtime.shutdown(1000);
    await t?.dispose();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  it('refuses requests without a session or the key, and takes a key in the query of the page only', async () => {
    expect((await fetch(`${base}/inspect`)).status).toBe(401);
    expect((await fetch(`${base}/inspect?key=wrong`)).status).toBe(401);
    expect((await fetch(`${base}/inspect/stream`)).status).toBe(401);
    expect((await fetch(`${base}/inspect/actors?key=${API_KEY}`)).status).toBe(401);
    const bearer = await fetch(`${base}/inspect/actors`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(bearer.status).toBe(200);
    expect(await bearer.json()).toMatchObject({ actors: expect.any(Array) });
    const diagrams = await fetch(`${base}/inspect/diagrams`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(Object.keys(((await diagrams.json()) as { diagrams: object }).diagrams)).toEqual(MACHINES.map((m) => m.name));
    const mermaid = await fetch(`${base}/inspect/assets/mermaid.min.js`);
    expect(mermaid.headers.get('content-encoding')).toBe('gzip');
    // Read to the end: a response the client stops reading keeps its connection busy, and app.close() waits for it.
    expect((await mermaid.text()).length).toBeGreaterThan(1_000_000);
    expect((await fetch(`${base}/inspect/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('shows a bot and a media job changing state live', async () => {
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => void (msg.type() === 'error' && errors.push(msg.text())));
    await page.goto(`${base}/inspect?key=${API_KEY}`);
    await page.waitForSelector('#conn[data-conn="live"]');
    // The key was exchanged for a cookie scripts cannot read, and is gone from the address bar.
    expect(page.url()).toBe(`${base}/inspect`);
    expect(await page.evaluate("performance.getEntriesByType('navigation').map((entry) => entry.name)")).toEqual([`${base}/inspect`]);
    expect(await page.evaluate('document.cookie')).toBe('');
    const cookies = await context!.cookies(`${base}/inspect`);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'parley_inspect', httpOnly: true, sameSite: 'Strict', path: '/inspect', secure: false });
    expect(cookies[0]!.value).not.toContain(API_KEY);

    const botId = 'inspect-bot';
    await h.runtime.bots.create({ id: botId, provider: 'test', settings: {}, desiredState: 'stopped' });
    const botCard = `[data-cards="bot"] [data-actor-id="${botId}"]`;
    await page.waitForSelector(`${botCard}[data-state="stopped"]`);
    await h.runtime.bots.start(botId);
    await page.waitForSelector(`${botCard}[data-state="connected"]`);
    expect(await page.getAttribute(`${botCard} .trail`, 'data-trail')).toBe('stopped > starting > connected');
    // The first bot is selected on its own: its diagram is drawn with the current state lit.
    await page.waitForSelector('#diagram[data-machine="bot"][data-current="connected"] .current-state');

    const delivery = h.provider.media(botId, 'correspondent-1', 'image');
    const job = await cp.next();
    await delivery;
    const jobCard = `[data-cards="media-job"] [data-actor-id="${job.id}"]`;
    await page.waitForSelector(`${jobCard}[data-state="processing"]`);
    await page.waitForSelector(`[data-cards="correspondent-queue"] [data-actor-id="${botId}|correspondent-1"]`);
    cp.complete(job.id, 'a cat on a sofa');
    await page.waitForSelector(`${jobCard}[data-state="delivered"]`);
    expect(await page.getAttribute(`${jobCard} .trail`, 'data-trail')).toBe('pending > processing > completed > delivered');

    await page.click(jobCard);
    await page.waitForSelector('#diagram[data-machine="media-job"][data-current="delivered"] .current-state');
    const moves = await page.$$eval('#log tr:not(.self)', (rows) => rows.map((r) => `${r.getAttribute('data-from')}>${r.getAttribute('data-to')}`));
    expect(moves.reverse()).toEqual(['>pending', 'pending>processing', 'processing>completed', 'completed>delivered']);
    // Nothing the page shows carries the media's text or the message body.
    expect(await page.textContent('body')).not.toContain('a cat on a sofa');

    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
  });

  it('streams a snapshot, then heartbeats; closing the app ends open streams', async () => {
    const other = Fastify();
    installErrorHandler(other);
    // No directory given: the plugin builds its own from the hub and closes it with the app.
    await other.register(inspectRoutes({ hub: h.runtime.inspection, diagrams: machineDiagrams, apiKey: API_KEY, heartbeatMs: 100 }));
    const url = await other.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${url}/inspect/stream`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/^retry: 2000\n\nevent: snapshot\ndata: \{"at":\d+,"actors":\[/);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(2000);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read());
  });

  it('ends the event stream when the page goes away', async () => {
    expect(directory.listenerCount()).toBeGreaterThan(0);
    await page.goto('about:blank');
    await eventually(() => directory.listenerCount(), (n) => n === 0);
  });
});
