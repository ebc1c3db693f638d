import { randomBytes } from 'node:crypto';
import { proto } from 'baileys';
import type { WAMessage } from 'baileys';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MediaDownloadError, httpStatusOf, mediaDownloader } from '../../../src/adapters/baileys/baileys-media.ts';
import type { MediaDownloadLogger } from '../../../src/adapters/baileys/baileys-media.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { MediaBytes } from '../../../src/ports/media-store.port.ts';
import { DEFAULT_STAGING_LIMITS, createMediaStaging } from '../../../src/runtime/media-jobs/media-staging.ts';
import { encryptMedia, startMediaServer } from '../../support/baileys-media-fixtures.ts';
import type { EncryptedMedia, MediaServer } from '../../support/baileys-media-fixtures.ts';
import { createMemoryMediaStore } from '../../support/memory-media-store.ts';

const KEY = { remoteJid: '4915112345678@s.whatsapp.net', id: '3EB0C0FFEE', fromMe: false };

/** The media fields of a message for `enc`, downloadable from `url` (no `directPath`, so the URL is used as is). */
const fields = (enc: EncryptedMedia, url: string, mimetype: string) => ({
  url,
  mimetype,
  mediaKey: enc.mediaKey,
  fileLength: enc.fileLength,
  fileSha256: enc.fileSha256,
  fileEncSha256: enc.fileEncSha256,
});
/** A real `proto.WebMessageInfo` with the given content, typed as the socket hands it over. */
const wa = (message: proto.IMessage): WAMessage => Object.assign(proto.WebMessageInfo.fromObject({ key: KEY, message }), { key: { ...KEY } });
const imageMessage = (enc: EncryptedMedia, url: string): WAMessage => wa({ imageMessage: fields(enc, url, 'image/jpeg') });

