import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { MediaOutcome } from '../../domain/media-content.ts';
import type { MediaProcessor } from '../../ports/media-processor.port.ts';
import { baseMime, fileExtension } from './mime.ts';
import { classifyOpenAiError } from './openai-client.ts';
import { formatMegabytes } from './processor-settings.ts';
import type { MediaProcessorSettings } from './processor-settings.ts';
import { withTimeout } from './with-timeout.ts';
import type { Deadline } from './with-timeout.ts';

/** Audio as the transcription API takes it; a video's extracted sound track is one too. */
export interface AudioInput {
  readonly bytes: Uint8Array;
  readonly mimetype: string;
  readonly fileName: string | null;
  /** A BCP-47 hint; its primary language (`pt` of `pt-BR`) is what the transcription API takes. */
  readonly language?: string | null;
}

export const NO_KEY_TRANSCRIPTION = 'transcription unavailable: no OpenAI key configured';

/**
 * The API infers the format from the upload's file name, not its content type, so the name
 * must carry an extension it knows. WhatsApp voice notes are `audio/ogg; codecs=opus`.
 */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'audio/ogg': 'ogg',
  'audio/opus': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/mp4': 'm4a',
  'audio/m4a': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/aac': 'm4a',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/webm': 'webm',
  'audio/flac': 'flac',
  'audio/x-flac': 'flac',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
};

export function createTranscriptionProcessor(settings: MediaProcessorSettings, client: OpenAI | null): MediaProcessor {
  return async (media, signal) => transcribeAudio(client, settings, media, withTimeout(signal, settings.timeoutMs));
}

/** Shared by the audio processor and the video processor, under the caller's deadline. */
export async function transcribeAudio(client: OpenAI | null, settings: MediaProcessorSettings, audio: AudioInput, deadline: Deadline): Promise<MediaOutcome> {
  if (audio.bytes.byteLength > settings.caps.audioBytes) {
    return { status: 'unreadable', reason: `audio larger than ${formatMegabytes(settings.caps.audioBytes)}` };
  }
  if (client === null) return { status: 'unreadable', reason: NO_KEY_TRANSCRIPTION };
  const mimetype = baseMime(audio.mimetype);
  const extension = EXTENSIONS[mimetype] ?? fileExtension(audio.fileName) ?? 'ogg';
  try {
    const file = await toFile(audio.bytes, `audio.${extension}`, { type: mimetype });
    const result = await client.audio.transcriptions.create(
      { file, model: settings.openai.transcriptionModel, response_format: 'json', ...languageOf(audio.language) },
      { signal: deadline.signal },
    );
    return { status: 'processed', text: result.text.trim() };
  } catch (error) {
    return classifyOpenAiError(error, 'transcription', deadline);
  }
}

// ISO-639-1 is what the API accepts; a region or script subtag would be refused.
function languageOf(hint: string | null | undefined): { language?: string } {
  const primary = hint?.split('-')[0]?.toLowerCase();
  return primary !== undefined && /^[a-z]{2}$/.test(primary) ? { language: primary } : {};
}
