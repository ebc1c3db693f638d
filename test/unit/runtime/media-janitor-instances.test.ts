import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { FinalizePlaceholderParams } from '../../../machines/media-job.machine.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import { createMediaJanitor } from '../../../src/runtime/media-jobs/media-janitor.ts';
import { createMediaJobs } from '../../../src/runtime/media-jobs/media-jobs.ts';
import { DEFAULT_STAGING_LIMITS, createMediaStaging } from '../../../src/runtime/media-jobs/media-staging.ts';
import { createMemoryMediaStore } from '../../support/memory-media-store.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

/** Janitors of several instances on one store: each ends stale media work only for the bots it hosts. */

const logger = createLogger(process.env['TEST_LOG_LEVEL'] ?? 'silent');
const X = 'bot-x';
const CID = '4915550722';
const HOUR = 3_600_000;

const opened: TestStore[] = [];
afterEach(async () => {
  for (const t of opened.splice(0)) await t.dispose();
});

/** One instance: its media jobs (not started) and its janitor, the clock four hours ahead. */
function instance(store: Store, hosted: boolean) {
  const finalized: FinalizePlaceholderParams[] = [];
  const conversations = { finalize: async (p: FinalizePlaceholderParams) => void finalized.push(p), reopen: async () => {} };
  const staging = createMediaStaging({ store: createMemoryMediaStore(), limits: DEFAULT_STAGING_LIMITS, logger });
  const clock = () => Date.now() + 4 * HOUR;
  const hosting = { hosts: (botId: string) => hosted && botId === X, hostedBotIds: () => (hosted ? [X] : []) };
  const jobs = createMediaJobs({
    store: store.mediaJobs, conversations, processors: { test: async () => ({ status: 'processed', text: 'never' }) },
    pools: [{ name: 'media', kinds: [], mimetypes: [], processor: 'test', concurrency: 1 }],
    staging, owner: randomUUID(), worker: { leaseMs: 1000, pollMs: 20, maxAttempts: 3 }, logger, clock: Date.now,
    stats: { deadLettered: 0, lateResultsDiscarded: 0 }, ...hosting,
  });
  const janitor = createMediaJanitor({
    jobs: store.mediaJobs, host: jobs.host, history: store.history, conversations, staging, clock, logger, staleMs: 3 * HOUR, ...hosting,
  });
  return { jobs, janitor, finalized };
}

describe('media janitors of several instances', () => {
  it('ends a stale job and a placeholder whose job was lost only on the instance hosting their bot', async () => {
    const t = await openTestStore('parley_janitor_instances');
    opened.push(t);
    const a = instance(t.store, true);
    const b = instance(t.store, false);
    const stale = randomUUID();
    await a.jobs.create(
      { jobId: stale, botId: X, correspondentId: CID, messageId: 1, kind: 'voice', caption: null, fileName: null },
      { mimetype: 'audio/ogg' },
      { status: 'failed', reason: 'download failed' },
    );
    const lost = randomUUID();
    await t.store.history.append([{
      botId: X, correspondentId: CID, seq: 2, providerMessageId: 'P-lost', direction: 'inbound', source: 'user', sender: CID, kind: 'image',
      content: '[Image] (processing)', status: 'placeholder', mediaJobId: lost, acceptedAt: new Date(), finalizedAt: null,
    }]);

    expect(await b.janitor.run()).toMatchObject({ deadLettered: 0, placeholdersEnded: 0 });
    expect(b.finalized).toEqual([]);
    expect(await t.store.mediaJobs.get(stale)).toMatchObject({ state: 'pending' });

    expect(await a.janitor.run()).toMatchObject({ deadLettered: 1, placeholdersEnded: 1 });
    expect(a.finalized.map((p) => [p.jobId, p.status])).toEqual([[stale, 'failed'], [lost, 'failed']]);
    expect(await t.store.mediaJobs.get(stale)).toMatchObject({ statePath: 'failed.notified' });
  });
});
