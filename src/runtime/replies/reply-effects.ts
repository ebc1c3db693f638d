import { createHash } from 'node:crypto';
import type { ConversationReplyEffects, GenerateReplyParams } from '../../../machines/conversation-reply.machine.ts';
import { chunkText, splitReply } from '../../domain/reply-prompt.ts';
import type { ReplySettings } from '../../domain/reply-settings.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ActorScope } from '../actors/persisted-actor.ts';
import type { EffectTable } from '../actors/effect-table.ts';

/** Counters the reply runtime keeps for metrics and tests. */
export interface ReplyStats {
  /** Replies handed to the outbox. */
  queued: number;
  /** Messages those replies were sent as (more than `queued` when replies are split). */
  messages: number;
  /** Calls to the model that failed and will be tried again. */
  retried: number;
  /** Replies given up after their calls failed. */
  failed: number;
  /** Replies dropped because a human took over or an operator paused the AI. */
  dropped: number;
  /** Bursts let go without a reply (AI switched off meanwhile). */
  abandoned: number;
  /** Model answers that arrived for a reply no longer being made. */
  lateResults: number;
}

export interface ReplyEffectDeps {
  readonly settingsFor: (botId: string) => ReplySettings;
  readonly outbox: { sendOnce(botId: string, to: string, text: string, deliveryId: string): Promise<unknown> };
  /** The bot's typing indication, where its provider has one and it is connected. */
  readonly presence: (botId: string) => ((to: string, presence: 'composing' | 'paused') => Promise<void>) | undefined;
  readonly generation: { start(params: GenerateReplyParams): void; abort(replyId: string): void };
  readonly stats: ReplyStats;
  readonly log: Logger;
}

/** The outbox id of one message of a reply: stable across runs, free of the characters ids of conversations carry. */
export function replyDeliveryId(replyId: string, part: number): string {
  return `reply-${createHash('sha256').update(replyId).digest('hex').slice(0, 32)}-${part}`;
}

/**
 * The reply machine's effects. Handing the reply to the outbox is the one durable effect: it runs
 * again after a crash until done, and its outbox ids come from the reply's id, so a repeat queues
 * nothing more (I12). A call to the model is started from state (after a restart too) and never
 * waits in this actor's effect queue, so a drop can abort it while it runs.
 */
export function replyEffects(deps: ReplyEffectDeps) {
  const { stats, log } = deps;
  const showPresence = (botId: string, to: string, presence: 'composing' | 'paused') =>
    deps.presence(botId)?.(to, presence).catch((err: unknown) => log.debug({ err, botId }, 'typing indication failed'));
  return {
    generateReply: { durable: false, run: (params) => deps.generation.start(params) },
    dropReply: {
      durable: false,
      run({ botId, correspondentId, replyId, reason }) {
        deps.generation.abort(replyId);
        stats.dropped += 1;
        void showPresence(botId, correspondentId, 'paused');
        log.info({ botId, replyId, reason }, 'AI reply dropped');
      },
    },
    showTyping: { durable: false, run: ({ botId, correspondentId }) => void showPresence(botId, correspondentId, 'composing') },
    queueReply: {
      durable: true,
      async run({ botId, correspondentId, replyId, text }, { recovered }) {
        const settings = deps.settingsFor(botId);
        const parts = settings.splitOnBlankLines ? splitReply(text, settings.maxMessageChars) : chunkText(text, settings.maxMessageChars);
        for (const [i, part] of parts.entries()) await deps.outbox.sendOnce(botId, correspondentId, part, replyDeliveryId(replyId, i + 1));
        stats.queued += 1;
        stats.messages += parts.length;
        log.info({ botId, replyId, parts: parts.length, recovered }, 'AI reply queued');
      },
    },
    discardLateResult: {
      durable: false,
      run({ botId, replyId, eventType }) {
        stats.lateResults += 1;
        log.debug({ botId, replyId, eventType }, 'late model answer discarded');
      },
    },
    reportFailure: {
      durable: false,
      run({ botId, replyId, attempt, error, willRetry }) {
        if (willRetry) stats.retried += 1;
        else stats.failed += 1;
        log.warn({ botId, replyId, attempt, error, willRetry }, willRetry ? 'AI reply failed; retrying' : 'AI reply given up');
      },
    },
    reportAbandoned: {
      durable: false,
      run({ botId, throughSeq, reason }) {
        stats.abandoned += 1;
        log.info({ botId, throughSeq, reason }, 'burst left without an AI reply');
      },
    },
  } satisfies EffectTable<ConversationReplyEffects, ActorScope>;
}
