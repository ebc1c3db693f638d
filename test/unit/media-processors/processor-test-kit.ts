import type { MediaKind } from '../../../src/domain/media-kind.ts';
import type { MediaToProcess } from '../../../src/ports/media-processor.port.ts';
import { DEFAULT_PROCESSOR_SETTINGS } from '../../../src/adapters/media-processors/processor-settings.ts';
import type { MediaProcessorSettings } from '../../../src/adapters/media-processors/processor-settings.ts';

/** Settings pointing at the fake server with a test key; `overrides` replace whole sections. */
export function settingsFor(url: string | null, overrides: Partial<MediaProcessorSettings> = {}, apiKey: string | null = 'test-key'): MediaProcessorSettings {
  return {
    ...DEFAULT_PROCESSOR_SETTINGS,
    openai: { ...DEFAULT_PROCESSOR_SETTINGS.openai, apiKey, baseURL: url, maxRetries: 1 },
    timeoutMs: 10_000,
    ...overrides,
  };
}

let jobs = 0;

/** A job's media as the runtime hands it over; the ids only matter to logs. */
export function mediaOf(kind: MediaKind, mimetype: string, bytes: Uint8Array, fileName: string | null = null, language: string | null = null): MediaToProcess {
  jobs++;
  return { jobId: `job-${jobs}`, botId: 'bot-1', correspondentId: '15550001111@s.whatsapp.net', messageId: jobs, attempt: 1, kind, mimetype, caption: null, fileName, language, bytes };
}

/** A signal that never aborts, for calls whose caller is not shutting down. */
export const running = new AbortController().signal;