async function collect(bytes: MediaBytes): Promise<Buffer> {
  if (bytes instanceof Uint8Array) return Buffer.from(bytes);
  const chunks: Uint8Array[] = [];
  for await (const chunk of bytes) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A pino-like logger that keeps what it was told. */
function recordingLogger(): MediaDownloadLogger & { readonly lines: string[] } {
  const lines: string[] = [];
  const record = (obj: object, msg: string) => void lines.push(`${msg} ${JSON.stringify(obj)}`);
  return { lines, info: record, warn: record, debug: record };
}

const noReupload = () => Promise.reject(new Error('reupload must not be asked'));

let server: MediaServer;
let photo: Buffer;
let image: EncryptedMedia;
let path = 0;
/** A fresh path on the server, so tests do not see each other's answers. */
const fresh = () => `/enc/${++path}`;

beforeAll(async () => {
  server = await startMediaServer();
  photo = randomBytes(300_000);
  image = await encryptMedia(photo, 'image');
});
afterAll(() => server.close());

describe('Baileys media download', () => {
  it('streams the decrypted bytes of an image, chunk by chunk', async () => {
    const p = fresh();
    server.serve(p, image.ciphertext);
    const bytes = await mediaDownloader({ reupload: noReupload })(imageMessage(image, server.url(p)))();
    expect(bytes).not.toBeInstanceOf(Uint8Array);
    expect((await collect(bytes)).equals(photo)).toBe(true);
  });

  it('finds the media inside ephemeral and document-with-caption wrappers, and decrypts voice notes and documents', async () => {
    const voice = randomBytes(4_001);
    const pdf = randomBytes(70_000);
    const encVoice = await encryptMedia(voice, 'audio');
    const encPdf = await encryptMedia(pdf, 'document');
    const [pImage, pVoice, pPdf] = [fresh(), fresh(), fresh()];
    server.serve(pImage, image.ciphertext);
    server.serve(pVoice, encVoice.ciphertext);
    server.serve(pPdf, encPdf.ciphertext);
    const download = mediaDownloader({ reupload: noReupload });

    const ephemeral = wa({ ephemeralMessage: { message: { imageMessage: fields(image, server.url(pImage), 'image/jpeg') } } });
    const ptt = wa({ audioMessage: { ...fields(encVoice, server.url(pVoice), 'audio/ogg; codecs=opus'), ptt: true } });
    const document = wa({
      documentWithCaptionMessage: { message: { documentMessage: { ...fields(encPdf, server.url(pPdf), 'application/pdf'), fileName: 'a.pdf', caption: 'see' } } },
    });

    expect((await collect(await download(ephemeral)())).equals(photo)).toBe(true);
    expect((await collect(await download(ptt)())).equals(voice)).toBe(true);
    expect((await collect(await download(document)())).equals(pdf)).toBe(true);
  });

  it('on 410 asks the phone once for a re-upload, downloads the new copy, and goes there directly next time', async () => {
    const [old, renewed] = [fresh(), fresh()];
    server.serve(old, 410);
    server.serve(renewed, image.ciphertext);
    const reupload = vi.fn(async (_message: WAMessage) => imageMessage(image, server.url(renewed)));
    const logger = recordingLogger();
    const download = mediaDownloader({ reupload, logger })(imageMessage(image, server.url(old)));

    expect((await collect(await download())).equals(photo)).toBe(true);
    expect(reupload).toHaveBeenCalledTimes(1);
    expect(reupload.mock.calls[0]?.[0].message?.imageMessage?.url).toBe(server.url(old));
    expect(server.hits(old)).toBe(1);

    expect((await collect(await download())).equals(photo)).toBe(true);
    expect(reupload).toHaveBeenCalledTimes(1);
    expect(server.hits(old)).toBe(1);
    expect(server.hits(renewed)).toBe(2);

    // The log says what happened but carries neither the URL nor the media key.
    const logged = logger.lines.join('\n');
    expect(logged).toMatch(/asking the phone to upload it again/);
    expect(logged).not.toContain('127.0.0.1');
    expect(logged).not.toContain(Buffer.from(image.mediaKey).toString('base64'));
  });

  it('takes the message back as Baileys returns it: the same object, updated in place', async () => {
    const [old, renewed] = [fresh(), fresh()];
    server.serve(old, 404);
    server.serve(renewed, image.ciphertext);
    const reupload = vi.fn(async (message: WAMessage) => {
      const media = message.message?.imageMessage;
      if (media == null) throw new Error('no image');
      media.url = server.url(renewed);
      return message;
    });
    const download = mediaDownloader({ reupload })(imageMessage(image, server.url(old)));
    expect((await collect(await download())).equals(photo)).toBe(true);
    expect(reupload).toHaveBeenCalledTimes(1);
  });

  it('on 404 with a failing re-upload rejects saying the media expired, without URL or key', async () => {
    const p = fresh();
    server.serve(p, 404);
    const reupload = vi.fn(() => Promise.reject(new Error('Media re-upload failed by device (NOT_FOUND)')));
    const download = mediaDownloader({ reupload })(imageMessage(image, server.url(p)));
    const err = await download().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MediaDownloadError);
    expect(String(err)).toMatch(/media expired and re-upload failed: Media re-upload failed by device \(NOT_FOUND\)/);
    expect(String(err)).not.toContain('127.0.0.1');
    expect(reupload).toHaveBeenCalledTimes(1);
  });

  it('gives up on a phone that does not answer the re-upload request', async () => {
    const p = fresh();
    server.serve(p, 410);
    const download = mediaDownloader({ reupload: () => new Promise<WAMessage>(() => {}), reuploadTimeoutMs: 50 })(imageMessage(image, server.url(p)));
    await expect(download()).rejects.toThrow(/media expired and re-upload failed: the phone did not answer within 0.05 s/);
  });

  it('says so when the re-uploaded copy is gone as well', async () => {
    const [old, renewed] = [fresh(), fresh()];
    server.serve(old, 410);
    server.serve(renewed, 410);
    const download = mediaDownloader({ reupload: async () => imageMessage(image, server.url(renewed)) })(imageMessage(image, server.url(old)));
    await expect(download()).rejects.toThrow(/media expired and is still unavailable after re-upload \(HTTP 410\)/);
  });

  it('on 500 rejects with the status and does not ask for a re-upload', async () => {
    const p = fresh();
    server.serve(p, 500);
    const reupload = vi.fn(noReupload);
    const download = mediaDownloader({ reupload })(imageMessage(image, server.url(p)));
    const err = await download().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MediaDownloadError);
    expect(String(err)).toMatch(/HTTP 500 fetching media/);
    expect(String(err)).not.toContain('127.0.0.1');
    expect(reupload).not.toHaveBeenCalled();
  });

  it('rejects a message without media key, without URL, or without media', async () => {
    const download = mediaDownloader({ reupload: noReupload });
    const noKey = wa({ imageMessage: { url: server.url(fresh()), mimetype: 'image/jpeg' } });
    const noUrl = wa({ imageMessage: { mediaKey: image.mediaKey, mimetype: 'image/jpeg' } });
    const text = wa({ conversation: 'hi' });
    await expect(download(noKey)()).rejects.toThrow(/the image message has no media key/);
    await expect(download(noUrl)()).rejects.toThrow(/the image message has no media URL or direct path/);
    await expect(download(text)()).rejects.toThrow(/the message carries no downloadable media/);
  });

  it('errors the stream when the ciphertext is corrupt', async () => {
    const p = fresh();
    const corrupt = Uint8Array.from(image.ciphertext);
    corrupt[150_000] = (corrupt[150_000] ?? 0) ^ 0xff;
    server.serve(p, corrupt);
    const bytes = await mediaDownloader({ reupload: noReupload })(imageMessage(image, server.url(p)))();
    await expect(collect(bytes)).rejects.toThrow(/media failed its integrity check/);
  });

  it('errors the stream when the bytes are not this media at all', async () => {
    const p = fresh();
    server.serve(p, randomBytes(image.ciphertext.byteLength));
    const bytes = await mediaDownloader({ reupload: noReupload })(imageMessage(image, server.url(p)))();
    await expect(collect(bytes)).rejects.toThrow(MediaDownloadError);
  });

  it('errors the stream when the connection drops mid-way, instead of hanging', async () => {
    const p = fresh();
    server.serve(p, { bytes: image.ciphertext, cutAt: 100_000, then: 'drop' });
    const bytes = await mediaDownloader({ reupload: noReupload })(imageMessage(image, server.url(p)))();
    await expect(collect(bytes)).rejects.toThrow(/media download interrupted/);
  });

  it('errors the stream when the server stalls', async () => {
    const p = fresh();
    server.serve(p, { bytes: image.ciphertext, cutAt: 100_000, then: 'stall' });
    const bytes = await mediaDownloader({ reupload: noReupload, stallTimeoutMs: 100 })(imageMessage(image, server.url(p)))();
    await expect(collect(bytes)).rejects.toThrow(/media download stalled/);
  });

  it('reads the status from Boom, plain statusCode, or status', () => {
    expect(httpStatusOf({ output: { statusCode: 410 }, isBoom: true })).toBe(410);
    expect(httpStatusOf({ statusCode: 404 })).toBe(404);
    expect(httpStatusOf({ status: 500 })).toBe(500);
    expect(httpStatusOf(new Error('x'))).toBeNull();
  });
});

