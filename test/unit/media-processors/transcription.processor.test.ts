import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiClient, TransientMediaError } from '../../../src/adapters/media-processors/openai-client.ts';
import { createTranscriptionProcessor } from '../../../src/adapters/media-processors/transcription.processor.ts';
import type { MediaProcessorSettings } from '../../../src/adapters/media-processors/processor-settings.ts';
import type { MediaProcessor } from '../../../src/ports/media-processor.port.ts';
import { sha256, startFakeOpenAi } from '../../support/fake-openai-server.ts';
import type { FakeOpenAi, TranscriptionCall } from '../../support/fake-openai-server.ts';
import { oggFixture } from '../../support/media-fixtures.ts';
import { mediaOf, running, settingsFor } from './processor-test-kit.ts';

let fake: FakeOpenAi;
let voice: Uint8Array;

beforeAll(async () => {
  [fake, voice] = await Promise.all([startFakeOpenAi(), oggFixture()]);
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function transcriber(settings: MediaProcessorSettings = settingsFor(fake.url)): MediaProcessor {
  return createTranscriptionProcessor(settings, createOpenAiClient(settings));
}

const transcriptionCalls = (): TranscriptionCall[] => fake.calls.filter((call) => call.route === 'transcriptions');
const expectedText = (): string => `transcript of ${sha256(voice).slice(0, 8)}`;

describe('transcription processor', () => {
  it('sends the primary language of the bot\'s hint, and none without one', async () => {
    await transcriber()(mediaOf('voice', 'audio/ogg', voice, null, 'pt-BR'), running);
    await transcriber()(mediaOf('voice', 'audio/ogg', voice), running);
    await transcriber()(mediaOf('voice', 'audio/ogg', voice, null, 'x-klingon'), running);
    expect(transcriptionCalls().map((c) => c.language)).toEqual(['pt', null, null]);
  });

  it('uploads the voice note once, as a named ogg file with model and key, and returns the transcript', async () => {
    const outcome = await transcriber()(mediaOf('voice', 'audio/ogg; codecs=opus', voice), running);

    expect(outcome).toEqual({ status: 'processed', text: expectedText() });
    expect(transcriptionCalls()).toEqual([
      expect.objectContaining({
        model: 'gpt-4o-mini-transcribe',
        fileName: 'audio.ogg',
        mimetype: 'audio/ogg',
        bytes: voice.byteLength,
        sha256: sha256(voice),
        authorization: 'Bearer test-key',
        answer: 'ok',
      }),
    ]);
  });

  it('names the upload after the mime type, so the service can tell the format', async () => {
    await transcriber()(mediaOf('audio', 'audio/mpeg', voice, 'song'), running);
    await transcriber()(mediaOf('audio', 'audio/mp4', voice), running);

    expect(transcriptionCalls().map((call) => call.fileName)).toEqual(['audio.mp3', 'audio.m4a']);
  });

  it('returns an empty text when the audio holds no speech', async () => {
    fake.reply('transcriptions', () => '');

    await expect(transcriber()(mediaOf('voice', 'audio/ogg', voice), running)).resolves.toEqual({ status: 'processed', text: '' });
  });

  it('retries a 500 inside the SDK once and returns the transcript', async () => {
    fake.failNext('transcriptions', 500);

    await expect(transcriber()(mediaOf('voice', 'audio/ogg', voice), running)).resolves.toEqual({ status: 'processed', text: expectedText() });
    expect(transcriptionCalls().map((call) => call.answer)).toEqual([500, 'ok']);
  });

  it('retries a 429 after the wait the service asks for', async () => {
    fake.failNext('transcriptions', 429);

    await expect(transcriber()(mediaOf('voice', 'audio/ogg', voice), running)).resolves.toEqual({ status: 'processed', text: expectedText() });
    expect(transcriptionCalls().map((call) => call.answer)).toEqual([429, 'ok']);
  });

  it('throws a transient error naming the status, never the key, when the 500 persists', async () => {
    fake.failNext('transcriptions', 500, 2);

    const error = await transcriber()(mediaOf('voice', 'audio/ogg', voice), running).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientMediaError);
    expect(String(error)).toContain('transcription failed (HTTP 500)');
    expect(String(error)).not.toContain('test-key');
    expect(transcriptionCalls()).toHaveLength(2);
  });

  it('throws a transient error when the service does not answer within the timeout', async () => {
    fake.failNext('transcriptions', 'timeout');
    const started = Date.now();

    const error = await transcriber(settingsFor(fake.url, { timeoutMs: 300 }))(mediaOf('voice', 'audio/ogg', voice), running).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientMediaError);
    expect(String(error)).toContain('timed out after 300 ms');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('throws a transient error when the answer stalls half-way', async () => {
    fake.failNext('transcriptions', 'hang');

    const error = await transcriber(settingsFor(fake.url, { timeoutMs: 300 }))(mediaOf('voice', 'audio/ogg', voice), running).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(TransientMediaError);
  });

  it('rethrows when the caller aborts (shutdown), rather than calling it a timeout', async () => {
    fake.failNext('transcriptions', 'timeout');
    const shutdown = new AbortController();
    setTimeout(() => shutdown.abort(new Error('shutting down')), 100);

    const error = await transcriber()(mediaOf('voice', 'audio/ogg', voice), shutdown.signal).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(TransientMediaError);
  });

  it('notes a file the service refuses, without retrying it', async () => {
    fake.failNext('transcriptions', 400);

    await expect(transcriber()(mediaOf('voice', 'audio/ogg', voice), running)).resolves.toEqual({
      status: 'unreadable',
      reason: 'transcription refused the file (HTTP 400)',
    });
    expect(transcriptionCalls()).toHaveLength(1);
  });

  it('notes a rejected key as the server configuration, without quoting the key', async () => {
    fake.failNext('transcriptions', 401);

    const outcome = await transcriber()(mediaOf('voice', 'audio/ogg', voice), running);

    expect(outcome).toEqual({ status: 'unreadable', reason: 'transcription unavailable: the OpenAI key was rejected (HTTP 401)' });
  });

  it('without a key, says transcription is unavailable and calls nothing', async () => {
    const settings = settingsFor(fake.url, {}, null);

    await expect(transcriber(settings)(mediaOf('voice', 'audio/ogg', voice), running)).resolves.toEqual({
      status: 'unreadable',
      reason: 'transcription unavailable: no OpenAI key configured',
    });
    expect(fake.calls).toHaveLength(0);
  });

  it('refuses audio above the cap before uploading it', async () => {
    const settings = settingsFor(fake.url, { caps: { ...settingsFor(fake.url).caps, audioBytes: 1024 } });

    const outcome = await transcriber(settings)(mediaOf('voice', 'audio/ogg', new Uint8Array(2048)), running);

    expect(outcome).toEqual({ status: 'unreadable', reason: 'audio larger than 1 KB' });
    expect(fake.calls).toHaveLength(0);
  });
});
