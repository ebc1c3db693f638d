import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiClient, TransientMediaError } from '../../../src/adapters/media-processors/openai-client.ts';
import { createVisionProcessor, downscaleImage } from '../../../src/adapters/media-processors/vision.processor.ts';
import type { MediaProcessorSettings } from '../../../src/adapters/media-processors/processor-settings.ts';
import type { MediaProcessor } from '../../../src/ports/media-processor.port.ts';
import { sha256, startFakeOpenAi } from '../../support/fake-openai-server.ts';
import type { ChatCall, FakeOpenAi } from '../../support/fake-openai-server.ts';
import { pngFixture } from '../../support/media-fixtures.ts';
import { mediaOf, running, settingsFor } from './processor-test-kit.ts';

let fake: FakeOpenAi;

beforeAll(async () => {
  fake = await startFakeOpenAi();
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function describer(settings: MediaProcessorSettings = settingsFor(fake.url)): MediaProcessor {
  return createVisionProcessor(settings, createOpenAiClient(settings));
}

const chatCalls = (): ChatCall[] => fake.calls.filter((call) => call.route === 'chat');
const onlyImage = () => {
  const [call] = chatCalls();
  expect(chatCalls()).toHaveLength(1);
  expect(call?.images).toHaveLength(1);
  return call!.images[0]!;
};

describe('vision processor', () => {
  it('sends a small image untouched, with a prompt, and returns the description', async () => {
    const png = await pngFixture(200, 100);

    const outcome = await describer()(mediaOf('image', 'image/png', png), running);

    expect(outcome).toEqual({ status: 'processed', text: `description of ${sha256(png).slice(0, 8)}` });
    expect(onlyImage()).toEqual({ mime: 'image/png', bytes: png.byteLength, sha256: sha256(png), width: 200, height: 100 });
    const [call] = chatCalls();
    expect(call?.model).toBe('gpt-4o-mini');
    expect(call?.texts.join(' ')).toMatch(/describe this image/i);
  });

  it('scales an image larger than 1024 px down to fit, as JPEG', async () => {
    const png = await pngFixture(2000, 1500);

    await describer()(mediaOf('image', 'image/png', png), running);

    expect(onlyImage()).toMatchObject({ mime: 'image/jpeg', width: 1024, height: 768 });
  });

  it('keeps a sticker transparent when scaling it (PNG) and asks for its expression', async () => {
    const sticker = await sharp(await pngFixture(1200, 1200, { alpha: true }))
      .webp()
      .toBuffer();

    await describer()(mediaOf('sticker', 'image/webp', sticker), running);

    expect(onlyImage()).toMatchObject({ mime: 'image/png', width: 1024, height: 1024 });
    expect(chatCalls()[0]?.texts.join(' ')).toMatch(/sticker.*(expression|emotion)/is);
  });

  it('re-encodes an image above the byte cap even when its sides fit', async () => {
    const png = await pngFixture(600, 600);
    const settings = settingsFor(fake.url, { caps: { ...settingsFor(fake.url).caps, imageBytes: 1024 } });

    await describer(settings)(mediaOf('image', 'image/png', png), running);

    expect(onlyImage()).toMatchObject({ mime: 'image/jpeg', width: 600, height: 600 });
    expect(onlyImage().bytes).toBeLessThan(png.byteLength);
  });

  it('notes an image that cannot be decoded and calls nothing', async () => {
    const corrupt = new Uint8Array(Buffer.from('\x89PNG\r\n\x1a\n this is not really a png'));

    await expect(describer()(mediaOf('image', 'image/png', corrupt), running)).resolves.toEqual({
      status: 'unreadable',
      reason: 'the image could not be decoded',
    });
    expect(fake.calls).toHaveLength(0);
  });

  it('without a key, says description is unavailable and calls nothing', async () => {
    const settings = settingsFor(fake.url, {}, null);

    await expect(describer(settings)(mediaOf('image', 'image/png', await pngFixture(10, 10)), running)).resolves.toEqual({
      status: 'unreadable',
      reason: 'image description unavailable: no OpenAI key configured',
    });
    expect(fake.calls).toHaveLength(0);
  });

  it('retries a 429 and returns the description', async () => {
    fake.failNext('chat', 429);
    const png = await pngFixture(50, 50);

    await expect(describer()(mediaOf('image', 'image/png', png), running)).resolves.toEqual({
      status: 'processed',
      text: `description of ${sha256(png).slice(0, 8)}`,
    });
    expect(chatCalls().map((call) => call.answer)).toEqual([429, 'ok']);
  });

  it('throws a transient error on a timeout', async () => {
    fake.failNext('chat', 'timeout');

    const error = await describer(settingsFor(fake.url, { timeoutMs: 300 }))(mediaOf('image', 'image/png', await pngFixture(50, 50)), running).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(TransientMediaError);
  });
});

describe('downscaleImage', () => {
  it('fits the longer side to the limit and keeps the aspect ratio', async () => {
    const image = await downscaleImage(await pngFixture(2000, 500), { maxPx: 1024, maxBytes: 20 * 1024 * 1024 });

    expect(image).toMatchObject({ mime: 'image/jpeg', width: 1024, height: 256 });
  });

  it('never enlarges a small image that is re-encoded for its bytes', async () => {
    const image = await downscaleImage(await pngFixture(300, 200), { maxPx: 1024, maxBytes: 10 });

    expect(image).toMatchObject({ width: 300, height: 200 });
  });

  it('re-encodes a format the model does not take', async () => {
    const tiff = await sharp(await pngFixture(100, 100))
      .tiff()
      .toBuffer();

    expect(await downscaleImage(tiff, { maxPx: 1024, maxBytes: 20 * 1024 * 1024 })).toMatchObject({ mime: 'image/jpeg', width: 100 });
  });

  it('is null for bytes that are not an image', async () => {
    expect(await downscaleImage(new Uint8Array([1, 2, 3, 4]), { maxPx: 1024, maxBytes: 1024 })).toBeNull();
  });
});
