import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import sharp from 'sharp';
import { describe, expect, inject, it } from 'vitest';
import { startFakeOpenAi } from '../support/fake-openai-server.ts';
import type { FakeOpenAi } from '../support/fake-openai-server.ts';
import { oggFixture, pdfFixture } from '../support/media-fixtures.ts';
import { startParleyProcess } from './parley-process.ts';
import type { ParleyEnv, ParleyProcess } from './parley-process.ts';
import { between, seeded } from '../support/seeded-random.ts';

/**
 * The media pipeline under SIGKILL: Parley runs as its own process on the test store, media is
 * turned into text by a local OpenAI-compatible server that takes its time (so kills land while
 * jobs run), and a load of voice notes, images, documents and media whose download fails arrives
 * from several phones at once while the process is killed again and again at random moments and
 * restarted on the same database and the same media directory. A request the kill cut off is
 * sent again, with the same provider id, once the next process listens.
 *
 * CHAOS_SEED picks another run; CHAOS_REPORT=1 prints what the run did.
 */

const SEED = Number(process.env['CHAOS_SEED'] ?? 0x5eed_2026);
const KILLS = 20;
const KILL_GAP_MS = [150, 900] as const;
const OPENAI_DELAY_MS = [80, 250] as const;
const BOTS = ['media-a', 'media-b'] as const;
const CORRESPONDENTS = ['4915550101', '4915550102', '4915550103', '4915550104', '4915550105', '4915550106'] as const;
/** Pause between two messages of one phone. */
const THINK_MS = [20, 120] as const;
/** Share of acknowledged messages a phone delivers once more later, as WhatsApp redelivers. */
const REPLAY_RATE = 0.08;
const DRAIN_MS = 90_000;
const CORRUPT_NOTE = '(could not be processed: the download failed 3 times (simulated download failure))';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Variant = 'voice' | 'image' | 'text' | 'pdf' | 'corrupt';
const VARIANTS: readonly (readonly [Variant, number])[] = [['voice', 0.3], ['image', 0.25], ['text', 0.15], ['pdf', 0.15], ['corrupt', 0.15]];

/** One message a phone sends, with what Parley must make of it. */
interface Planned {
  readonly id: string;
  readonly botId: string;
  readonly from: string;
  readonly variant: Variant;
  readonly body: Readonly<Record<string, unknown>>;
  readonly kind: string;
  readonly content: string;
  readonly rowStatus: 'final' | 'failed';
  readonly jobPath: 'delivered' | 'failed.notified';
}

interface HistoryRow {
  readonly seq: number;
  readonly providerMessageId: string | null;
  readonly kind: string;
  readonly content: string;
  readonly status: string;
  readonly mediaJobId: string | null;
}
interface QueueMessage {
  readonly id: number;
  readonly content: string;
  readonly mediaJobId: string | null;
  readonly providerMessageId: string | null;
}
interface Job {
  readonly id: string;
  readonly botId: string;
  readonly correspondentId: string;
  readonly messageId: number;
  readonly kind: string;
  readonly state: string;
  readonly statePath: string;
  readonly attempt: number;
  readonly error: string | null;
}

const sha8 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 8);
const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const conversationKey = (botId: string, from: string): string => `${botId}/${from}`;

function pick(rng: () => number): Variant {
  let r = rng();
  for (const [variant, weight] of VARIANTS) {
    if ((r -= weight) < 0) return variant;
  }
  return 'voice';
}

