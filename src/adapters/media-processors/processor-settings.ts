/** How the media processors reach OpenAI and how much they accept. */
export interface MediaProcessorSettings {
  readonly openai: {
    /** Null: the processors that need OpenAI answer with a visible note instead of calling it. */
    readonly apiKey: string | null;
    /** Null: api.openai.com. Any OpenAI-compatible server (a proxy, a local model, a test fake). */
    readonly baseURL: string | null;
    readonly transcriptionModel: string;
    readonly visionModel: string;
    /** Retries inside the SDK on 429, 5xx and network errors, with its own backoff. */
    readonly maxRetries: number;
  };
  /** Bound on one processor call, retries included; a call that runs out fails transiently. */
  readonly timeoutMs: number;
  readonly caps: {
    readonly audioBytes: number;
    readonly imageBytes: number;
    readonly documentBytes: number;
    readonly videoBytes: number;
  };
  /** Longest side of an image sent to the vision model; larger images are scaled down first. */
  readonly imageMaxPx: number;
  /** Longest document text handed on; the rest is cut with a visible marker. */
  readonly documentMaxChars: number;
  /** Null: the binary shipped by @ffmpeg-installer. */
  readonly ffmpegPath: string | null;
}

const MB = 1024 * 1024;

export const DEFAULT_PROCESSOR_SETTINGS: MediaProcessorSettings = {
  openai: {
    apiKey: null,
    baseURL: null,
    transcriptionModel: 'gpt-4o-mini-transcribe',
    visionModel: 'gpt-4o-mini',
    maxRetries: 1,
  },
  timeoutMs: 120_000,
  // 25 MB is OpenAI's own upload limit for transcription; 20 MB its limit for an image input.
  caps: { audioBytes: 25 * MB, imageBytes: 20 * MB, documentBytes: 10 * MB, videoBytes: 64 * MB },
  imageMaxPx: 1024,
  documentMaxChars: 20_000,
  ffmpegPath: null,
};

/** `25 MB` for a cap in bytes, as the notes a reader sees name it; small caps in KB or bytes. */
export function formatMegabytes(bytes: number): string {
  const [unit, size] = bytes >= MB ? ['MB', bytes / MB] : bytes >= 1024 ? ['KB', bytes / 1024] : ['bytes', bytes];
  return `${Number.isInteger(size) ? size : size.toFixed(1)} ${unit}`;
}
