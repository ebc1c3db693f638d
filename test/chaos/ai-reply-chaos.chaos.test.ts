import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { describe, expect, inject, it } from 'vitest';
import { startFakeOpenAi } from '../support/fake-openai-server.ts';
import type { ChatCall, FakeCall } from '../support/fake-openai-server.ts';
import { startParleyProcess } from './parley-process.ts';
import type { ParleyEnv, ParleyProcess } from './parley-process.ts';

/**
 * AI replies under SIGKILL (I12 across real crashes): Parley runs as its own process with a local
 * OpenAI-compatible server as its model, and is killed while a burst is being debounced, while the
 * model is answering, and the moment the model's answer comes back; each time it is restarted on
 * the same database; and killed the moment the reply's outbound row appears in history, while the
 * reply is being handed to the outbox. The simulator's outbound log lives in the killed process's memory, so what
 * was sent is read from history: every burst ends with exactly one outbound row, sent, and the
 * model was asked for it at most once per life of the process.
 */

const BOT = 'ai-chaos';
const AI = { enabled: true, debounceMs: 400, maxWaitMs: 3_000, typingMaxMs: 0, systemPrompt: 'Be brief.' };
/** The model takes this long while a kill is aimed at its call. */
const SLOW_MODEL_MS = 1_500;

interface HistoryRow {
  readonly seq: number;
  readonly direction: string;
  readonly source: string;
  readonly content: string;
  readonly status: string;
}

interface Burst {
  readonly cid: string;
  readonly texts: readonly string[];
}

const lastUser = (call: FakeCall): string => (call.route === 'chat' ? ([...call.turns].reverse().find((t) => t.role === 'user')?.content ?? '') : '');
const replyTo = (burst: Burst): string => `reply to: ${burst.texts.at(-1) ?? ''}`;

