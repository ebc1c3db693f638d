import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import type { MediaOutcome } from '../../domain/media-content.ts';
import type { MediaProcessor } from '../../ports/media-processor.port.ts';
import { ffmpegPath, parseStreams, runFfmpeg } from './ffmpeg.ts';
import type { VideoStreams } from './ffmpeg.ts';
import { formatMegabytes } from './processor-settings.ts';
import type { MediaProcessorSettings } from './processor-settings.ts';
import { transcribeAudio } from './transcription.processor.ts';
import { describeImage } from './vision.processor.ts';
import { withTimeout } from './with-timeout.ts';
import type { Deadline } from './with-timeout.ts';

export const NO_KEY_VIDEO = 'video transcription and frame description unavailable: no OpenAI key configured';
export const FFMPEG_UNAVAILABLE = 'video processing unavailable: ffmpeg could not run';
export const UNDECODABLE_VIDEO = 'the video could not be decoded';

const unreadable = (reason: string): MediaOutcome => ({ status: 'unreadable', reason });

/**
 * A video as text: its sound track transcribed and one frame described, through the same
 * functions the audio and image processors use. ffmpeg works on a scratch copy in a temporary
 * directory of this call's own, removed afterwards; the staged file is never touched.
 */
export function createVideoProcessor(settings: MediaProcessorSettings, client: OpenAI | null): MediaProcessor {
  return async (media, signal) => {
    if (media.bytes.byteLength > settings.caps.videoBytes) return unreadable(`video larger than ${formatMegabytes(settings.caps.videoBytes)}`);
    // Both parts need OpenAI; without a key there is nothing honest to extract.
    if (client === null) return unreadable(NO_KEY_VIDEO);
    const binary = await ffmpegPath(settings);
    if (binary === null) return unreadable(FFMPEG_UNAVAILABLE);
    const deadline = withTimeout(signal, settings.timeoutMs);
    const scratch = await mkdtemp(join(tmpdir(), 'parley-video-'));
    try {
      const input = join(scratch, 'input');
      await writeFile(input, media.bytes);
      const extracted = await extract(binary, input, scratch, deadline);
      if (typeof extracted === 'string') return unreadable(extracted);
      const [transcript, frame] = await Promise.all([
        extracted.audio && transcribeAudio(client, settings, { bytes: extracted.audio, mimetype: 'audio/ogg', fileName: 'audio.ogg', language: media.language }, deadline),
        extracted.frame && describeImage(client, settings, extracted.frame, 'video-frame', deadline),
      ]);
      return compose(transcript, frame);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
}

interface Extracted {
  readonly audio: Uint8Array | null;
  readonly frame: Uint8Array | null;
}

/** The sound track (mono 16 kHz Opus, what speech models are trained on) and one frame, or the reason there are none. */
async function extract(binary: string, input: string, scratch: string, deadline: Deadline): Promise<Extracted | string> {
  // `-t 0` with stream copy reads the container's header only: fast, and fails on a file that is not a video.
  const probe = await runFfmpeg(binary, ['-hide_banner', '-nostdin', '-i', input, '-map', '0', '-c', 'copy', '-t', '0', '-f', 'null', '-'], deadline);
  if (probe.kind === 'not-started') return FFMPEG_UNAVAILABLE;
  if (probe.code !== 0) return UNDECODABLE_VIDEO;
  const streams = parseStreams(probe.stderr);
  if (!streams.hasVideo && !streams.hasAudio) return UNDECODABLE_VIDEO;
  const audioPath = join(scratch, 'audio.ogg');
  const framePath = join(scratch, 'frame.jpg');
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', input];
  if (streams.hasVideo) args.push('-map', '0:v:0', '-ss', String(frameTime(streams)), '-frames:v', '1', '-q:v', '3', framePath);
  if (streams.hasAudio) args.push('-map', '0:a:0', '-vn', '-ac', '1', '-ar', '16000', '-c:a', 'libopus', '-b:a', '32k', audioPath);
  const run = await runFfmpeg(binary, args, deadline);
  if (run.kind === 'not-started') return FFMPEG_UNAVAILABLE;
  if (run.code !== 0) return UNDECODABLE_VIDEO;
  const [audio, frame] = await Promise.all([streams.hasAudio ? readIfAny(audioPath) : null, streams.hasVideo ? readIfAny(framePath) : null]);
  return audio === null && frame === null ? UNDECODABLE_VIDEO : { audio, frame };
}

/** About one second in, past a black or fading opening frame; half-way through a shorter clip. */
function frameTime(streams: VideoStreams): number {
  if (streams.duration === null) return 0;
  return streams.duration >= 2 ? 1 : Math.round(streams.duration * 500) / 1000;
}

/** ffmpeg exits 0 yet writes nothing when, say, the frame time lies past the end. */
async function readIfAny(path: string): Promise<Uint8Array | null> {
  const bytes = await readFile(path).catch(() => null);
  return bytes !== null && bytes.byteLength > 0 ? bytes : null;
}

interface Part {
  readonly label: string;
  readonly outcome: MediaOutcome;
  readonly empty: string;
}

/**
 * One line per part. A part that failed shows its reason in place; the whole video is
 * unreadable only when every part failed, so one missing half does not hide the other.
 */
function compose(transcript: MediaOutcome | null, frame: MediaOutcome | null): MediaOutcome {
  const parts: Part[] = [];
  if (transcript !== null) parts.push({ label: 'Transcript', outcome: transcript, empty: '(no speech)' });
  if (frame !== null) parts.push({ label: 'Frame', outcome: frame, empty: '(nothing to describe)' });
  const reasons = parts.flatMap(({ outcome }) => (outcome.status === 'unreadable' ? [outcome.reason] : []));
  if (parts.length === 0) return unreadable(UNDECODABLE_VIDEO);
  if (reasons.length === parts.length) return unreadable([...new Set(reasons)].join('; '));
  const line = ({ label, outcome, empty }: Part): string =>
    `${label}: ${outcome.status === 'processed' ? outcome.text || empty : `(${outcome.reason})`}`;
  return { status: 'processed', text: parts.map(line).join('\n') };
}
