import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { startParleyProcess } from './parley-process.ts';
import type { ParleyProcess } from './parley-process.ts';

const BOT = 'chaos';
const CORRESPONDENTS = ['4915550001', '4915550002', '4915550003', '4915550004'];
const PER_CORRESPONDENT = 60;
const LIVES = 3;
const VOICE = Buffer.from('not really opus').toString('base64');

interface HistoryRow {
  readonly seq: number;
  readonly providerMessageId: string | null;
  readonly status: string;
  readonly kind: string;
}

const messageId = (cid: string, i: number) => `${cid}-${i}`;
// Every fifth message is a voice note, so media jobs are in flight when the process dies.
const isMedia = (i: number) => i % 5 === 4;

function inbound(p: ParleyProcess, cid: string, i: number): Promise<Response> {
  const body = isMedia(i)
    ? { from: cid, providerMessageId: messageId(cid, i), media: { kind: 'voice', mimetype: 'audio/ogg', dataBase64: VOICE } }
    : { from: cid, providerMessageId: messageId(cid, i), text: `message ${i}` };
  return p.request('POST', `/v1/bots/${BOT}/simulator/inbound`, body);
}

/**
 * Each correspondent sends its messages one after another, as a phone does, starting with the
 * first one no earlier process acknowledged; the process is killed with SIGKILL once `killAfter`
 * messages were acknowledged, with requests still in flight.
 */
async function burstUntilKilled(p: ParleyProcess, killAfter: number, next: Map<string, number>, acked: Set<string>): Promise<void> {
  let acks = 0;
  await Promise.all(CORRESPONDENTS.map(async (cid) => {
    for (let i = next.get(cid) ?? 0; i < PER_CORRESPONDENT; i++) {
      const res = await inbound(p, cid, i).catch(() => undefined);
      if (res?.status !== 202) return;
      acked.add(messageId(cid, i));
      next.set(cid, i + 1);
      if (++acks === killAfter) p.kill();
    }
  }));
}

describe('Parley killed with SIGKILL in the middle of a burst', () => {
  it('keeps every acknowledged message, stores each redelivered message once and in send order, and finishes one media job per voice note', async () => {
    const env = { MONGODB_URI: inject('mongoUri'), MONGODB_DB: `parley_chaos_${randomBytes(4).toString('hex')}` };
    const acked = new Set<string>();
    const next = new Map<string, number>();
    const lives: ParleyProcess[] = [];
    try {
      let p = await startParleyProcess(env);
      lives.push(p);
      expect((await p.request('POST', '/v1/bots', { id: BOT, provider: 'simulator' })).status).toBe(201);
      expect((await p.request('POST', `/v1/bots/${BOT}/start`)).status).toBe(202);
      for (let life = 0; life < LIVES; life++) {
        await p.waitForBot(BOT, 'connected');
        await burstUntilKilled(p, 20 + life * 15, next, acked);
        expect(await p.exited).toBe('SIGKILL');
        // I8: what was acknowledged is in history even though the process never stopped cleanly.
        const stored = new Set((await p.storedHistory(BOT)).map((r) => r.providerMessageId));
        expect([...acked].filter((id) => !stored.has(id))).toEqual([]);
        p = await startParleyProcess(env);
        lives.push(p);
      }

      // The phones deliver again whatever they sent; everything now arrives.
      await p.waitForBot(BOT, 'connected');
      await Promise.all(CORRESPONDENTS.map(async (cid) => {
        for (let i = 0; i < PER_CORRESPONDENT; i++) expect((await inbound(p, cid, i)).status).toBe(202);
      }));
      // This process has no OpenAI key: every voice note ends with that note, visibly not a success.
      const jobs = await p.eventually(
        async () => (await p.json<{ jobs: { state: string; statePath: string; error: string | null }[] }>(`/v1/jobs?botId=${BOT}`)).jobs,
        (j) => j.length > 0 && j.every((x) => x.statePath === 'failed.notified'),
      );
      expect(jobs).toHaveLength(CORRESPONDENTS.length * (PER_CORRESPONDENT / 5));
      expect(new Set(jobs.map((j) => j.error))).toEqual(new Set(['transcription unavailable: no OpenAI key configured']));

      for (const cid of CORRESPONDENTS) {
        const rows = (await p.json<{ messages: HistoryRow[] }>(`/v1/bots/${BOT}/correspondents/${cid}/history?limit=1000`)).messages;
        // Once each, numbered without gaps, in the order the phone sent them (I9).
        expect(rows.map((r) => r.providerMessageId)).toEqual(Array.from({ length: PER_CORRESPONDENT }, (_, i) => messageId(cid, i)));
        expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: PER_CORRESPONDENT }, (_, i) => i + 1));
        // Every voice note was finalized in place, with its note; none is left waiting.
        expect(rows.filter((r) => r.kind === 'voice').every((r) => r.status === 'failed')).toBe(true);
        const queue = (await p.json<{ messages: { id: number; mediaJobId: string | null }[] }>(`/v1/bots/${BOT}/correspondents/${cid}/messages`)).messages;
        expect(queue.filter((m) => m.mediaJobId !== null)).toEqual([]);
        expect(queue.map((m) => m.id)).toEqual([...queue.map((m) => m.id)].sort((a, b) => a - b));
      }
      expect(acked.size).toBeGreaterThanOrEqual(20 + 35 + 50);
    } finally {
      for (const life of lives) await life.stop();
      await lives.at(-1)?.dropDatabase();
    }
  }, 180_000);
});
