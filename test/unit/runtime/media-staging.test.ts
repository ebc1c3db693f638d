import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logging/logger.ts';
import type { MediaStore } from '../../../src/ports/media-store.port.ts';
import { DEFAULT_STAGING_LIMITS, createMediaStaging } from '../../../src/runtime/media-jobs/media-staging.ts';
import type { StagingLimits } from '../../../src/runtime/media-jobs/media-staging.ts';
import { createMemoryMediaStore } from '../../support/memory-media-store.ts';

const logger = createLogger('silent');
const limits = (over: Partial<StagingLimits> = {}): StagingLimits => ({ ...DEFAULT_STAGING_LIMITS, downloadBackoff: { baseMs: 1, maxMs: 2, jitter: 0 }, ...over });
const listed = async (store: MediaStore) => {
  const keys: string[] = [];
  for await (const file of store.list()) keys.push(file.key);
  return keys;
};
const bytes = (n: number) => new Uint8Array(n).fill(7);
const source = (n: number, declared: number | null = n) => ({ sizeBytes: declared, download: async () => bytes(n) });

async function staging(over: Partial<StagingLimits> = {}, store: MediaStore = createMemoryMediaStore()) {
  const s = createMediaStaging({ store, limits: limits(over), logger });
  await s.init();
  return { s, store };
}

describe('media staging', () => {
  it('stores a download under a fresh GUID and counts it until it is released once', async () => {
    const { s, store } = await staging();
    const staged = await s.stage(source(100));
    expect(staged).toMatchObject({ status: 'staged', sizeBytes: 100 });
    if (staged.status !== 'staged') throw new Error('not staged');
    expect(staged.key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await s.read(staged.key)).toEqual(bytes(100));
    expect(s.stagedBytes()).toBe(100);
    await s.release(staged.key);
    await s.release(staged.key);
    expect(s.stagedBytes()).toBe(0);
    expect(await s.read(staged.key)).toBeNull();
    expect(await listed(store)).toEqual([]);
  });

  it('starts from what an earlier process left staged, so the quota holds across restarts', async () => {
    const store = createMemoryMediaStore();
    const first = await staging({}, store);
    await first.s.stage(source(300));
    const second = await staging({ quotaBytes: 500 }, store);
    expect(second.s.stagedBytes()).toBe(300);
    expect(await second.s.stage(source(300))).toEqual({ status: 'failed', reason: 'media staging is full (500 bytes in use)' });
  });

  it('refuses a file over the per-file cap, declared or found while streaming, and keeps nothing of it', async () => {
    const { s, store } = await staging({ maxFileBytes: 1024 * 1024 });
    expect(await s.stage(source(2 * 1024 * 1024))).toEqual({ status: 'failed', reason: 'the file is larger than the 1 MB limit' });
    expect(await s.stage(source(2 * 1024 * 1024, null))).toEqual({ status: 'failed', reason: 'the file is larger than the 1 MB limit' });
    expect(s.stagedBytes()).toBe(0);
    expect(await listed(store)).toEqual([]);
  });

  it('refuses media past the running quota, counting downloads still under way', async () => {
    const { s } = await staging({ quotaBytes: 1000, maxFileBytes: 1000 });
    let release!: () => void;
    const slow = { sizeBytes: 600, download: () => new Promise<Uint8Array>((r) => (release = () => r(bytes(600)))) };
    const first = s.stage(slow);
    // The first download has reserved its declared 600 bytes: 600 more do not fit beside it.
    expect((await s.stage(source(600))).status).toBe('failed');
    release();
    expect((await first).status).toBe('staged');
    expect((await s.stage(source(400))).status).toBe('staged');
    expect(s.stagedBytes()).toBe(1000);
  });

  it('tries a failing download three times with backoff, then names the failure', async () => {
    const { s } = await staging();
    let tries = 0;
    const flaky = { sizeBytes: null, download: async () => { tries += 1; throw new Error('media expired'); } };
    expect(await s.stage(flaky)).toEqual({ status: 'failed', reason: 'the download failed 3 times (media expired)' });
    expect(tries).toBe(3);
    let second = 0;
    const recovers = { sizeBytes: null, download: async () => (++second < 2 ? Promise.reject(new Error('reset')) : bytes(5)) };
    expect(await s.stage(recovers)).toMatchObject({ status: 'staged', sizeBytes: 5 });
  });

  it('retries a write the store failed once, like a failed download', async () => {
    const store = createMemoryMediaStore();
    let failures = 1;
    const flaky: MediaStore = { ...store, list: () => store.list(), put: async (...args) => (failures-- > 0 ? Promise.reject(new Error('disk hiccup')) : store.put(...args)) };
    const { s } = await staging({}, flaky);
    expect(await s.stage(source(10))).toMatchObject({ status: 'staged', sizeBytes: 10 });
    expect(await listed(store)).toHaveLength(1);
  });
});
