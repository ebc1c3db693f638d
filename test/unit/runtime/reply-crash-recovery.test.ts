import { describe, expect, it } from 'vitest';
import { replyDeliveryId } from '../../../src/runtime/replies/reply-effects.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness, HarnessOptions } from '../../support/runtime-harness.ts';
import { crashingPathStore, describePoint, outboundRows, pointsOf, replySetup, scriptedModel, storedReply } from '../../support/reply-harness.ts';
import type { WritePoint } from '../../support/reply-harness.ts';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';

/**
 * I12 across crashes: one inbound text, one AI reply, wherever the process dies. The process
 * "dies" right before (or right after) one write of the path, is halted as a killed process would
 * be (nothing more is written), and a second process starts on the same store, an hour later so
 * any lease of the dead one has lapsed. The provider delivers the text again if the first process
 * never acknowledged it.
 */

const CID = '4915550700';
const PID = 'WAMID-REPLY-CRASH';
const TEXT = 'hello there';
const REPLY = `reply to: ${TEXT}`;

// Claims happen on wake only (a poll would put empty claims into the path at random moments).
const FIRST: HarnessOptions = { outbox: { pollMs: 600_000 }, worker: { pollMs: 600_000 } };
const SECOND: HarnessOptions = { outbox: { pollMs: 50 }, worker: { pollMs: 600_000 }, clock: () => Date.now() + 3_600_000 };

type Model = ReturnType<typeof scriptedModel>;
type Crashing = ReturnType<typeof crashingPathStore>;

/** What one run ended with, for the summary. */
interface Outcome {
  readonly died: boolean;
  readonly acked: boolean;
  readonly modelCalls: number;
  /** The first process handed the reply to the provider and died before the outbox stored that it had: sent again (the outbox is at least once). */
  readonly resent: boolean;
}

interface FirstLife {
  readonly t: TestStore;
  readonly crashing: Crashing;
  readonly model: Model;
  readonly first: Harness;
  readonly bot: string;
}

async function firstLife(): Promise<FirstLife> {
  const t = await openTestStore('parley_reply_crash');
  const crashing = crashingPathStore(t.store);
  const model = scriptedModel();
  const first = await startRuntime(crashing.store, { ...FIRST, replies: replySetup(model.generator) });
  const bot = await connectedBot(first);
  await first.runtime.bots.actor(bot).flush();
  return { t, crashing, model, first, bot };
}

const sentTo = (...lives: Harness[]) => lives.flatMap((h) => h.provider.sent.filter((s) => s.to === CID).map((s) => s.text));

/**
 * The second life after the first died (or was halted): restarts on the same store, delivers the
 * text again when it was never acknowledged, waits until the reply went out and checks I12.
 */
async function recoverAndCheck(life: FirstLife, acked: boolean): Promise<Outcome> {
  const { t, crashing, model, first, bot } = life;
  first.runtime.halt();
  const died = crashing.isDead();
  const sentBefore = sentTo(first).length;
  const [rowAtDeath] = await t.store.outbox.list({ botId: bot });
  const second = await startRuntime(t.store, { ...SECOND, replies: replySetup(model.generator) });
  try {
    await eventually(() => second.runtime.bots.state(bot), (s) => s === 'connected');
    if (!acked) await second.provider.text(bot, CID, TEXT, PID);
    const replyId = `${bot}|${CID}#1`;
    const deliveryId = replyDeliveryId(replyId, 1);

    await eventually(() => t.store.outbox.list({ botId: bot }), (rows) => rows.some((r) => r.state === 'sent'), 10_000);
    await eventually(() => storedReply(t.store, bot, CID), (r) => r?.state === 'idle' && r.effects === 0, 10_000);
    await eventually(() => outboundRows(t.store, bot, CID), (rows) => rows.length > 0 && rows.every((r) => r.status === 'sent'), 10_000);
    // Long past the debounce and a round trip: a second reply would have been made by now.
    await new Promise((r) => setTimeout(r, 200));

    // One reply claimed, and handed to the outbox once (I12).
    const reply = await storedReply(t.store, bot, CID);
    expect(reply?.context).toMatchObject({ claimed: 1, sent: 1, failed: 0, dropped: 0, answeredThrough: 1, reply: null });
    const outbox = await t.store.outbox.list({ botId: bot });
    expect(outbox.map((r) => [r.id, r.state, r.text])).toEqual([[deliveryId, 'sent', REPLY]]);
    // History: the text once, the reply once, sent, naming its delivery.
    const rows = await t.store.history.list(bot, CID);
    expect(rows.map((r) => [r.seq, r.direction, r.status, r.content])).toEqual([[1, 'inbound', 'final', TEXT], [2, 'outbound', 'sent', REPLY]]);
    expect(rows[1]?.outboxId).toBe(deliveryId);
    // The model was asked for this burst only, and at most once per life of the process.
    expect(model.calls.length).toBeGreaterThanOrEqual(1);
    expect(model.calls.length).toBeLessThanOrEqual(2);
    expect(model.calls.every((c) => c.lastUser === TEXT && c.userTurns.length === 1)).toBe(true);
    // The correspondent got the reply once. The one exception is the outbox's own at-least-once
    // window: the provider took the message and the process died before the outbox stored so; the
    // next process sends that same delivery again (nothing in the reply path can close that window).
    const resent = sentBefore === 1 && rowAtDeath?.state !== 'sent';
    const texts = sentTo(first, second);
    expect(texts).toEqual(resent ? [REPLY, REPLY] : [REPLY]);
    return { died, acked, modelCalls: model.calls.length, resent };
  } finally {
    await second.runtime.shutdown();
  }
}

