import { describe, expect, it } from 'vitest';
import { ParleyError, errorStatus } from '../../../src/domain/errors.ts';
import type { BotRecord } from '../../../src/ports/bot-store.port.ts';
import type { Store } from '../../../src/ports/store.port.ts';
import type { BotQueueLimits } from '../../../src/control-plane/bot-queue-limits.ts';
import { createBotMediaKinds } from '../../../src/control-plane/bot-media-kinds.ts';
import { createControlPlane } from '../../../src/control-plane/control-plane.ts';
import type { ParleyRuntime } from '../../../src/runtime/parley-runtime.ts';

const record: BotRecord = { id: 'b1', provider: 'simulator', settings: {}, desiredState: 'stopped', createdAt: new Date(0), updatedAt: new Date(0) };

/** A control plane over stand-ins that do only what the error paths touch; deletion waits for `finishDelete`. */
function controlPlane(create: () => Promise<BotRecord> = async () => record) {
  let finishDelete = () => {};
  const deleting = new Promise<void>((resolve) => (finishDelete = resolve));
  const store = { bots: { get: async (id: string) => (id === record.id ? record : null) } } as unknown as Store;
  const runtime = { bots: { delete: () => deleting, create, ids: () => [] }, mediaJobs: { pools: { setBotPools: async () => undefined } } } as unknown as ParleyRuntime;
  const queueLimits = { remember() {}, forget() {} } as unknown as BotQueueLimits;
  const outbox = { send: () => Promise.reject(new Error('not used')), retry: () => Promise.reject(new Error('not used')) };
  return { cp: createControlPlane({ store, runtime, queueLimits, mediaKinds: createBotMediaKinds(), outbox, providers: ['simulator'] }), finishDelete: () => finishDelete() };
}

async function rejection(promise: Promise<unknown>): Promise<ParleyError> {
  const err: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ParleyError);
  return err as ParleyError;
}

describe('control plane error codes', () => {
  it('refuses to create a bot while its deletion is under way with 409 BOT_BEING_DELETED', async () => {
    const { cp, finishDelete } = controlPlane();
    const deletion = cp.deleteBot('b1');
    await new Promise((r) => setImmediate(r));
    const err = await rejection(cp.createBot({ id: 'b1', provider: 'simulator' }));
    expect(err).toMatchObject({ code: 'BOT_BEING_DELETED', message: 'Bot b1 is being deleted; create it again once that is done' });
    expect(errorStatus(err.code)).toBe(409);
    finishDelete();
    await deletion;
  });

  it('turns a duplicate id in the store into 409 BOT_EXISTS, keeping the store error as the cause', async () => {
    const duplicate = ParleyError.of('STORE_DUPLICATE_KEY', { operation: 'bots.create' });
    const { cp } = controlPlane(() => Promise.reject(duplicate));
    const err = await rejection(cp.createBot({ id: 'b1', provider: 'simulator' }));
    expect(err).toMatchObject({ code: 'BOT_EXISTS', message: 'Bot b1 already exists', cause: duplicate });
  });
});
