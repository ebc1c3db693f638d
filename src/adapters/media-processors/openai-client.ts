import OpenAI, { APIConnectionError, APIError } from 'openai';
import type { MediaOutcome } from '../../domain/media-content.ts';
import type { MediaProcessorSettings } from './processor-settings.ts';
import { TransientMediaError } from './transient-media-error.ts';
import { timedOut } from './with-timeout.ts';
import type { Deadline } from './with-timeout.ts';

export { TransientMediaError };

/**
 * One client for every processor, or null without a key. Explicit nulls for base URL,
 * organization and project keep stray OPENAI_* environment variables from redirecting requests
 * the settings did not ask for. The per-attempt timeout matches the call's deadline so the
 * deadline, which also covers the retries, is what ends a slow call.
 */
export function createOpenAiClient(settings: MediaProcessorSettings): OpenAI | null {
  const { apiKey, baseURL, maxRetries } = settings.openai;
  if (!apiKey) return null;
  return new OpenAI({ apiKey, baseURL, organization: null, project: null, maxRetries, timeout: settings.timeoutMs });
}

/**
 * Turns a failed OpenAI call into the port's terms: a thrown TransientMediaError to be retried,
 * or an `unreadable` outcome when the service refused the file itself. `service` names the call
 * in notes and messages (`transcription`, `image description`).
 */
export function classifyOpenAiError(error: unknown, service: string, deadline: Deadline): MediaOutcome {
  // Shutdown: the job is released as it is, so the error goes up untouched.
  if (deadline.caller.aborted) throw error;
  if (timedOut(deadline)) throw new TransientMediaError(`${service} timed out after ${deadline.timeoutMs} ms`);
  // APIConnectionTimeoutError is a subclass, so this covers both network failures and slow attempts.
  if (error instanceof APIConnectionError) throw new TransientMediaError(`${service} could not reach the service`);
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    if (isRetryable(status)) throw new TransientMediaError(`${service} failed (HTTP ${status})`);
    // A rejected key is the server's configuration, not the file's fault; say so rather than blame the file.
    if (status === 401 || status === 403) return { status: 'unreadable', reason: `${service} unavailable: the OpenAI key was rejected (HTTP ${status})` };
    if (status >= 400) return { status: 'unreadable', reason: `${service} refused the file (HTTP ${status})` };
  }
  // Anything else (an unexpected response, a bug) is not known to be permanent; let the job retry.
  throw error;
}

/** The statuses the SDK itself retries; once its retries are spent the job tries again later. */
function isRetryable(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