/** The writes of "one text in, one reply out" when nothing dies, by key, in order. */
async function referencePath(): Promise<WritePoint[]> {
  const life = await firstLife();
  const { t, crashing, first, bot } = life;
  try {
    const from = crashing.trace.length;
    await first.provider.text(bot, CID, TEXT, PID);
    await eventually(() => t.store.outbox.list({ botId: bot }), (rows) => rows[0]?.state === 'sent' && rows[0].effects.length === 0);
    await eventually(() => storedReply(t.store, bot, CID), (r) => r?.state === 'idle' && r.effects === 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(sentTo(first)).toEqual([REPLY]);
    return pointsOf(crashing.trace.slice(from));
  } finally {
    await first.runtime.shutdown();
    await t.dispose();
  }
}

/** Dies right before (or after) `point`, counted from the moment the text arrives; restarts and checks. */
async function crashAt(point: WritePoint, at: 'before' | 'after'): Promise<Outcome> {
  const life = await firstLife();
  try {
    if (at === 'before') life.crashing.armBefore(point);
    else life.crashing.armAfter(point);
    const acked = await life.first.provider.text(life.bot, CID, TEXT, PID).then(() => true, () => false);
    await eventually(async () => life.crashing.isDead() || (await life.t.store.outbox.list({ botId: life.bot }))[0]?.state === 'sent', Boolean, 10_000);
    // Whatever was under way when it died gets no further.
    await new Promise((r) => setTimeout(r, 20));
    return await recoverAndCheck(life, acked);
  } finally {
    life.first.runtime.halt();
    await life.t.dispose();
  }
}

const CLAIM: WritePoint = { key: 'actors.compareAndSet[reply]', occurrence: 2 };
const ANSWER: WritePoint = { key: 'actors.compareAndSet[reply]', occurrence: 3 };

describe('crash recovery of an AI reply (I12: one reply per burst, never two, never none)', () => {
  it('dies right after the claim is durable, before the model is asked: the next process asks once, under the same reply id', async () => {
    const life = await firstLife();
    try {
      life.crashing.armAfter(CLAIM);
      await life.first.provider.text(life.bot, CID, TEXT, PID);
      await eventually(() => life.crashing.isDead(), Boolean);
      const stored = await storedReply(life.t.store, life.bot, CID);
      expect(stored?.value).toEqual({ generating: 'calling' });
      expect(stored?.context.reply).toMatchObject({ id: `${life.bot}|${CID}#1`, attempt: 1 });
      expect(life.model.calls).toEqual([]);
      const outcome = await recoverAndCheck(life, true);
      expect(outcome.modelCalls).toBe(1);
    } finally {
      life.first.runtime.halt();
      await life.t.dispose();
    }
  });

  it('is halted while the model call is in flight: the claim survives and the next process answers it once', async () => {
    const life = await firstLife();
    try {
      life.model.hold();
      await life.first.provider.text(life.bot, CID, TEXT, PID);
      await life.model.arrived(1);
      const stored = await storedReply(life.t.store, life.bot, CID);
      expect(stored?.value).toEqual({ generating: 'calling' });
      expect(stored?.context.reply).toMatchObject({ id: `${life.bot}|${CID}#1`, attempt: 1 });
      life.first.runtime.halt();
      // The dead process's call ends (aborted) and reports nothing.
      await eventually(() => life.model.calls[0]?.outcome, (o) => o === 'aborted');
      life.model.release();
      const outcome = await recoverAndCheck(life, true);
      expect(outcome.modelCalls).toBe(2);
      expect(life.model.calls.map((c) => c.outcome)).toEqual(['aborted', 'answered']);
    } finally {
      life.first.runtime.halt();
      await life.t.dispose();
    }
  });

  it('dies between the model\'s answer and the outbox insert: the reply is queued once, the model asked again only if the answer was not yet durable', async () => {
    // The answer's decision never written: the claim stands, the model is asked again under it.
    expect((await crashAt(ANSWER, 'before')).modelCalls).toBe(2);
    // The answer durable, its queueReply effect not yet run: queued from the stored effect, no new call.
    expect((await crashAt(ANSWER, 'after')).modelCalls).toBe(1);
    expect((await crashAt({ key: 'history.append[outbound]', occurrence: 1 }, 'before')).modelCalls).toBe(1);
    // The outbound history row written, the outbox row not: the row is reused, not written twice.
    expect((await crashAt({ key: 'history.append[outbound]', occurrence: 1 }, 'after')).modelCalls).toBe(1);
    expect((await crashAt({ key: 'outbox.insert', occurrence: 1 }, 'before')).modelCalls).toBe(1);
  }, 30_000);

  it('dies right after the outbox insert: the effect runs again, finds the delivery and adds nothing', async () => {
    const outcome = await crashAt({ key: 'outbox.insert', occurrence: 1 }, 'after');
    expect(outcome).toMatchObject({ died: true, acked: true, modelCalls: 1, resent: false });
  });

  it('sends exactly one reply wherever on the path the process dies', async () => {
    const path = await referencePath();
    const keys = path.map((p) => p.key);
    // The path has the writes it should (soft: the crash points are tried whatever it holds).
    expect.soft(keys).toEqual(expect.arrayContaining([
      'history.append[inbound]', 'actors.compareAndSet[queue]', 'actors.insert[reply]', 'history.append[outbound]',
      'outbox.insert', 'outbox.claim', 'outbox.compareAndSet', 'history.settleOutbound', 'outbox.acknowledgeEffects',
    ]));
    // The reply actor: created, burst opened, range claimed, answer decided (queueReply stored), acknowledged.
    expect.soft(keys.filter((k) => k === 'actors.compareAndSet[reply]')).toHaveLength(4);
    const runs: { point: string; outcome: Outcome }[] = [];
    const failures: string[] = [];
    const tries = [
      ...path.map((point) => ({ point, at: 'before' as const })),
      ...[CLAIM, ANSWER, { key: 'history.append[outbound]', occurrence: 1 }, { key: 'outbox.insert', occurrence: 1 }, { key: 'outbox.compareAndSet', occurrence: 2 }]
        .map((point) => ({ point, at: 'after' as const })),
    ];
    for (const { point, at } of tries) {
      const name = `${at} ${describePoint(point)}`;
      try {
        runs.push({ point: name, outcome: await crashAt(point, at) });
      } catch (err) {
        failures.push(`${name}: ${err instanceof Error ? err.message.split('\n').slice(0, 3).join(' / ') : String(err)}`);
      }
    }
    expect(failures).toEqual([]);
    // Every write of the path is a crash point in every run, but the empty claims a worker makes
    // after its last item, which need not come before the run is over.
    const missed = runs.filter((r) => !r.outcome.died).map((r) => r.point);
    expect(missed.filter((m) => !m.includes('outbox.claim'))).toEqual([]);
    console.log(
      `reply crash points covered: ${runs.length - missed.length} of ${runs.length}\n` +
        runs.map((r) => `  ${r.outcome.died ? 'died' : 'lived'} ${r.point}: model asked ${r.outcome.modelCalls}×${r.outcome.acked ? '' : ', text redelivered'}${r.outcome.resent ? ', sent again by the outbox (at least once)' : ''}`).join('\n'),
    );
  }, 90_000);
});
