import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiClient, TransientMediaError } from '../../../src/adapters/media-processors/openai-client.ts';
import type { MediaProcessorSettings } from '../../../src/adapters/media-processors/processor-settings.ts';
import { createVideoProcessor } from '../../../src/adapters/media-processors/video.processor.ts';
import type { MediaProcessor } from '../../../src/ports/media-processor.port.ts';
import { startFakeOpenAi } from '../../support/fake-openai-server.ts';
import type { ChatCall, FakeOpenAi, TranscriptionCall } from '../../support/fake-openai-server.ts';
import { videoFixture } from '../../support/media-fixtures.ts';
import { mediaOf, running, settingsFor } from './processor-test-kit.ts';

let fake: FakeOpenAi;
let video: Uint8Array;
let silent: Uint8Array;

beforeAll(async () => {
  [fake, video, silent] = await Promise.all([startFakeOpenAi(), videoFixture(), videoFixture({ audio: false, seconds: 0.5 })]);
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function processor(settings: MediaProcessorSettings = settingsFor(fake.url)): MediaProcessor {
  return createVideoProcessor(settings, createOpenAiClient(settings));
}

const transcriptions = (): TranscriptionCall[] => fake.calls.filter((call) => call.route === 'transcriptions');
const chats = (): ChatCall[] => fake.calls.filter((call) => call.route === 'chat');
const scratchDirs = async (): Promise<string[]> => (await readdir(tmpdir())).filter((name) => name.startsWith('parley-video-'));

describe('video processor', () => {
  it('transcribes the sound track and describes a frame, one call each, and leaves no scratch files', async () => {
    const before = await scratchDirs();

    const outcome = await processor()(mediaOf('video', 'video/mp4', video), running);

    const [transcription] = transcriptions();
    const [chat] = chats();
    expect(transcriptions()).toHaveLength(1);
    expect(chats()).toHaveLength(1);
    expect(transcription).toMatchObject({ fileName: 'audio.ogg', mimetype: 'audio/ogg', answer: 'ok' });
    expect(chat?.images[0]).toMatchObject({ mime: 'image/jpeg', width: 320, height: 240 });
    expect(chat?.texts.join(' ')).toMatch(/frame/i);
    expect(outcome).toEqual({
      status: 'processed',
      text: `Transcript: transcript of ${transcription?.sha256?.slice(0, 8)}\nFrame: description of ${chat?.images[0]?.sha256.slice(0, 8)}`,
    });
    expect(await scratchDirs()).toEqual(before);
  });

  it('describes only the frame of a video without sound, even one shorter than a second', async () => {
    const outcome = await processor()(mediaOf('video', 'video/mp4', silent), running);

    expect(transcriptions()).toHaveLength(0);
    expect(chats()).toHaveLength(1);
    expect(outcome).toEqual({ status: 'processed', text: `Frame: description of ${chats()[0]?.images[0]?.sha256.slice(0, 8)}` });
  });

  it('keeps the part that worked when the other is refused', async () => {
    fake.failNext('chat', 400);

    const outcome = await processor()(mediaOf('video', 'video/mp4', video), running);

    expect(outcome).toMatchObject({ status: 'processed', text: expect.stringMatching(/^Transcript: transcript of \w{8}\nFrame: \(image description refused the file \(HTTP 400\)\)$/) });
  });

  it('notes a file ffmpeg cannot decode, and calls nothing', async () => {
    const corrupt = new Uint8Array(4096).fill(7);

    await expect(processor()(mediaOf('video', 'video/mp4', corrupt), running)).resolves.toEqual({ status: 'unreadable', reason: 'the video could not be decoded' });
    expect(fake.calls).toHaveLength(0);
  });

  it('notes that ffmpeg could not run when the binary is missing', async () => {
    const settings = settingsFor(fake.url, { ffmpegPath: '/nonexistent/ffmpeg' });

    await expect(processor(settings)(mediaOf('video', 'video/mp4', video), running)).resolves.toEqual({
      status: 'unreadable',
      reason: 'video processing unavailable: ffmpeg could not run',
    });
  });

  it('without a key, names what is unavailable and calls nothing', async () => {
    const outcome = await processor(settingsFor(fake.url, {}, null))(mediaOf('video', 'video/mp4', video), running);

    expect(outcome).toEqual({ status: 'unreadable', reason: 'video transcription and frame description unavailable: no OpenAI key configured' });
    expect(fake.calls).toHaveLength(0);
  });

  it('refuses a video above the cap', async () => {
    const settings = settingsFor(fake.url, { caps: { ...settingsFor(fake.url).caps, videoBytes: 1024 } });

    await expect(processor(settings)(mediaOf('video', 'video/mp4', video), running)).resolves.toEqual({ status: 'unreadable', reason: 'video larger than 1 KB' });
  });

  it('throws a transient error when a part times out, and still removes its scratch files', async () => {
    const before = await scratchDirs();
    fake.failNext('transcriptions', 'timeout');

    const error = await processor(settingsFor(fake.url, { timeoutMs: 1_000 }))(mediaOf('video', 'video/mp4', video), running).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientMediaError);
    expect(await scratchDirs()).toEqual(before);
  });

  it('kills ffmpeg and throws a transient error when the deadline passes while it runs', async () => {
    const error = await processor(settingsFor(fake.url, { timeoutMs: 1 }))(mediaOf('video', 'video/mp4', video), running).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientMediaError);
    expect(String(error)).toContain('timed out after 1 ms');
  });

  it('rethrows the caller\'s reason on shutdown', async () => {
    const shutdown = new AbortController();
    const reason = new Error('shutting down');
    shutdown.abort(reason);

    await expect(processor()(mediaOf('video', 'video/mp4', video), shutdown.signal)).rejects.toBe(reason);
  });
});
