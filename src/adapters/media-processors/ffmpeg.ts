import { spawn } from 'node:child_process';
import type { MediaProcessorSettings } from './processor-settings.ts';
import { abortError } from './with-timeout.ts';
import type { Deadline } from './with-timeout.ts';

export type FfmpegRun = { readonly kind: 'exited'; readonly code: number | null; readonly stderr: string } | { readonly kind: 'not-started' };

/** What the probe learned about a file's streams. */
export interface VideoStreams {
  readonly hasVideo: boolean;
  readonly hasAudio: boolean;
  /** Seconds; null when the container does not say (some streamed WebM). */
  readonly duration: number | null;
}

/** ffmpeg's stream listing, the only part of its stderr read, stays far below this. */
const STDERR_LIMIT = 64 * 1024;

let installed: Promise<string | null> | undefined;

/**
 * The configured binary, else the one @ffmpeg-installer ships; null when neither exists. The
 * installer throws on import when its platform package is missing, so it is loaded lazily and
 * once, and a missing binary becomes a note instead of a process that cannot start.
 */
export async function ffmpegPath(settings: MediaProcessorSettings): Promise<string | null> {
  if (settings.ffmpegPath !== null) return settings.ffmpegPath;
  installed ??= import('@ffmpeg-installer/ffmpeg').then(
    (module) => module.default.path,
    () => null,
  );
  return installed;
}

/**
 * Runs ffmpeg to completion under the deadline. `not-started` covers a missing or non-executable
 * binary; an abort rejects (shutdown with the caller's reason, timeout as a transient error), and
 * kills with SIGKILL since ffmpeg may take its time finishing on SIGTERM.
 */
export function runFfmpeg(binary: string, args: readonly string[], deadline: Deadline): Promise<FfmpegRun> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    let settled = false;
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], signal: deadline.signal, killSignal: 'SIGKILL' });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk;
    });
    child.once('error', () => {
      if (settled) return;
      settled = true;
      if (deadline.signal.aborted) reject(abortError(deadline, 'video processing'));
      else resolve({ kind: 'not-started' });
    });
    child.once('close', (code) => {
      if (settled) return;
      settled = true;
      if (deadline.signal.aborted) reject(abortError(deadline, 'video processing'));
      else resolve({ kind: 'exited', code, stderr });
    });
  });
}

/** Reads the input section of ffmpeg's stream listing (the output section repeats the streams). */
export function parseStreams(stderr: string): VideoStreams {
  const outputAt = stderr.search(/^Output #0/m);
  const input = outputAt === -1 ? stderr : stderr.slice(0, outputAt);
  const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(input);
  return {
    hasVideo: /^\s*Stream #\d+:\d+.*?: Video:/m.test(input),
    hasAudio: /^\s*Stream #\d+:\d+.*?: Audio:/m.test(input),
    duration: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : null,
  };
}
