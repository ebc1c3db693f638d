import type { ChatTurn } from '../domain/reply-prompt.ts';

export type { ChatTurn };

/** What one reply asks the model. */
export interface ReplyRequest {
  readonly model: string;
  readonly temperature: number | null;
  readonly turns: readonly ChatTurn[];
}

/**
 * A failure worth trying again later (network, timeout, 429, 5xx). Anything else a generator
 * throws is taken as permanent for this reply (a refused key, a bad request).
 */
export class TransientReplyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientReplyError';
  }
}

/** Writes the bot's answer to the conversation; `signal` aborts it (the reply was dropped). */
export type ReplyGenerator = (request: ReplyRequest, signal: AbortSignal) => Promise<string>;
