import type OpenAI from 'openai';
import sharp from 'sharp';
import type { MediaOutcome } from '../../domain/media-content.ts';
import type { MediaProcessor } from '../../ports/media-processor.port.ts';
import { classifyOpenAiError } from './openai-client.ts';
import type { MediaProcessorSettings } from './processor-settings.ts';
import { raceDeadline, withTimeout } from './with-timeout.ts';
import type { Deadline } from './with-timeout.ts';

/** What the picture is, which decides what the model is asked to say about it. */
export type ImageSubject = 'image' | 'sticker' | 'video-frame';

export interface PreparedImage {
  readonly bytes: Uint8Array;
  readonly mime: string;
  readonly width: number;
  readonly height: number;
}

export const NO_KEY_VISION = 'image description unavailable: no OpenAI key configured';
export const UNDECODABLE_IMAGE = 'the image could not be decoded';

const PROMPTS: Readonly<Record<ImageSubject, string>> = {
  image:
    'Describe this image in two or three short, factual sentences for someone who cannot see it. ' +
    'Quote any clearly legible text. Do not guess who people are.',
  sticker:
    'This is a chat sticker. Start by saying it is a sticker, then describe in one or two short sentences ' +
    'what it shows and the expression or emotion it conveys. Quote any legible text.',
  'video-frame':
    'This is a single frame taken from a video. Describe in two or three short, factual sentences what it shows. ' +
    'Quote any clearly legible text. Do not guess who people are.',
};

/** Formats the vision model takes as they are; anything else (HEIC, TIFF, AVIF…) is re-encoded. */
const ACCEPTED_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif']);

/**
 * Makes an image fit for the vision model: within `maxPx` on both sides and `maxBytes`, in a
 * format it accepts, one frame. An image that already fits is passed on untouched, so a small
 * photo is not degraded by a second JPEG pass. Re-encoding keeps transparency (stickers) as
 * PNG, since JPEG would turn it black. Null when the bytes are not a decodable image.
 */
export async function downscaleImage(bytes: Uint8Array, limits: { readonly maxPx: number; readonly maxBytes: number }): Promise<PreparedImage | null> {
  try {
    const meta = await sharp(bytes).metadata();
    const { width, height } = meta.autoOrient;
    const fits = Math.max(width, height) <= limits.maxPx && bytes.byteLength <= limits.maxBytes;
    const animated = (meta.pages ?? 1) > 1;
    if (fits && !animated && ACCEPTED_FORMATS.has(meta.format)) {
      return { bytes, mime: `image/${meta.format}`, width, height };
    }
    const resized = sharp(bytes).autoOrient().resize({ width: limits.maxPx, height: limits.maxPx, fit: 'inside', withoutEnlargement: true });
    const encoded = meta.hasAlpha ? resized.png() : resized.jpeg({ quality: 85 });
    const { data, info } = await encoded.toBuffer({ resolveWithObject: true });
    return { bytes: data, mime: meta.hasAlpha ? 'image/png' : 'image/jpeg', width: info.width, height: info.height };
  } catch {
    return null;
  }
}

export function createVisionProcessor(settings: MediaProcessorSettings, client: OpenAI | null): MediaProcessor {
  return async (media, signal) => {
    const subject: ImageSubject = media.kind === 'sticker' ? 'sticker' : 'image';
    return describeImage(client, settings, media.bytes, subject, withTimeout(signal, settings.timeoutMs));
  };
}

/** Shared by the image processor and the video processor (for its frame), under the caller's deadline. */
export async function describeImage(
  client: OpenAI | null,
  settings: MediaProcessorSettings,
  bytes: Uint8Array,
  subject: ImageSubject,
  deadline: Deadline,
): Promise<MediaOutcome> {
  if (client === null) return { status: 'unreadable', reason: NO_KEY_VISION };
  const image = await raceDeadline(downscaleImage(bytes, { maxPx: settings.imageMaxPx, maxBytes: settings.caps.imageBytes }), deadline, 'image decoding');
  if (image === null) return { status: 'unreadable', reason: UNDECODABLE_IMAGE };
  const url = `data:${image.mime};base64,${Buffer.from(image.bytes).toString('base64')}`;
  try {
    const completion = await client.chat.completions.create(
      {
        model: settings.openai.visionModel,
        messages: [{ role: 'user', content: [{ type: 'text', text: PROMPTS[subject] }, { type: 'image_url', image_url: { url } }] }],
      },
      { signal: deadline.signal },
    );
    return { status: 'processed', text: completion.choices[0]?.message.content?.trim() ?? '' };
  } catch (error) {
    return classifyOpenAiError(error, 'image description', deadline);
  }
}