describe('Baileys media through the staging area', () => {
  const staging = async () => {
    const s = createMediaStaging({
      store: createMemoryMediaStore(),
      limits: { ...DEFAULT_STAGING_LIMITS, downloadBackoff: { baseMs: 1, maxMs: 2, jitter: 0 } },
      logger: createLogger('silent'),
    });
    await s.init();
    return s;
  };

  it('stages the right bytes of media that expired and was uploaded again', async () => {
    const [old, renewed] = [fresh(), fresh()];
    server.serve(old, 410);
    server.serve(renewed, image.ciphertext);
    const reupload = vi.fn(async () => imageMessage(image, server.url(renewed)));
    const s = await staging();
    const outcome = await s.stage({ sizeBytes: image.fileLength, download: mediaDownloader({ reupload })(imageMessage(image, server.url(old))) });
    expect(outcome).toMatchObject({ status: 'staged', sizeBytes: photo.byteLength });
    if (outcome.status !== 'staged') throw new Error('not staged');
    expect(Buffer.from((await s.read(outcome.key)) ?? []).equals(photo)).toBe(true);
    expect(reupload).toHaveBeenCalledTimes(1);
  });

  it('ends as failed, naming the reason, when the media stays gone', async () => {
    const p = fresh();
    server.serve(p, 404);
    const reupload = vi.fn(() => Promise.reject(new Error('Media re-upload failed by device (NOT_FOUND)')));
    const s = await staging();
    const outcome = await s.stage({ sizeBytes: image.fileLength, download: mediaDownloader({ reupload })(imageMessage(image, server.url(p))) });
    expect(outcome).toEqual({ status: 'failed', reason: 'the download failed 3 times (media expired and re-upload failed: Media re-upload failed by device (NOT_FOUND))' });
    expect(reupload).toHaveBeenCalledTimes(3);
    expect(s.stagedBytes()).toBe(0);
  });

  it('ends as failed when every copy is corrupt, and keeps nothing staged', async () => {
    const p = fresh();
    const corrupt = Uint8Array.from(image.ciphertext);
    corrupt[10] = (corrupt[10] ?? 0) ^ 0x01;
    server.serve(p, corrupt);
    const s = await staging();
    const outcome = await s.stage({ sizeBytes: image.fileLength, download: mediaDownloader({ reupload: noReupload })(imageMessage(image, server.url(p))) });
    expect(outcome).toMatchObject({ status: 'failed', reason: expect.stringMatching(/integrity check/) });
    expect(s.stagedBytes()).toBe(0);
    expect(server.hits(p)).toBe(3);
  });
});
