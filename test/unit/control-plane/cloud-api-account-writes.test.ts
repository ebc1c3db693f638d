import { describe, expect, it } from 'vitest';
import { createCloudApiProvider } from '../../../src/adapters/cloud-api/cloud-api.provider.ts';
import type { BotCreateBody } from '../../../src/control-plane/dto/bot.dto.ts';
import { isParleyError } from '../../../src/domain/errors.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { createParleyServices } from '../../../src/parley-services.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import { readCloudApiAccount } from '../../../src/runtime/bots/cloud-api-credentials.ts';
import { crashingStore } from '../../support/crashing-store.ts';
import { faultyStore } from '../../support/faulty-store.ts';
import { openTestStore } from '../../support/test-store.ts';
import { testMedia } from '../../support/test-media.ts';

/**
 * Creating a Cloud API bot writes twice: its secrets (sealed), then its definition. A crash before
 * either, or one transient failure of either, must end, once the operator sends the request
 * again, with one bot whose account is complete: never a bot that cannot connect.
 */

const REQUEST: BotCreateBody = {
  id: 'meta-shop', provider: 'cloud-api',
  cloudApi: { phoneNumberId: '106540352242922', accessToken: 'EAAG-token', appSecret: 'app-secret', verifyToken: 'verify-me' },
};
const WRITES = ['authState.set', 'bots.create'] as const;

function services(store: Store) {
  const logger = createLogger('silent');
  return createParleyServices({
    store,
    providers: { 'cloud-api': createCloudApiProvider({ account: () => Promise.resolve(null), graph: () => { throw new Error('unused'); }, logger }) },
    media: testMedia(async () => ({ status: 'processed', text: 'x' }), { concurrency: 1 }),
    logger,
  });
}

/** The operator sends the request again until it is answered; an existing bot is an answer too. */
async function createUntilAnswered(store: Store): Promise<void> {
  const s = services(store);
  await s.start();
  try {
    for (let tries = 0; tries < 3; tries++) {
      try {
        await s.controlPlane.createBot(REQUEST);
        return;
      } catch (err) {
        if (isParleyError(err, 'BOT_EXISTS')) return;
      }
    }
    throw new Error('never answered');
  } finally {
    await s.shutdown(500);
  }
}

async function expectOneCompleteBot(store: Store): Promise<void> {
  const bots = await store.bots.list();
  expect(bots.map((b) => b.id)).toEqual([REQUEST.id]);
  const account = await readCloudApiAccount(store.authState, REQUEST.id, bots[0]?.settings ?? {});
  expect(account).toMatchObject({ phoneNumberId: '106540352242922', accessToken: 'EAAG-token', appSecret: 'app-secret', verifyToken: 'verify-me' });
  expect(JSON.stringify(bots[0]?.settings)).not.toMatch(/EAAG-token|app-secret|verify-me/);
}

describe('creating a Cloud API bot under crashes and transient faults', () => {
  it.each(WRITES)('ends with one bot with a complete account when the process dies before %s', async (label) => {
    const t = await openTestStore('parley_cloud_account');
    try {
      const crashing = crashingStore(t.store);
      crashing.armBefore(label);
      const first = services(crashing.store);
      await first.start();
      await expect(first.controlPlane.createBot(REQUEST)).rejects.toThrow();
      expect(crashing.isDead()).toBe(true);
      first.runtime.halt();
      await createUntilAnswered(t.store);
      await expectOneCompleteBot(t.store);
    } finally {
      await t.dispose();
    }
  });

  it.each(WRITES.flatMap((label) => [[label, 'before'], [label, 'after']] as const))('converges after one transient failure of %s (%s the store)', async (label, at) => {
    const t = await openTestStore('parley_cloud_account');
    try {
      const faulty = faultyStore(t.store);
      const fault = (at === 'before' ? faulty.failOnce : faulty.landThenFail)(label, () => true);
      await createUntilAnswered(faulty.store);
      expect(fault.fired).toBe(true);
      await expectOneCompleteBot(t.store);
    } finally {
      await t.dispose();
    }
  });
});
