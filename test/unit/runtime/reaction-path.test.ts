import { describe, expect, it } from 'vitest';
import { faultyStore } from '../../support/faulty-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { crashingPathStore, describePoint, pointsOf, replySetup, scriptedModel, writeKey } from '../../support/reply-harness.ts';
import type { WritePoint } from '../../support/reply-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { Store } from '../../../src/ports/store.port.ts';

/**
 * A reaction is part of the conversation but news to no one: stored in history and the window,
 * heard by no listener, so the AI never answers it. Its writes (the history row, the window) must
 * survive a crash before each and one transient failure of each like any inbound message.
 */

const CID = '4915550700';
const PID = 'WAMID-REACTION';
const OPTIONS = { outbox: { pollMs: 600_000 }, worker: { pollMs: 600_000 } };

async function deliver(send: () => Promise<void>): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      return await send();
    } catch (err) {
      if (tries >= 3) throw err;
    }
  }
}

/** A text answered and its reply sent, before the reaction arrives. */
async function answeredText(h: Harness, store: Store, bot: string): Promise<void> {
  await h.provider.text(bot, CID, 'hello', 'WAMID-TEXT');
  await eventually(() => store.history.list(bot, CID), (r) => r.some((row) => row.direction === 'outbound' && row.status === 'sent'));
  await h.runtime.conversations.flush();
  await h.runtime.bots.actor(bot).flush();
}

/** Stored once, in the window, heard by no listener, answered by no model. */
async function expectRecordedQuietly(store: Store, h: Harness, bot: string, model: ReturnType<typeof scriptedModel>): Promise<void> {
  const rows = await eventually(() => store.history.list(bot, CID), (r) => r.length === 3);
  expect(rows.map((r) => [r.seq, r.direction, r.source, r.kind, r.status, r.content])).toEqual([
    [1, 'inbound', 'user', 'text', 'final', 'hello'],
    [2, 'outbound', 'bot', 'text', 'sent', 'reply to: hello'],
    [3, 'inbound', 'user', 'reaction', 'final', '[Reaction 👍]'],
  ]);
  await eventually(async () => (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window.messages.length, (n) => n === 3);
  const window = (await h.runtime.conversations.queue(bot, CID)).getSnapshot().context.window;
  expect(window.messages.map((m) => m.content)).toEqual(['hello', 'reply to: hello', '[Reaction 👍]']);
  // The text was answered once; the reaction neither heard nor answered.
  await eventually(() => model.calls.filter((c) => c.outcome === 'answered').length, (n) => n === 1, 5_000);
  await new Promise((r) => setTimeout(r, 200));
  expect(model.calls.filter((c) => c.outcome === 'answered').map((c) => c.lastUser)).toEqual(['hello']);
  expect(h.delivered.filter((d) => d.botId === bot && d.content.startsWith('[Reaction'))).toEqual([]);
}

async function referencePath(): Promise<WritePoint[]> {
  const t = await openTestStore('parley_reaction_path');
  const recording = crashingPathStore(t.store);
  const model = scriptedModel();
  const h = await startRuntime(recording.store, { ...OPTIONS, replies: replySetup(model.generator) });
  try {
    const bot = await connectedBot(h);
    await answeredText(h, t.store, bot);
    const from = recording.trace.length;
    await h.provider.reaction(bot, CID, '👍', PID);
    await h.runtime.conversations.flush();
    await expectRecordedQuietly(t.store, h, bot, model);
    return pointsOf(recording.trace.slice(from));
  } finally {
    await h.runtime.shutdown();
    await t.dispose();
  }
}

describe('a reaction under crashes and transient faults', () => {
  it('is stored once, kept in the window and never answered, wherever the process dies', async () => {
    const path = await referencePath();
    expect(path.map(describePoint)).toEqual(expect.arrayContaining(['history.append[inbound] #1']));
    for (const point of path) {
      const t = await openTestStore('parley_reaction_path');
      const crashing = crashingPathStore(t.store);
      const model = scriptedModel();
      const first = await startRuntime(crashing.store, { ...OPTIONS, replies: replySetup(model.generator) });
      try {
        const bot = await connectedBot(first);
        await answeredText(first, t.store, bot);
        crashing.armBefore(point);
        const acked = await Promise.race([
          first.provider.reaction(bot, CID, '👍', PID).then(() => true, () => false),
          eventually(async () => crashing.isDead(), Boolean).then(() => new Promise<boolean>((r) => setTimeout(() => r(false), 200))),
        ]);
        await eventually(async () => crashing.isDead(), Boolean, 2_000).catch(() => undefined);
        expect(crashing.isDead(), `${describePoint(point)} was reached`).toBe(true);
        first.runtime.halt();
        const second = await startRuntime(t.store, { ...OPTIONS, replies: replySetup(model.generator) });
        try {
          await eventually(() => second.runtime.bots.state(bot), (s) => s === 'connected');
          if (!acked) await deliver(() => second.provider.reaction(bot, CID, '👍', PID));
          await expectRecordedQuietly(t.store, second, bot, model);
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
        const t = await openTestStore('parley_reaction_path');
        const faulty = faultyStore(t.store);
        const model = scriptedModel();
        const h = await startRuntime(faulty.store, { ...OPTIONS, replies: replySetup(model.generator) });
        try {
          const bot = await connectedBot(h);
          await answeredText(h, t.store, bot);
          const [label = ''] = point.key.split('[');
          let seen = 0;
          const plan = at === 'before' ? faulty.failOnce : faulty.landThenFail;
          const fault = plan(label, (args) => writeKey(label, args) === point.key && ++seen === point.occurrence);
          await deliver(() => h.provider.reaction(bot, CID, '👍', PID));
          await h.runtime.conversations.flush();
          await expectRecordedQuietly(t.store, h, bot, model);
          expect(fault.fired, `${describePoint(point)} (${at}) fired`).toBe(true);
        } finally {
          await h.runtime.shutdown();
          await t.dispose();
        }
      }
    }
  }, 120_000);
});
