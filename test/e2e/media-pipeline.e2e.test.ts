import { readdir } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256, startFakeOpenAi } from '../support/fake-openai-server.ts';
import type { ChatCall, FakeOpenAi, TranscriptionCall } from '../support/fake-openai-server.ts';
import { docxFixture, oggFixture, pdfFixture, pngFixture, videoFixture } from '../support/media-fixtures.ts';
import { eventually } from '../support/runtime-harness.ts';
import type { Api } from './api-harness.ts';
import { useMediaApi } from './media-setup.ts';

/**
 * The media pipeline end to end, through REST only: media posted to the simulator, staged in a
 * real directory, routed to the default pools, turned into text by the real processors against a
 * local OpenAI-compatible server, and read back from the conversation and the job list.
 */

interface HistoryRowJson {
  seq: number;
  kind: string;
  content: string;
  status: string;
  mediaJobId: string | null;
  providerMessageId: string | null;
}
interface QueueMessageJson {
  id: number;
  content: string;
  mediaJobId: string | null;
}
interface JobJson {
  id: string;
  botId: string;
  correspondentId: string;
  kind: string;
  pool: string | null;
  sizeBytes: number | null;
  state: string;
  statePath: string;
  attempt: number;
  error: string | null;
}

interface MediaBody {
  kind: string;
  mimetype: string;
  dataBase64?: string;
  fileName?: string;
  caption?: string;
}

// Jobs wait for a poll at worst, then process; a job retry waits about a second (MEDIA_RETRY).
const SETTLE_MS = 15_000;
const WORKER = { pollMs: 50, leaseMs: 5_000, maxAttempts: 2 };

let fake: FakeOpenAi;
let voice: Uint8Array;

beforeAll(async () => {
  [fake, voice] = await Promise.all([startFakeOpenAi(), oggFixture()]);
});
afterAll(() => fake.close());
// Every test waits until its jobs have ended, so nothing of the previous test is still calling.
beforeEach(() => fake.reset());

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const sha8 = (bytes: Uint8Array): string => sha256(bytes).slice(0, 8);
const transcriptionsOf = (bytes: Uint8Array): TranscriptionCall[] =>
  fake.calls.filter((call): call is TranscriptionCall => call.route === 'transcriptions' && call.sha256 === sha256(bytes));
const chatCalls = (): ChatCall[] => fake.calls.filter((call): call is ChatCall => call.route === 'chat');
const voiceMedia = (bytes: Uint8Array = voice): MediaBody => ({ kind: 'voice', mimetype: 'audio/ogg; codecs=opus', dataBase64: b64(bytes) });
const textDocument = (fileName: string, mimetype: string, text: string): MediaBody => ({ kind: 'document', mimetype, fileName, dataBase64: b64(Buffer.from(text)) });

async function send(api: Api, botId: string, body: Record<string, unknown>): Promise<string> {
  const res = await api.request('POST', `/v1/bots/${botId}/simulator/inbound`, body);
  if (res.statusCode !== 202) throw new Error(`inbound: ${res.statusCode} ${res.body}`);
  return res.json<{ messageId: string }>().messageId;
}

async function historyOf(api: Api, botId: string, from: string): Promise<HistoryRowJson[]> {
  return (await api.request('GET', `/v1/bots/${botId}/correspondents/${from}/history`)).json<{ messages: HistoryRowJson[] }>().messages;
}

async function windowOf(api: Api, botId: string, from: string): Promise<QueueMessageJson[]> {
  return (await api.request('GET', `/v1/bots/${botId}/correspondents/${from}/messages`)).json<{ messages: QueueMessageJson[] }>().messages;
}

async function jobsOf(api: Api, botId: string, state?: string): Promise<JobJson[]> {
  const query = new URLSearchParams({ botId, limit: '1000', ...(state === undefined ? {} : { state }) });
  return (await api.request('GET', `/v1/jobs?${query}`)).json<{ jobs: JobJson[] }>().jobs;
}

async function jobById(api: Api, botId: string, id: string): Promise<JobJson | undefined> {
  return (await jobsOf(api, botId)).find((job) => job.id === id);
}

/** A job that has ended: delivered, or failed with its note written into the conversation. */
const ended = (job: JobJson | undefined): boolean => job?.state === 'delivered' || job?.statePath === 'failed.notified';

/**
 * Waits until the conversation's only message is final and its job has ended, and the live window
 * shows the same content; returns the row and the job.
 */
