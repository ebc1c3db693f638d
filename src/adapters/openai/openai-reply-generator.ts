import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { TransientReplyError } from '../../ports/reply-generator.port.ts';
import type { ReplyGenerator } from '../../ports/reply-generator.port.ts';

export interface OpenAiReplySettings {
  readonly apiKey: string;
  readonly baseURL: string | null;
  /** Per call; a slow answer is a transient failure and the reply retries later. */
  readonly timeoutMs: number;
}

/**
 * Replies from OpenAI's chat completions (or a compatible server). The SDK does not retry: the
 * reply actor does, with its own backoff, so every attempt is visible on it. Explicit nulls for
 * organization and project keep stray OPENAI_* environment variables from changing the request.
 */
export function createOpenAiReplyGenerator(settings: OpenAiReplySettings): ReplyGenerator {
  const client = new OpenAI({
    apiKey: settings.apiKey,
    baseURL: settings.baseURL,
    organization: null,
    project: null,
    maxRetries: 0,
    timeout: settings.timeoutMs,
  });
  return async (request, signal) => {
    try {
      const completion = await client.chat.completions.create(
        {
          model: request.model,
          messages: request.turns.map((t) => ({ role: t.role, content: t.content })),
          ...(request.temperature === null ? {} : { temperature: request.temperature }),
        },
        { signal },
      );
      return completion.choices[0]?.message.content ?? '';
    } catch (err) {
      throw classify(err);
    }
  };
}

function classify(err: unknown): unknown {
  if (err instanceof APIUserAbortError) return err;
  // Network failures and timeouts (APIConnectionTimeoutError is a subclass).
  if (err instanceof APIConnectionError) return new TransientReplyError('the model could not be reached', { cause: err });
  if (err instanceof APIError && typeof err.status === 'number') {
    const status = err.status;
    if (status === 408 || status === 409 || status === 429 || status >= 500) return new TransientReplyError(`the model failed (HTTP ${status})`, { cause: err });
    if (status === 401 || status === 403) return new Error(`the OpenAI key was rejected (HTTP ${status})`, { cause: err });
    return new Error(`the model refused the request (HTTP ${status})`, { cause: err });
  }
  return err;
}
