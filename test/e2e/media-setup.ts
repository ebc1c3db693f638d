import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createMediaProcessors } from '../../src/adapters/media-processors/media-processors.ts';
import { DEFAULT_PROCESSOR_SETTINGS } from '../../src/adapters/media-processors/processor-settings.ts';
import { createLocalMediaStore } from '../../src/adapters/media-store/local-media-store.ts';
import { defaultPools } from '../../src/domain/media-pools.ts';
import { isMediaKey } from '../../src/ports/media-store.port.ts';
import type { JanitorOptions } from '../../src/runtime/media-jobs/media-janitor.ts';
import type { StagingLimits } from '../../src/runtime/media-jobs/media-staging.ts';
import type { MediaSetup } from '../../src/runtime/parley-runtime.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { runningBot, startApi } from './api-harness.ts';
import type { Api, ApiOptions } from './api-harness.ts';

export interface RealMediaOptions {
  /** Base URL of the OpenAI-compatible server (the fake's `url`). */
  readonly openAiUrl: string;
  /** Null: no key configured, so the OpenAI processors answer with a note and call nothing. */
  readonly apiKey?: string | null;
  /** Bound on one processor call, SDK retries included. */
  readonly timeoutMs?: number;
  /** Retries inside the SDK on 429, 5xx and network errors. */
  readonly maxRetries?: number;
  /** Concurrency of the default pools. */
  readonly concurrency?: number;
  /** Staging limits over the defaults; downloads back off briefly unless given. */
  readonly staging?: Partial<StagingLimits>;
  readonly janitor?: Partial<JanitorOptions>;
}

export interface RealMedia {
  /** The setup to hand to `startApi(store, { media })` or the runtime. */
  readonly media: MediaSetup;
  /** The staging directory of the local media store. */
  readonly dir: string;
  /** Names of the staged files in the directory now (temp files of writes under way left out), sorted. */
  stagedFiles(): Promise<string[]>;
  /** Removes the staging directory. Close the API using `media` first. */
  dispose(): Promise<void>;
}

/**
 * The production media pipeline for a test: the real processors (OpenAI ones pointed at
 * `openAiUrl`), the default pools, and a local media store in a fresh temporary directory.
 */
export async function createRealMedia(options: RealMediaOptions): Promise<RealMedia> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-media-e2e-'));
  const processors = createMediaProcessors({
    ...DEFAULT_PROCESSOR_SETTINGS,
    openai: {
      ...DEFAULT_PROCESSOR_SETTINGS.openai,
      apiKey: options.apiKey === undefined ? 'test-key' : options.apiKey,
      baseURL: options.openAiUrl,
      maxRetries: options.maxRetries ?? 1,
    },
    timeoutMs: options.timeoutMs ?? 10_000,
  });
  const media: MediaSetup = {
    processors,
    pools: defaultPools(options.concurrency ?? 2),
    store: await createLocalMediaStore(dir),
    staging: { downloadBackoff: { baseMs: 5, maxMs: 20, jitter: 0 }, ...options.staging },
    ...(options.janitor === undefined ? {} : { janitor: options.janitor }),
  };
  return {
    media,
    dir,
    async stagedFiles() {
      return (await readdir(dir)).filter((name) => isMediaKey(name)).sort();
    },
    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `useApi` with the real media pipeline: an API on its own test store for the surrounding
 * `describe`, its media staged in a fresh directory. `options` is read in `beforeAll`, so it may
 * use what a file-level `beforeAll` set up (the fake OpenAI server's URL).
 */
export function useMediaApi(
  dbName: string,
  options: () => RealMediaOptions,
  app: Omit<ApiOptions, 'media'> & { runningBots?: readonly string[] } = {},
): { readonly api: Api; readonly t: TestStore; readonly media: RealMedia } {
  let started: { api: Api; t: TestStore; media: RealMedia } | undefined;
  beforeAll(async () => {
    const { runningBots = [], ...rest } = app;
    const media = await createRealMedia(options());
    const t = await openTestStore(dbName);
    const api = await startApi(t.store, { ...rest, media: media.media });
    started = { api, t, media };
    for (const id of runningBots) await runningBot(api, id);
  });
  afterAll(async () => {
    await started?.api.close();
    await started?.t.dispose();
    await started?.media.dispose();
  });
  const get = () => {
    if (started === undefined) throw new Error('useMediaApi: read api, t and media inside tests, not while collecting them');
    return started;
  };
  return { get api() { return get().api; }, get t() { return get().t; }, get media() { return get().media; } };
}