async function settled(api: Api, botId: string, from: string): Promise<{ row: HistoryRowJson; job: JobJson }> {
  const rows = await eventually(() => historyOf(api, botId, from), (r) => r.length > 0 && r.every((row) => row.status !== 'placeholder'), SETTLE_MS);
  expect(rows, 'one history row for the message').toHaveLength(1);
  const row = rows[0]!;
  if (row.mediaJobId === null) throw new Error(`row ${row.seq} has no media job`);
  const jobId = row.mediaJobId;
  const job = await eventually(() => jobById(api, botId, jobId), ended, SETTLE_MS);
  const window = await eventually(() => windowOf(api, botId, from), (w) => w.length === 1 && w[0]?.mediaJobId === null, SETTLE_MS);
  expect(window.map((m) => m.content), 'the live window shows the final content once').toEqual([row.content]);
  return { row, job: job! };
}

/** Posts one media message from `from` and waits until it has settled. */
async function processed(api: Api, botId: string, from: string, media: MediaBody, extra: Record<string, unknown> = {}) {
  await send(api, botId, { from, media, ...extra });
  return settled(api, botId, from);
}

describe('media pipeline with OpenAI', () => {
  const BOT = 'bot-media';
  const ctx = useMediaApi('parley_media_e2e', () => ({ openAiUrl: fake.url }), { worker: WORKER, runningBots: [BOT] });

  it('turns a voice note into one transcript row, calls transcription once, and removes the staged file', async () => {
    const before = await ctx.media.stagedFiles();
    const { row, job } = await processed(ctx.api, BOT, '4915550101', voiceMedia());

    expect(row).toMatchObject({ kind: 'voice', status: 'final', content: `[Voice message] transcript of ${sha8(voice)}` });
    expect(transcriptionsOf(voice).map((call) => call.answer)).toEqual(['ok']);
    expect(job).toMatchObject({ state: 'delivered', pool: 'audio', attempt: 1, error: null });
    await eventually(() => ctx.media.stagedFiles(), (files) => JSON.stringify(files) === JSON.stringify(before));
  });

  it('carries the caption of an image below its description', async () => {
    const image = await pngFixture(64, 48);
    const { row, job } = await processed(ctx.api, BOT, '4915550102', { kind: 'image', mimetype: 'image/png', dataBase64: b64(image), caption: 'look at this' });

    expect(row.content).toBe(`[Image] description of ${sha8(image)}\nCaption: look at this`);
    expect(job).toMatchObject({ state: 'delivered', pool: 'image' });
  });

  it('sends an image larger than 1024 px to the vision model scaled down to 1024 px', async () => {
    const image = await pngFixture(2048, 1536);
    const { row } = await processed(ctx.api, BOT, '4915550103', { kind: 'image', mimetype: 'image/png', dataBase64: b64(image) });

    const calls = chatCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.images).toEqual([expect.objectContaining({ width: 1024, height: 768 })]);
    expect(row.content).toBe(`[Image] description of ${calls[0]!.images[0]!.sha256.slice(0, 8)}`);
  });

  it('routes a sticker to the sticker pool and describes it as a sticker', async () => {
    const sticker = new Uint8Array(await sharp(await pngFixture(96, 96, { alpha: true })).webp().toBuffer());
    const { row, job } = await processed(ctx.api, BOT, '4915550104', { kind: 'sticker', mimetype: 'image/webp', dataBase64: b64(sticker) });

    expect(job).toMatchObject({ pool: 'sticker', state: 'delivered', kind: 'sticker' });
    expect(row.content).toBe(`[Sticker] description of ${sha8(sticker)}`);
    expect(chatCalls().map((call) => call.texts.join(' '))).toEqual([expect.stringMatching(/sticker/i)]);
  });

  it('turns a video into a transcript line and a frame line, calling both endpoints', async () => {
    const video = await videoFixture();
    const { row, job } = await processed(ctx.api, BOT, '4915550105', { kind: 'video', mimetype: 'video/mp4', dataBase64: b64(video) });

    expect(row.content).toMatch(/^\[Video\] Transcript: transcript of [0-9a-f]{8}\nFrame: description of [0-9a-f]{8}$/);
    expect(fake.calls.map((call) => [call.route, call.answer]).sort()).toEqual([['chat', 'ok'], ['transcriptions', 'ok']]);
    expect(job).toMatchObject({ pool: 'video', state: 'delivered' });
  });

  it('reads a three-page PDF page by page, in order', async () => {
    const pdf = await pdfFixture(['Alpha page', 'Beta page', 'Gamma page']);
    const { row, job } = await processed(ctx.api, BOT, '4915550106', { kind: 'document', mimetype: 'application/pdf', fileName: 'report.pdf', dataBase64: b64(pdf) });

    expect(row.content).toBe('[Document: report.pdf] --- Page 1 ---\nAlpha page\n\n--- Page 2 ---\nBeta page\n\n--- Page 3 ---\nGamma page');
    expect(job).toMatchObject({ pool: 'document', state: 'delivered' });
    expect(fake.calls).toEqual([]);
  });

  it('reads a DOCX with its paragraphs and its table rows', async () => {
    const docx = await docxFixture({ paragraphs: ['Quarterly memo', 'Numbers below'], table: [['a', 'b'], ['c', 'd']] });
    const mimetype = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    const { row } = await processed(ctx.api, BOT, '4915550107', { kind: 'document', mimetype, fileName: 'memo.docx', dataBase64: b64(docx) });

    expect(row.content).toBe('[Document: memo.docx] Quarterly memo\nNumbers below\na | b\nc | d');
  });

  it.each([
    ['plain text', '4915550108', textDocument('notes.txt', 'text/plain', 'plain words here'), '[Document: notes.txt] plain words here'],
    ['CSV', '4915550109', textDocument('stock.csv', 'text/csv', 'name,qty\napple,3'), '[Document: stock.csv] name,qty\napple,3'],
    ['JSON, re-indented', '4915550110', textDocument('data.json', 'application/json', '{"a":1,"b":[2]}'), '[Document: data.json] {\n  "a": 1,\n  "b": [\n    2\n  ]\n}'],
  ])('reads a %s document as its text', async (_label, from, media, content) => {
    const { row, job } = await processed(ctx.api, BOT, from, media);

    expect(row.content).toBe(content);
    expect(job.state).toBe('delivered');
  });

  it('ends media whose download keeps failing with a note, as a failed job listed among the failed', async () => {
    const { row, job } = await processed(ctx.api, BOT, '4915550111', { kind: 'voice', mimetype: 'audio/ogg' }, { corrupt: true });

    expect(row).toMatchObject({
      status: 'failed',
      content: '[Voice message] (could not be processed: the download failed 3 times (simulated download failure))',
    });
    expect(job).toMatchObject({ state: 'failed', error: 'the download failed 3 times (simulated download failure)' });
    expect((await jobsOf(ctx.api, BOT, 'failed')).map((j) => j.id)).toContain(job.id);
    expect(fake.calls).toEqual([]);
  });

  it('answers a document type no processor reads with a note naming the type, as a failed job', async () => {
    const exe = { kind: 'document', mimetype: 'application/x-msdownload', fileName: 'setup.exe', dataBase64: b64(Buffer.from('MZ\x90\x00binary')) };
    const { row, job } = await processed(ctx.api, BOT, '4915550112', exe);

    expect(row).toMatchObject({ status: 'failed', content: '[Document: setup.exe] (could not be processed: unsupported media type application/x-msdownload)' });
    expect(job).toMatchObject({ state: 'failed', pool: 'other' });
    expect((await jobsOf(ctx.api, BOT, 'failed')).map((j) => j.id)).toContain(job.id);
  });

  it.each([
    ['a 500', 500],
    ['a 429', 429],
  ] as const)('retries %s from transcription inside the SDK and stores the transcript once', async (_label, status) => {
    fake.failNext('transcriptions', status);
    const { row, job } = await processed(ctx.api, BOT, status === 500 ? '4915550113' : '4915550114', voiceMedia());

    expect(row).toMatchObject({ status: 'final', content: `[Voice message] transcript of ${sha8(voice)}` });
    expect(transcriptionsOf(voice).map((call) => call.answer)).toEqual([status, 'ok']);
    expect(job).toMatchObject({ state: 'delivered', attempt: 1 });
  });

  it('ends a job whose transcription keeps failing after its attempts, with a visible note', async () => {
    // Two attempts of the job, each an SDK call and its one retry.
    fake.failNext('transcriptions', 500, 4);
    const { row, job } = await processed(ctx.api, BOT, '4915550115', voiceMedia());

    expect(row).toMatchObject({ status: 'failed', content: '[Voice message] (could not be processed: transcription failed (HTTP 500))' });
    expect(transcriptionsOf(voice).map((call) => call.answer)).toEqual([500, 500, 500, 500]);
    expect(job).toMatchObject({ state: 'failed', attempt: 2, error: 'transcription failed (HTTP 500)' });
    expect((await jobsOf(ctx.api, BOT, 'failed')).map((j) => j.id)).toContain(job.id);
  });

  it('stores a replayed media message once, transcribes it once and leaves no staged file', async () => {
    const before = await ctx.media.stagedFiles();
    const body = { from: '4915550116', providerMessageId: 'WA-MEDIA-REPLAY-1', media: voiceMedia() };
    // Two copies at once, then one more after the first has been delivered.
    await Promise.all([send(ctx.api, BOT, body), send(ctx.api, BOT, body)]);
    const { row, job } = await settled(ctx.api, BOT, '4915550116');
    await send(ctx.api, BOT, body);

    expect(row).toMatchObject({ providerMessageId: 'WA-MEDIA-REPLAY-1', content: `[Voice message] transcript of ${sha8(voice)}` });
    expect(job.state).toBe('delivered');
    expect(await historyOf(ctx.api, BOT, '4915550116')).toHaveLength(1);
    expect((await jobsOf(ctx.api, BOT)).filter((j) => j.correspondentId === '4915550116')).toHaveLength(1);
    expect(transcriptionsOf(voice)).toHaveLength(1);
    await eventually(() => ctx.media.stagedFiles(), (files) => JSON.stringify(files) === JSON.stringify(before));
  });
});

