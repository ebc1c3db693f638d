import { describe, expect, it } from 'vitest';
import { faultyStore } from '../../support/faulty-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import { crashingPathStore, describePoint, pointsOf, replySetup, scriptedModel, storedReply, writeKey } from '../../support/reply-harness.ts';
import type { WritePoint } from '../../support/reply-harness.ts';
import { openTestStore } from '../../support/test-store.ts';

/**
 * The owner's message from the phone (race l's trigger) is a write path of its own: its history
 * row, the conversation's window, and the reply actor's pause. A crash before any of those writes,
 * or one transient failure of it, must end with the row stored once and the AI paused by the owner.
 */

const CID = '4915550900';
const PID = 'WAMID-OWNER';
const TEXT = 'This is Anna, I will take it from here.';
const OPTIONS = { outbox: { pollMs: 600_000 }, worker: { pollMs: 600_000 } };

async function expectPausedOnce(store: Parameters<typeof storedReply>[0], bot: string): Promise<void> {
  const reply = await eventually(() => storedReply(store, bot, CID), (r) => r?.state === 'paused');
  expect(reply?.context).toMatchObject({ pausedBy: 'owner', reply: null });
  const rows = await store.history.list(bot, CID);
  expect(rows.map((r) => [r.seq, r.direction, r.source, r.status, r.content])).toEqual([[1, 'outbound', 'owner', 'sent', TEXT]]);
}

/** A provider delivers again until the message is acknowledged. */
async function deliver(send: () => Promise<void>): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      return await send();
    } catch (err) {
      if (tries >= 3) throw err;
    }
  }
}

async function referencePath(): Promise<WritePoint[]> {
  const t = await openTestStore('parley_owner_path');
  const recording = crashingPathStore(t.store);
  const h = await startRuntime(recording.store, { ...OPTIONS, replies: replySetup(scriptedModel().generator) });
  try {
    const bot = await connectedBot(h);
    await h.runtime.bots.actor(bot).flush();
    const from = recording.trace.length;
    await h.provider.own(bot, CID, TEXT, PID);
    await h.runtime.conversations.flush();
    await expectPausedOnce(t.store, bot);
    return pointsOf(recording.trace.slice(from));
  } finally {
    await h.runtime.shutdown();
    await t.dispose();
  }
}

describe('the owner\'s message from the phone under crashes and transient faults', () => {
  it('stores it once and pauses the AI wherever the process dies', async () => {
    const path = await referencePath();
    expect(path.map(describePoint)).toEqual(expect.arrayContaining(['history.append[outbound] #1', 'actors.insert[reply] #1']));
    expect(path.length).toBeGreaterThanOrEqual(3);
    for (const point of path) {
      const t = await openTestStore('parley_owner_path');
      const crashing = crashingPathStore(t.store);
      const model = scriptedModel();
      const first = await startRuntime(crashing.store, { ...OPTIONS, replies: replySetup(model.generator) });
      try {
        const bot = await connectedBot(first);
        await first.runtime.bots.actor(bot).flush();
        crashing.armBefore(point);
        // A dead process never answers: a write it keeps retrying leaves the provider waiting.
        const acked = await Promise.race([
          first.provider.own(bot, CID, TEXT, PID).then(() => true, () => false),
          eventually(async () => crashing.isDead(), Boolean).then(() => new Promise<boolean>((r) => setTimeout(() => r(false), 200))),
        ]);
        // The window's write follows the acknowledgement (it is rebuilt from history on restore).
        await eventually(async () => crashing.isDead(), Boolean, 2_000).catch(() => undefined);
        expect(crashing.isDead(), `${describePoint(point)} was reached`).toBe(true);
        first.runtime.halt();
        const second = await startRuntime(t.store, { ...OPTIONS, replies: replySetup(model.generator) });
        try {
          await eventually(() => second.runtime.bots.state(bot), (s) => s === 'connected');
          // Unacknowledged: the provider delivers it again. Acknowledged: it is durable already.
          if (!acked) await deliver(() => second.provider.own(bot, CID, TEXT, PID));
          await expectPausedOnce(t.store, bot);
        } finally {
          await second.runtime.shutdown();
        }
      } finally {
        first.runtime.halt();
        await t.dispose();
      }
    }
  }, 120_000);

  it('converges after one transient failure of each write, before it and after it landed', async () => {
    const path = await referencePath();
    for (const point of path) {
      for (const at of ['before', 'after'] as const) {
        const t = await openTestStore('parley_owner_path');
        const faulty = faultyStore(t.store);
        const h = await startRuntime(faulty.store, { ...OPTIONS, replies: replySetup(scriptedModel().generator) });
        try {
          const bot = await connectedBot(h);
          await h.runtime.bots.actor(bot).flush();
          const [label = ''] = point.key.split('[');
          let seen = 0;
          const plan = at === 'before' ? faulty.failOnce : faulty.landThenFail;
          const fault = plan(label, (args) => writeKey(label, args) === point.key && ++seen === point.occurrence);
          await deliver(() => h.provider.own(bot, CID, TEXT, PID));
          await h.runtime.conversations.flush();
          await expectPausedOnce(t.store, bot);
          expect(fault.fired, `${describePoint(point)} (${at}) fired`).toBe(true);
        } finally {
          await h.runtime.shutdown();
          await t.dispose();
        }
      }
    }
  }, 120_000);
});
