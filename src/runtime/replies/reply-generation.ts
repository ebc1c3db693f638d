import type { ConversationReplyEvent, GenerateReplyParams } from '../../../machines/conversation-reply.machine.ts';
import { backoffDelay } from '../../domain/backoff.ts';
import { ParleyError } from '../../domain/errors.ts';
import type { BackoffPolicy } from '../../domain/backoff.ts';
import { buildReplyTurns } from '../../domain/reply-prompt.ts';
import { REPLY_MAX_ATTEMPTS, TYPING_MS_PER_CHAR } from '../../domain/reply-settings.ts';
import type { ReplySettings } from '../../domain/reply-settings.ts';
import { typingDuration } from '../../domain/reply-prompt.ts';
import type { Logger } from '../../logging/logger.ts';
import type { HistoryStore } from '../../ports/history-store.port.ts';
import { TransientReplyError } from '../../ports/reply-generator.port.ts';
import type { ReplyGenerator } from '../../ports/reply-generator.port.ts';

/** Waits between calls of one reply: 2 s, 4 s, … up to 30 s, with jitter. */
export const REPLY_RETRY: BackoffPolicy = { baseMs: 2_000, maxMs: 30_000, jitter: 0.2 };

export interface ReplyGenerationDeps {
  readonly history: Pick<HistoryStore, 'list'>;
  readonly generator: ReplyGenerator | null;
  readonly settingsFor: (botId: string) => ReplySettings;
  /** Whether the bot can show a typing indication now. */
  readonly canType: (botId: string) => boolean;
  /** Tells the reply actor how the call went. */
  readonly report: (botId: string, correspondentId: string, event: ConversationReplyEvent) => Promise<void>;
  readonly clock: () => number;
  readonly log: Logger;
  readonly retry?: BackoffPolicy;
}

/**
 * Calls to the model, one per reply at a time, each abortable (a human took over). What a call
 * ends in goes back to the reply actor as an event, which decides: an answer for a reply no
 * longer being made is discarded there.
 */
export function createReplyGeneration(deps: ReplyGenerationDeps) {
  const inFlight = new Map<string, AbortController>();
  const retry = deps.retry ?? REPLY_RETRY;
  let halted = false;

  async function answer(params: GenerateReplyParams, signal: AbortSignal): Promise<ConversationReplyEvent | null> {
    const settings = deps.settingsFor(params.botId);
    if (!settings.enabled) return { type: 'reply.abandoned', reason: 'AI replies were switched off for this bot' };
    if (deps.generator === null) return { type: 'reply.abandoned', reason: 'no OpenAI API key is configured' };
    const failed = (error: string, transient: boolean): ConversationReplyEvent => ({
      type: 'reply.failed',
      replyId: params.replyId,
      error,
      now: deps.clock(),
      retryAt: transient ? deps.clock() + backoffDelay(params.attempt, retry, Math.random()) : null,
      maxAttempts: REPLY_MAX_ATTEMPTS,
    });
    let text: string;
    try {
      const rows = await deps.history.list(params.botId, params.correspondentId, { beforeSeq: params.throughSeq + 1, limit: settings.historyMessages });
      const turns = buildReplyTurns(rows, params.throughSeq, { systemPrompt: settings.systemPrompt, maxMessages: settings.historyMessages, maxChars: settings.historyChars });
      text = (await deps.generator({ model: settings.model, temperature: settings.temperature, turns }, signal)).trim();
    } catch (err) {
      if (signal.aborted) return null;
      const message = err instanceof Error ? err.message : String(err);
      // A history read that failed is the store's hiccup, worth another try like the model's.
      return failed(message, err instanceof TransientReplyError || err instanceof ParleyError);
    }
    if (signal.aborted) return null;
    if (text === '') return failed('the model answered with an empty reply', false);
    const typingMs = settings.typingMaxMs > 0 && deps.canType(params.botId) ? typingDuration(text.length, TYPING_MS_PER_CHAR, settings.typingMaxMs) : 0;
    return { type: 'reply.generated', replyId: params.replyId, text, now: deps.clock(), typingMs };
  }

  return {
    /** Starts the call for a reply unless one is running for it already. */
    start(params: GenerateReplyParams): void {
      if (halted || inFlight.has(params.replyId)) return;
      const controller = new AbortController();
      inFlight.set(params.replyId, controller);
      void answer(params, controller.signal)
        .then(async (event) => {
          if (event !== null && !halted) await deps.report(params.botId, params.correspondentId, event);
        })
        .catch((err: unknown) => deps.log.error({ err, botId: params.botId, replyId: params.replyId }, 'reporting a model answer failed'))
        .finally(() => {
          if (inFlight.get(params.replyId) === controller) inFlight.delete(params.replyId);
        });
    },
    abort(replyId: string): void {
      inFlight.get(replyId)?.abort();
      inFlight.delete(replyId);
    },
    running: (replyId: string): boolean => inFlight.has(replyId),
    /** Calls under way now. */
    size: (): number => inFlight.size,
    halt(): void {
      halted = true;
      for (const controller of inFlight.values()) controller.abort();
      inFlight.clear();
    },
  };
}

export type ReplyGeneration = ReturnType<typeof createReplyGeneration>;
