import { describe, expect, it } from 'vitest';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import { describePoint, replySetup, scriptedModel, storedReply } from '../../support/reply-harness.ts';
import { crashBeforeEachWrite, faultEachWrite, writesOfPath } from '../../support/write-path-faults.ts';
import type { WritePathScenario } from '../../support/write-path-faults.ts';

/**
 * The owner's message from the phone (race l's trigger) is a write path of its own: its history
 * row, the conversation's window, and the reply actor's pause. A crash before any of those writes,
 * or one transient failure of it, must end with the row stored once and the AI paused by the owner.
 */

const CID = '4915550900';
const PID = 'WAMID-OWNER';
const TEXT = 'This is Anna, I will take it from here.';
const PREFIX = 'parley_owner_path';
const OPTIONS = { outbox: { pollMs: 600_000 }, worker: { pollMs: 600_000 } };

function ownerScenario(): WritePathScenario<string> {
  const model = scriptedModel();
  return {
    start: (store) => startRuntime(store, { ...OPTIONS, replies: replySetup(model.generator) }),
    async before(h) {
      const bot = await connectedBot(h);
      await h.runtime.bots.actor(bot).flush();
      return bot;
    },
    act: (h, bot) => h.provider.own(bot, CID, TEXT, PID),
    restored: async (h, bot) => void (await eventually(() => h.runtime.bots.state(bot), (s) => s === 'connected')),
    async verify(_h, store, bot) {
      const reply = await eventually(() => storedReply(store, bot, CID), (r) => r?.state === 'paused');
      expect(reply?.context).toMatchObject({ pausedBy: 'owner', reply: null });
      const rows = await store.history.list(bot, CID);
      expect(rows.map((r) => [r.seq, r.direction, r.source, r.status, r.content])).toEqual([[1, 'outbound', 'owner', 'sent', TEXT]]);
    },
  };
}

describe('the owner\'s message from the phone under crashes and transient faults', () => {
  it('stores it once and pauses the AI wherever the process dies', async () => {
    const path = await writesOfPath(PREFIX, ownerScenario);
    expect(path.map(describePoint)).toEqual(expect.arrayContaining(['history.append[outbound] #1', 'actors.insert[reply] #1']));
    expect(path.length).toBeGreaterThanOrEqual(3);
    await crashBeforeEachWrite(PREFIX, path, ownerScenario);
  }, 120_000);

  it('converges after one transient failure of each write, before it and after it landed', async () => {
    await faultEachWrite(PREFIX, await writesOfPath(PREFIX, ownerScenario), ownerScenario);
  }, 120_000);
});
