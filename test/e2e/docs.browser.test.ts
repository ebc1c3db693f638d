import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { startApi } from './api-harness.ts';
import type { Api } from './api-harness.ts';

const CHROMIUM = '/usr/bin/chromium';
// The flags this sandbox needs: no background networking (the network is closed), no sandbox (root).
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('/docs in a real browser, under its content security policy', () => {
  let t: TestStore;
  let api: Api;
  let base: string;
  let context: BrowserContext | undefined;
  let profile: string | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Debian chromium is missing at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\``);
    t = await openTestStore('parley_docs_browser');
    api = await startApi(t.store);
    base = await api.app.listen({ host: '127.0.0.1', port: 0 });
    profile = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await context?.close();
    await api?.close();
    await t?.dispose();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
  });

  it('renders every operation with no request leaving the origin and nothing blocked', async () => {
    const page = context!.pages()[0] ?? (await context!.newPage());
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('console', (msg) => void (msg.type() === 'error' && problems.push(msg.text())));
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('request', (req) => void (!req.url().startsWith(base) && !req.url().startsWith('data:') && foreign.push(req.url())));
    const res = await page.goto(`${base}/docs/`);
    expect(res?.headers()['content-security-policy']).toMatch(/default-src 'none'/);
    await page.waitForSelector('.opblock-summary-path[data-path="/v1/bots/{id}/simulator/inbound"]', { timeout: 15_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThan(15);
    // Opening an operation renders its schema: the part of the UI that styles inline the most.
    await page.click('.opblock-summary-path[data-path="/v1/bots/{id}/simulator/inbound"]');
    await page.waitForSelector('.opblock.is-open .model-box, .opblock.is-open .body-param__example, .opblock.is-open .highlight-code');
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  }, 30_000);

  it('cannot be framed by another page', async () => {
    const page = await context!.newPage();
    await page.setContent(`<iframe src="${base}/docs/"></iframe>`);
    // Chromium refuses the frame's document at once; give it the time a load would take.
    await page.waitForTimeout(500);
    const framed = page.frames().find((frame) => frame.url().startsWith(`${base}/docs`));
    expect(framed === undefined || (await framed.locator('#swagger-ui').count()) === 0).toBe(true);
    await page.close();
  }, 30_000);
});
