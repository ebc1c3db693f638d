import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/ports/store.port.ts';
import { describePoint, replySetup, scriptedModel } from '../../support/reply-harness.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';
import { crashBeforeEachWrite, faultEachWrite, writesOfPath } from '../../support/write-path-faults.ts';
import type { WritePathScenario } from '../../support/write-path-faults.ts';

/**
 * A reaction is part of the conversation but news to no one: stored in history and the window,
 * heard by no listener, so the AI never answers it. Its writes (the history row, the window) must
 * survive a crash before each and one transient failure of each like any inbound message.
 */

const CID = '4915550700';
const PID = 'WAMID-REACTION';
const PREFIX = 'parley_reaction_path';
const OPTIONS = { outbox: { pollMs: 600_000 }, worker: { pollMs: 600_000 } };

/** A bot that answered a text (its reply sent) before the reaction arrives. */
function reactionScenario(): WritePathScenario<string> {
  const model = scriptedModel();
  return {
    start: (store) => startRuntime(store, { ...OPTIONS, replies: replySetup(model.generator) }),
    async before(h, store) {
      const bot = await connectedBot(h);
      await h.provider.text(bot, CID, 'hello', 'WAMID-TEXT');
      await eventually(() => store.history.list(bot, CID), (r) => r.some((row) => row.direction === 'outbound' && row.status === 'sent'));
      await h.runtime.conversations.flush();
      await h.runtime.bots.actor(bot).flush();
      return bot;
    },
    act: (h, bot) => h.provider.reaction(bot, CID, '👍', PID),
    restored: async (h, bot) => void (await eventually(() => h.runtime.bots.state(bot), (s) => s === 'connected')),
    verify: (h, store, bot) => expectRecordedQuietly(store, h, bot, model),
  };
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
  await new Promise((r) => setTimeout(r, 200));
  expect(model.calls.filter((c) => c.outcome === 'answered').map((c) => c.lastUser)).toEqual(['hello']);
  expect(h.delivered.filter((d) => d.botId === bot && d.content.startsWith('[Reaction'))).toEqual([]);
}

describe('a reaction under crashes and transient faults', () => {
  it('is stored once, kept in the window and never answered, wherever the process dies', async () => {
    const path = await writesOfPath(PREFIX, reactionScenario);
    expect(path.map(describePoint)).toEqual(expect.arrayContaining(['history.append[inbound] #1']));
    await crashBeforeEachWrite(PREFIX, path, reactionScenario);
  }, 120_000);

  it('converges after one transient failure of each write, before it and after it landed', async () => {
    await faultEachWrite(PREFIX, await writesOfPath(PREFIX, reactionScenario), reactionScenario);
  }, 120_000);
});