describe('Parley killed with SIGKILL while AI replies are being made', () => {
  it('answers every burst exactly once, whether it died while debouncing, while the model answered or as the answer came back', async () => {
    let delayMs = 0;
    /** When the model's answer to a text left the server, by that text. */
    const answered = new Map<string, () => void>();
    const fake = await startFakeOpenAi({ delayMs: () => delayMs });
    fake.reply('chat', (call) => {
      const text = lastUser(call);
      answered.get(text)?.();
      return `reply to: ${text}`;
    });
    const env: ParleyEnv = {
      MONGODB_URI: inject('mongoUri'),
      MONGODB_DB: `parley_ai_chaos_${randomBytes(4).toString('hex')}`,
      OPENAI_API_KEY: 'test',
      OPENAI_BASE_URL: fake.url,
      OPENAI_REPLY_MODEL: 'gpt-chaos',
      // A message whose sender died mid-send goes again after a second, not a minute.
      OUTBOX_LEASE_MS: '1000',
    };
    const lives: ParleyProcess[] = [];
    /** A new life on the same database; the bot, once created, is running again before it returns. */
    const start = async (botExists = true): Promise<ParleyProcess> => {
      const p = await startParleyProcess(env);
      lives.push(p);
      if (botExists) await p.waitForBot(BOT, 'connected');
      return p;
    };
    const chats = () => fake.calls.filter((c): c is ChatCall => c.route === 'chat');
    const callsFor = (burst: Burst) => chats().filter((c) => lastUser(c) === burst.texts.at(-1));
    const history = async (p: ParleyProcess, cid: string) => (await p.json<{ messages: HistoryRow[] }>(`/v1/bots/${BOT}/correspondents/${cid}/history`)).messages;
    const send = async (p: ParleyProcess, burst: Burst) => {
      for (const text of burst.texts) expect((await p.request('POST', `/v1/bots/${BOT}/simulator/inbound`, { from: burst.cid, text })).status).toBe(202);
    };
    const killed = async (p: ParleyProcess) => {
      p.kill();
      expect(await p.exited).toBe('SIGKILL');
    };
    /** Waits until the burst's reply is in history as sent, then checks it is the only one. */
    const answeredOnce = async (p: ParleyProcess, burst: Burst) => {
      const rows = await p.eventually(() => history(p, burst.cid), (r) => r.some((row) => row.direction === 'outbound' && row.status === 'sent'), 20_000);
      expect(rows.map((r) => [r.direction, r.source, r.content])).toEqual([
        ...burst.texts.map((text) => ['inbound', 'user', text]),
        ['outbound', 'bot', replyTo(burst)],
      ]);
      expect(rows.at(-1)?.status).toBe('sent');
      // Every call for the burst saw the whole burst.
      for (const call of callsFor(burst)) expect(call.turns.filter((t) => t.role === 'user').map((t) => t.content)).toEqual(burst.texts);
      const status = await p.json<{ state: string; sent: number; failed: number; dropped: number }>(`/v1/bots/${BOT}/correspondents/${burst.cid}/ai`);
      expect(status).toMatchObject({ state: 'idle', sent: 1, failed: 0, dropped: 0 });
    };

    const duringCall: Burst = { cid: '4915550901', texts: ['Hi', 'what time do you open', 'tomorrow?'] };
    const duringDebounce: Burst = { cid: '4915550902', texts: ['is the shop open on sunday?'] };
    const onAnswer: Burst[] = [
      { cid: '4915550903', texts: ['do you deliver?'] },
      { cid: '4915550904', texts: ['how much is shipping', 'to Berlin'] },
    ];
    const onQueued: Burst[] = [
      { cid: '4915550905', texts: ['can I pay by card?'] },
      { cid: '4915550906', texts: ['and cash?'] },
    ];
    const all = [duringCall, duringDebounce, ...onAnswer, ...onQueued];
    const client = await new MongoClient(env.MONGODB_URI).connect();
    /** Resolves once the burst's reply has an outbound history row (the outbox has it, or is about to). */
    const recorded = async (burst: Burst) => {
      const messages = client.db(env.MONGODB_DB).collection('messages');
      while ((await messages.findOne({ botId: BOT, correspondentId: burst.cid, direction: 'outbound' })) === null) await new Promise((r) => setTimeout(r, 1));
    };
    /** Lives whose log says they handed a reply to the outbox again (its effect was owed when the last life died). */
    const requeued = (burst: Burst) => lives.filter((life) => life.output().split('\n').some((l) => l.includes(`"replyId":"${BOT}|${burst.cid}#1"`) && l.includes('"recovered":true'))).length;

    try {
      let p = await start(false);
      expect((await p.request('POST', '/v1/bots', { id: BOT, provider: 'simulator', ai: AI })).status).toBe(201);
      expect((await p.request('POST', `/v1/bots/${BOT}/start`)).status).toBe(202);
      await p.waitForBot(BOT, 'connected');

      // 1. Killed while the model is answering: the claim is durable, the next life asks again under it.
      delayMs = SLOW_MODEL_MS;
      await send(p, duringCall);
      await p.eventually(async () => callsFor(duringCall).length, (n) => n === 1, 10_000);
      await killed(p);
      p = await start();
      await answeredOnce(p, duringCall);
      expect(callsFor(duringCall)).toHaveLength(2);

      // 2. Killed while the burst is being debounced: the deadline is data, the next life keeps it.
      delayMs = 0;
      await send(p, duringDebounce);
      await killed(p);
      expect(callsFor(duringDebounce)).toHaveLength(0);
      p = await start();
      await answeredOnce(p, duringDebounce);
      expect(callsFor(duringDebounce)).toHaveLength(1);

      // 3. Killed the moment the model's answer leaves the server: whether the answer was durable
      // yet decides whether the model is asked again, never whether the reply goes out twice.
      for (const [i, burst] of onAnswer.entries()) {
        delayMs = 50;
        const answer = new Promise<void>((resolve) => answered.set(burst.texts.at(-1) ?? '', resolve));
        await send(p, burst);
        await answer;
        const victim = p;
        // The answer on its way (1st burst) or just taken in (2nd).
        if (i === 0) victim.kill();
        else await new Promise<void>((resolve) => setTimeout(() => (victim.kill(), resolve()), 15));
        expect(await victim.exited).toBe('SIGKILL');
        p = await start();
        await answeredOnce(p, burst);
        expect(callsFor(burst).length).toBeGreaterThanOrEqual(1);
        expect(callsFor(burst).length).toBeLessThanOrEqual(2);
      }

      // 4. Killed the moment the reply's outbound row is written: the outbox insert and the reply
      // actor's acknowledgement may not have followed. The next life hands it over again, which
      // must find the row and the delivery already there and add nothing.
      delayMs = 0;
      for (const burst of onQueued) {
        await send(p, burst);
        await recorded(burst);
        await killed(p);
        p = await start();
        await answeredOnce(p, burst);
        expect(callsFor(burst)).toHaveLength(1);
      }

      // Nothing came later from any life: each burst still has its one reply.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (const burst of all) await answeredOnce(p, burst);
      expect(chats().every((c) => c.model === 'gpt-chaos')).toBe(true);
      if (process.env['CHAOS_REPORT'] === '1') {
        process.stdout.write(
          `[ai chaos] ${lives.length} processes; model calls per burst: ${all.map((b) => callsFor(b).length).join(', ')}; ` +
            `replies handed to the outbox again after a kill: ${all.map(requeued).join(', ')}\n`,
        );
      }
    } catch (err) {
      const logFile = path.join(tmpdir(), `${env.MONGODB_DB}.log`);
      await writeFile(logFile, lives.map((life, n) => `=== life ${n + 1} ===\n${life.output()}`).join('\n')).catch(() => undefined);
      const exits = await Promise.all(lives.map((life) => Promise.race([life.exited, new Promise((resolve) => setTimeout(() => resolve('running'), 10))])));
      throw new Error(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n(lives ended: ${exits.join(', ')}; every Parley process's output: ${logFile})`, { cause: err });
    } finally {
      for (const life of lives) life.kill();
      await Promise.all(lives.map((life) => life.exited));
      await client.close();
      await lives.at(-1)?.dropDatabase().catch(() => undefined);
      await fake.close();
    }
  }, 90_000);
});