describe('media pipeline without an OpenAI key', () => {
  const BOT = 'bot-nokey';
  const ctx = useMediaApi('parley_media_nokey', () => ({ openAiUrl: fake.url, apiKey: null, staging: { maxFileBytes: 1024 } }), { worker: WORKER, runningBots: [BOT] });
  const tinyVoice = { kind: 'voice', mimetype: 'audio/ogg', dataBase64: 'AAECAw==' };
  const noKeyNote = '[Voice message] (could not be processed: transcription unavailable: no OpenAI key configured)';

  it('answers a voice note with a note that no key is configured, calls nothing, and fails the job visibly', async () => {
    const { row, job } = await processed(ctx.api, BOT, '4915550201', tinyVoice);

    expect(row).toMatchObject({ status: 'failed', content: noKeyNote });
    expect(fake.calls).toEqual([]);
    expect(job).toMatchObject({ state: 'failed', error: 'transcription unavailable: no OpenAI key configured' });
    expect((await jobsOf(ctx.api, BOT, 'failed')).map((j) => j.id)).toContain(job.id);
  });

  it('runs a failed job again on an operator retry and ends it failed again in the same single row', async () => {
    const first = await processed(ctx.api, BOT, '4915550202', tinyVoice);
    expect(first.job).toMatchObject({ state: 'failed', attempt: 1 });

    const retried = await ctx.api.request('POST', `/v1/jobs/${first.job.id}/retry`);
    expect(retried.statusCode).toBe(202);
    expect(retried.json<JobJson>()).toMatchObject({ id: first.job.id, state: 'pending' });
    await eventually(() => jobById(ctx.api, BOT, first.job.id), (job) => ended(job) && job?.attempt === 2, SETTLE_MS);
    const again = await settled(ctx.api, BOT, '4915550202');

    expect(again.row).toMatchObject({ seq: first.row.seq, status: 'failed', content: noKeyNote });
    expect(again.job).toMatchObject({ id: first.job.id, state: 'failed', attempt: 2 });
    expect((await jobsOf(ctx.api, BOT)).filter((j) => j.correspondentId === '4915550202')).toHaveLength(1);
    expect(fake.calls).toEqual([]);
  });

  it('refuses media over the staging file limit with a note naming the limit, and stages nothing', async () => {
    // Every entry of the directory, temp files of an aborted write included.
    const before = (await readdir(ctx.media.dir)).sort();
    const { row, job } = await processed(ctx.api, BOT, '4915550203', textDocument('big.txt', 'text/plain', 'x'.repeat(4096)));

    expect(row).toMatchObject({ status: 'failed', content: '[Document: big.txt] (could not be processed: the file is larger than the 1 KB limit)' });
    expect(job).toMatchObject({ state: 'failed', sizeBytes: null, error: 'the file is larger than the 1 KB limit' });
    expect((await readdir(ctx.media.dir)).sort()).toEqual(before);
  });
});

describe('media pipeline with a slow transcription service', () => {
  const BOT = 'bot-slow';
  const ctx = useMediaApi('parley_media_slow', () => ({ openAiUrl: fake.url, timeoutMs: 500 }), { worker: WORKER, runningBots: [BOT] });

  it('retries a transcription that timed out and ends with exactly one final content', async () => {
    fake.failNext('transcriptions', 'timeout');
    const { row, job } = await processed(ctx.api, BOT, '4915550301', voiceMedia());

    const calls = transcriptionsOf(voice);
    expect(calls[0]?.answer).toBe('timeout');
    expect(calls.length).toBeGreaterThanOrEqual(2);
    // The retry normally answers in time; on a starved machine it may time out too, and then the
    // job ends with the timeout as its note. Either way there is one row with one final content.
    if (job.state === 'delivered') {
      expect(row).toMatchObject({ status: 'final', content: `[Voice message] transcript of ${sha8(voice)}` });
    } else {
      expect(row).toMatchObject({ status: 'failed', content: '[Voice message] (could not be processed: transcription timed out after 500 ms)' });
      expect(job).toMatchObject({ state: 'failed', attempt: 2 });
    }
  });
});