/** A small PNG (well under the 1024 px that would re-encode it) whose pixels come from `id`, so no two messages share bytes. */
async function uniquePng(id: string, rng: () => number): Promise<Uint8Array> {
  const width = between(rng, [12, 40]);
  const height = between(rng, [12, 40]);
  const pixels = Buffer.alloc(width * height * 3);
  let block = createHash('sha256').update(id).digest();
  for (let at = 0; at < pixels.length; at += block.length) {
    block.copy(pixels, at);
    block = createHash('sha256').update(block).digest();
  }
  return new Uint8Array(await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

/** The `n`-th message of a phone, and the content and states its media must end with. */
async function planMessage(botId: string, from: string, n: number, rng: () => number, voice: Uint8Array): Promise<Planned> {
  const id = `${botId}-${from}-${n}`;
  const base = { id, botId, from, rowStatus: 'final', jobPath: 'delivered' } as const;
  const variant = pick(rng);
  switch (variant) {
    case 'voice': {
      // A real voice note with the message id after its last page: still one file the service takes, bytes of its own.
      const bytes = Buffer.concat([voice, Buffer.from(`#${id}`)]);
      const media = { kind: 'voice', mimetype: 'audio/ogg; codecs=opus', dataBase64: b64(bytes) };
      return { ...base, variant, kind: 'voice', body: { from, providerMessageId: id, media }, content: `[Voice message] transcript of ${sha8(bytes)}` };
    }
    case 'image': {
      const bytes = await uniquePng(id, rng);
      const caption = rng() < 0.5 ? `look at ${n}` : undefined;
      const media = { kind: 'image', mimetype: 'image/png', dataBase64: b64(bytes), ...(caption === undefined ? {} : { caption }) };
      const content = `[Image] description of ${sha8(bytes)}${caption === undefined ? '' : `\nCaption: ${caption}`}`;
      return { ...base, variant, kind: 'image', body: { from, providerMessageId: id, media }, content };
    }
    case 'text': {
      const fileName = `note-${n}.txt`;
      const text = `Note ${id}: ${randomWords(rng)}`;
      const media = { kind: 'document', mimetype: 'text/plain', fileName, dataBase64: b64(Buffer.from(text)) };
      return { ...base, variant, kind: 'document', body: { from, providerMessageId: id, media }, content: `[Document: ${fileName}] ${text}` };
    }
    case 'pdf': {
      const fileName = `report-${n}.pdf`;
      const text = `Report ${id}`;
      const media = { kind: 'document', mimetype: 'application/pdf', fileName, dataBase64: b64(await pdfFixture([text])) };
      return { ...base, variant, kind: 'document', body: { from, providerMessageId: id, media }, content: `[Document: ${fileName}] --- Page 1 ---\n${text}` };
    }
    case 'corrupt': {
      const kind = (['voice', 'image', 'document'] as const)[between(rng, [0, 2])] ?? 'voice';
      const fileName = `lost-${n}.pdf`;
      const media = kind === 'voice'
        ? { kind, mimetype: 'audio/ogg; codecs=opus' }
        : kind === 'image' ? { kind, mimetype: 'image/jpeg' } : { kind, mimetype: 'application/pdf', fileName };
      const label = kind === 'voice' ? '[Voice message]' : kind === 'image' ? '[Image]' : `[Document: ${fileName}]`;
      return { ...base, variant, kind, body: { from, providerMessageId: id, media, corrupt: true }, content: `${label} ${CORRUPT_NOTE}`, rowStatus: 'failed', jobPath: 'failed.notified' };
    }
  }
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
function randomWords(rng: () => number): string {
  return Array.from({ length: between(rng, [2, 8]) }, () => WORDS[between(rng, [0, WORDS.length - 1])]).join(' ');
}

async function historyOf(p: ParleyProcess, botId: string, from: string): Promise<HistoryRow[]> {
  const rows: HistoryRow[] = [];
  let before: number | undefined;
  for (;;) {
    const route = `/v1/bots/${botId}/correspondents/${from}/history?limit=1000${before === undefined ? '' : `&beforeSeq=${before}`}`;
    const page = (await p.json<{ messages: HistoryRow[] }>(route)).messages;
    rows.unshift(...page);
    if (page.length < 1000 || page[0] === undefined) return rows;
    before = page[0].seq;
  }
}

async function jobsOf(p: ParleyProcess, botId: string): Promise<Job[]> {
  const jobs: Job[] = [];
  let after: string | null = null;
  do {
    const route = `/v1/jobs?botId=${botId}&limit=1000${after === null ? '' : `&after=${encodeURIComponent(after)}`}`;
    const page: { jobs: Job[]; nextCursor: string | null } = await p.json(route);
    jobs.push(...page.jobs);
    after = page.nextCursor;
  } while (after !== null);
  return jobs;
}

function stagedBytesMetric(exposition: string): number {
  const line = exposition.split('\n').find((l) => l.startsWith('parley_media_staged_bytes '));
  if (line === undefined) throw new Error('parley_media_staged_bytes is not exposed');
  return Number(line.split(' ')[1]);
}

/** The files in `dir` with their sizes; one removed between the listing and its stat is gone. */
async function filesIn(dir: string): Promise<{ name: string; size: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = await Promise.all(names.map(async (name) => {
    const info = await stat(path.join(dir, name)).catch(() => null);
    return info === null ? [] : [{ name, size: info.size }];
  }));
  return files.flat();
}

describe('Parley killed with SIGKILL again and again while media is processed', () => {
  it('stores every acknowledged media message once, finalizes each once with the text of its own bytes, ends every job and leaves no staged file', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-media-chaos-'));
    const mediaDir = path.join(dataDir, 'media');
    const delayRng = seeded(SEED ^ 0xde1a7);
    const fake: FakeOpenAi = await startFakeOpenAi({ delayMs: () => between(delayRng, OPENAI_DELAY_MS) });
    const env: ParleyEnv = {
      MONGODB_URI: inject('mongoUri'),
      MONGODB_DB: `parley_media_chaos_${randomBytes(4).toString('hex')}`,
      DATA_DIR: dataDir,
      MEDIA_DIR: mediaDir,
      OPENAI_API_KEY: `sk-chaos-${randomBytes(8).toString('hex')}`,
      OPENAI_BASE_URL: fake.url,
      MEDIA_JOB_LEASE_MS: '2000',
      // A job whose worker dies loses an attempt; twenty kills must not use a job's attempts up.
      MEDIA_JOB_MAX_ATTEMPTS: '100',
      // Often, so orphaned files go soon once old enough; nothing is stale within the run.
      JANITOR_INTERVAL_MS: '1000',
      JANITOR_STALE_MS: String(24 * 3_600_000),
    };
    const lives: ParleyProcess[] = [];
    const startMs: number[] = [];
    const ackMs: number[] = [];
    const start = async (): Promise<ParleyProcess> => {
      const s0 = performance.now();
      const p = await startParleyProcess(env);
      startMs.push(Math.round(performance.now() - s0));
      lives.push(p);
      return p;
    };
    const t0 = performance.now();

    try {
      const voice = await oggFixture();
      let live: Promise<ParleyProcess> = start();
      const first = await live;
      for (const botId of BOTS) {
        expect((await first.request('POST', '/v1/bots', { id: botId, provider: 'simulator' })).status).toBe(201);
        expect((await first.request('POST', `/v1/bots/${botId}/start`)).status).toBe(202);
        await first.waitForBot(botId, 'connected');
      }

      const planned = new Map<string, Planned>();
      const sendOrder = new Map<string, string[]>();
      const unexpected: string[] = [];
      const counts = { attempts: 0, cutOff: 0, notConnected: 0, replays: 0 };
      let stopSending = false;
      let chaosOver = false;

      /** Waits for the next process when `p` died; returns at once when it still runs. */
      const afterCutOff = async (p: ParleyProcess): Promise<void> => {
        const died = await Promise.race([p.exited.then(() => true), sleep(250).then(() => false)]);
        if (!died) return;
        while ((await live) === p) await sleep(20);
      };

      /** Sends until Parley acknowledges the message, with the same provider id each time. */
      const deliver = async (m: Planned): Promise<void> => {
        for (;;) {
          const p = await live;
          counts.attempts += 1;
          let res: Response;
          const a0 = performance.now();
          try {
            res = await p.request('POST', `/v1/bots/${m.botId}/simulator/inbound`, m.body);
          } catch {
            counts.cutOff += 1;
            await afterCutOff(p);
            continue;
          }
          const text = await res.text().catch(() => '');
          if (res.status === 202 || res.status === 200) return void ackMs.push(Math.round(performance.now() - a0));
          // The bot reconnects after a restart; until then the simulator refuses with 409.
          if (res.status === 409 || res.status === 503) counts.notConnected += 1;
          else unexpected.push(`${m.id}: ${res.status} ${text}`);
          if (unexpected.length > 20) throw new Error(`inbound keeps failing:\n${unexpected.join('\n')}`);
          await sleep(50);
        }
      };

      const phone = async (botId: string, from: string, index: number): Promise<void> => {
        const own = seeded(SEED + 7919 * (index + 1));
        const acked: Planned[] = [];
        const order: string[] = [];
        sendOrder.set(conversationKey(botId, from), order);
        for (let n = 1; !stopSending; n++) {
          const m = await planMessage(botId, from, n, own, voice);
          planned.set(m.id, m);
          order.push(m.id);
          await deliver(m);
          acked.push(m);
          if (own() < REPLAY_RATE) {
            const again = acked[between(own, [0, acked.length - 1])];
            if (again !== undefined) {
              counts.replays += 1;
              await deliver(again);
            }
          }
          await sleep(between(own, THINK_MS));
        }
      };

      // What each message showed once it was no longer a placeholder: it must never change after.
      const firstFinal = new Map<string, string>();
      const changedFinals: string[] = [];
      const duplicatesSeen: string[] = [];
      const watch = async (): Promise<void> => {
        while (!chaosOver) {
          // A process that failed to start fails the killer; the watcher just stops.
          const p = await live.catch(() => null);
          if (p === null) return;
          for (const botId of BOTS) {
            for (const from of CORRESPONDENTS) {
              const rows = await historyOf(p, botId, from).catch(() => null);
              if (rows === null) continue;
              const seen = new Set<string>();
              for (const row of rows) {
                if (row.providerMessageId === null) continue;
                if (seen.has(row.providerMessageId)) duplicatesSeen.push(`${row.providerMessageId} has a second row at seq ${row.seq}`);
                seen.add(row.providerMessageId);
                if (row.status === 'placeholder') continue;
                const before = firstFinal.get(row.providerMessageId);
                if (before === undefined) firstFinal.set(row.providerMessageId, row.content);
                else if (before !== row.content) changedFinals.push(`${row.providerMessageId}: ${JSON.stringify(before)} became ${JSON.stringify(row.content)}`);
              }
            }
          }
          await sleep(200);
        }
      };

      const killer = async (): Promise<number> => {
        const own = seeded(SEED ^ 0x4b111);
        let kills = 0;
        for (let k = 0; k < KILLS; k++) {
          const p = await live;
          await sleep(between(own, KILL_GAP_MS));
          p.kill();
          kills += 1;
          live = p.exited.then(async (how) => {
            if (how !== 'SIGKILL') throw new Error(`life ${k + 1} ended with ${String(how)}, not SIGKILL:\n${p.output().slice(-4000)}`);
            return start();
          });
        }
        await live;
        // The last process lives: no new message from here on; those under way still arrive.
        stopSending = true;
        return kills;
      };

      const watcher = watch();
      const phones = Promise.all(BOTS.flatMap((botId, b) => CORRESPONDENTS.map((from, c) => phone(botId, from, b * CORRESPONDENTS.length + c))));
      // Awaited below; marked handled so a failing killer does not leave it unhandled meanwhile.
      phones.catch(() => undefined);
      const progress = setInterval(() => {
        if (process.env['CHAOS_REPORT'] === '1') process.stderr.write(`[media chaos] ${Math.round(performance.now() - t0)} ms: ${lives.length} processes, ${planned.size} messages, ${JSON.stringify(counts)}\n`);
      }, 5000);
      const kills = await killer();
      await phones;
      expect(unexpected, 'inbound answers other than 202/200, or 409/503 while the bot reconnects').toEqual([]);
      const p = await live;
      const chaosMs = performance.now() - t0;

      // Every job ends: delivered, or failed with its note in the conversation.
      const terminal = (j: Job) => j.statePath === 'delivered' || j.statePath === 'failed.notified';
      const deadline = Date.now() + DRAIN_MS;
      let jobs: Job[] = [];
      for (;;) {
        jobs = (await Promise.all(BOTS.map((botId) => jobsOf(p, botId)))).flat();
        if (jobs.every(terminal) || Date.now() > deadline) break;
        await sleep(250);
      }
      chaosOver = true;
      clearInterval(progress);
      await watcher;
      const drainMs = performance.now() - t0 - chaosMs;
      expect(jobs.filter((j) => !terminal(j)).map((j) => `${j.botId}/${j.correspondentId} #${j.messageId} job ${j.id}: ${j.statePath} (attempt ${j.attempt}, ${j.error ?? 'no error'})`), `jobs not terminal after ${DRAIN_MS} ms`).toEqual([]);

      const i8: string[] = [...duplicatesSeen];
      const i4: string[] = [...changedFinals];
      const jobProblems: string[] = [];
      const jobsByMessage = new Map<string, Job[]>();
      for (const job of jobs) {
        const key = `${conversationKey(job.botId, job.correspondentId)}#${job.messageId}`;
        jobsByMessage.set(key, [...(jobsByMessage.get(key) ?? []), job]);
      }
      const jobOf = new Map<string, Job>();
      for (const job of jobs) jobOf.set(job.id, job);
      let mediaRows = 0;

      for (const botId of BOTS) {
        for (const from of CORRESPONDENTS) {
          const conversation = conversationKey(botId, from);
          const rows = await historyOf(p, botId, from);
          const order = sendOrder.get(conversation) ?? [];
          const byId = new Map<string, HistoryRow[]>();
          for (const row of rows) {
            if (row.providerMessageId === null || !planned.has(row.providerMessageId)) {
              i8.push(`${conversation}: row seq ${row.seq} (${row.providerMessageId ?? 'no provider id'}) was never sent`);
              continue;
            }
            byId.set(row.providerMessageId, [...(byId.get(row.providerMessageId) ?? []), row]);
          }
          // I8: acknowledged (every message was, in the end) means in history, exactly once, in send order (I9).
          for (const id of order) {
            const found = byId.get(id) ?? [];
            if (found.length !== 1) i8.push(`${id}: ${found.length} rows in history (seqs ${found.map((r) => r.seq).join(', ') || 'none'})`);
          }
          const stored = rows.map((r) => r.providerMessageId);
          if (JSON.stringify(stored) !== JSON.stringify(order)) i8.push(`${conversation}: history order ${JSON.stringify(stored)} is not the send order ${JSON.stringify(order)}`);
          const seqs = rows.map((r) => r.seq);
          if (JSON.stringify(seqs) !== JSON.stringify(seqs.map((_, i) => i + 1))) i8.push(`${conversation}: seqs ${JSON.stringify(seqs)} are not 1..${seqs.length}`);

          // I4/I5: every placeholder finalized, with the text of its own bytes, and one job per message.
          for (const row of rows) {
            const m = row.providerMessageId === null ? undefined : planned.get(row.providerMessageId);
            if (m === undefined) continue;
            mediaRows += 1;
            if (row.status !== m.rowStatus) i4.push(`${m.id} (${m.variant}): status ${row.status}, expected ${m.rowStatus}`);
            if (row.content !== m.content) i4.push(`${m.id} (${m.variant}): content ${JSON.stringify(row.content)}, expected ${JSON.stringify(m.content)}`);
            if (row.kind !== m.kind) i4.push(`${m.id}: kind ${row.kind}, expected ${m.kind}`);
            const forRow = jobsByMessage.get(`${conversation}#${row.seq}`) ?? [];
            if (forRow.length !== 1) jobProblems.push(`${m.id} (seq ${row.seq}): ${forRow.length} jobs (${forRow.map((j) => j.id).join(', ') || 'none'})`);
            const job = row.mediaJobId === null ? undefined : jobOf.get(row.mediaJobId);
            if (job === undefined) jobProblems.push(`${m.id}: its row names job ${row.mediaJobId ?? 'none'}, which does not exist`);
            else if (job.statePath !== m.jobPath) jobProblems.push(`${m.id} (${m.variant}): job ${job.id} ended ${job.statePath} (attempt ${job.attempt}, ${job.error ?? 'no error'}), expected ${m.jobPath}`);
          }

          // The live window agrees with history: no placeholder left, no second content.
          const window = (await p.json<{ messages: QueueMessage[] }>(`/v1/bots/${botId}/correspondents/${from}/messages`)).messages;
          for (const message of window) {
            if (message.mediaJobId !== null) i4.push(`${conversation} window message ${message.id} (${message.providerMessageId ?? '?'}) is still a placeholder of job ${message.mediaJobId}`);
            const row = message.providerMessageId === null ? undefined : byId.get(message.providerMessageId)?.[0];
            if (row !== undefined && row.content !== message.content) i4.push(`${message.providerMessageId}: the window shows ${JSON.stringify(message.content)}, history ${JSON.stringify(row.content)}`);
          }
        }
      }
      if (jobs.length !== mediaRows) jobProblems.push(`${jobs.length} jobs for ${mediaRows} media messages`);

      expect(i8, 'I8: every acknowledged message in history exactly once').toEqual([]);
      expect(i4, 'I4/I5: every placeholder finalized once, with the content of its own bytes').toEqual([]);
      expect(jobProblems, 'one terminal job per media message, in the state its media calls for').toEqual([]);

      // I10: no job keeps its file. What is left belongs to no job: bytes staged by a request the
      // kill cut off before its job was stored (the janitor's, once old enough), or a write the
      // kill cut off halfway (removed at a start once old enough).
      const client = await new MongoClient(env.MONGODB_URI).connect();
      let left: { name: string; size: number }[] = [];
      try {
        const jobsCollection = client.db(env.MONGODB_DB).collection<{ _id: string; mediaKey: string | null; effects: unknown[] }>('media_jobs');
        const held = async () => {
          left = await filesIn(mediaDir);
          return jobsCollection.find({ mediaKey: { $in: left.map((f) => f.name) } }).toArray();
        };
        // A job's file goes right after the job's last transition is stored: a moment later at most.
        let holders = await held();
        const firstHolders = holders.map((h) => h._id);
        for (const until = Date.now() + 5_000; holders.length > 0 && Date.now() < until; await sleep(100)) holders = await held();
        const lines = (id: string) => lives.flatMap((life, n) => life.output().split('\n').filter((l) => l.includes(id)).map((l) => `  life ${n + 1}: ${l}`));
        expect(
          holders.map((h) => `file ${String(h.mediaKey)} still staged for job ${h._id} (${jobOf.get(h._id)?.statePath ?? 'unknown state'}) ${JSON.stringify(h)}\n${lines(h._id).join('\n')}`),
          'I10: a terminal job released its file',
        ).toEqual([]);
        if (firstHolders.length > 0 && process.env['CHAOS_REPORT'] === '1') process.stderr.write(`[media chaos] files of ${firstHolders.join(', ')} went only after the jobs were terminal\n`);
      } finally {
        await client.close();
      }
      const staged = left.filter((f) => GUID.test(f.name));
      const strays = left.filter((f) => !GUID.test(f.name) && !f.name.startsWith('.tmp-'));
      expect(strays.map((f) => f.name), 'I10: only staged files and temp files in MEDIA_DIR').toEqual([]);
      const orphanBytes = staged.reduce((n, f) => n + f.size, 0);
      expect(stagedBytesMetric(await p.metrics()), 'parley_media_staged_bytes counts exactly the files on disk').toBe(orphanBytes);

      // The janitor's grace (10 minutes) and the age of a stale temp file (a minute) pass: the
      // files are made that old, and the next process removes every one and counts nothing staged.
      await p.stop();
      const old = new Date(Date.now() - 3_600_000);
      await Promise.all(left.map((f) => utimes(path.join(mediaDir, f.name), old, old)));
      const final = await start();
      let remaining = left;
      let metric = -1;
      for (const until = Date.now() + 20_000; Date.now() < until; await sleep(200)) {
        remaining = await filesIn(mediaDir);
        metric = stagedBytesMetric(await final.metrics());
        if (remaining.length === 0 && metric === 0) break;
      }
      expect(remaining.map((f) => f.name), 'I10: MEDIA_DIR is empty').toEqual([]);
      expect(metric, 'I10: parley_media_staged_bytes is 0').toBe(0);

      expect(kills).toBeGreaterThanOrEqual(20);
      if (process.env['CHAOS_REPORT'] === '1') {
        const variants = Object.fromEntries(VARIANTS.map(([v]) => [v, [...planned.values()].filter((m) => m.variant === v).length]));
        const reclaimed = jobs.filter((j) => j.attempt > 1).length;
        process.stdout.write(
          `[media chaos] seed ${SEED}: ${kills} kills, ${lives.length} processes, ${planned.size} messages ${JSON.stringify(variants)}, ` +
            `${counts.attempts} requests (${counts.cutOff} cut off by a kill, ${counts.notConnected} before the bot reconnected, ${counts.replays} deliberate replays), ` +
            `${jobs.length} jobs (${reclaimed} needed more than one attempt), ${fake.calls.length} OpenAI calls, ` +
            `${staged.length} orphaned files and ${left.length - staged.length} temp files swept; chaos ${Math.round(chaosMs)} ms, drain ${Math.round(drainMs)} ms, ` +
            `total ${Math.round(performance.now() - t0)} ms; ` +
            `start-up median ${median(startMs)} ms (max ${Math.max(...startMs)}), acknowledgement median ${median(ackMs)} ms (max ${Math.max(...ackMs)})\n`,
        );
      }
    } catch (err) {
      // Every life's log, for the post-mortem; the message names the file.
      const logFile = path.join(tmpdir(), `${env.MONGODB_DB}.log`);
      await writeFile(logFile, lives.map((life, n) => `=== life ${n + 1} ===\n${life.output()}`).join('\n')).catch(() => undefined);
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n(every Parley process's output: ${logFile})`, { cause: err });
    } finally {
      for (const life of lives) life.kill();
      await Promise.all(lives.map((life) => life.exited));
      await lives.at(-1)?.dropDatabase().catch(() => undefined);
      await fake.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
