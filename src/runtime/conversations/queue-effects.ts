import type { CorrespondentQueueEffects } from '../../../machines/correspondent-queue.machine.ts';
import type { QueueMessage } from '../../domain/queue-message.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ActorScope } from '../actors/persisted-actor.ts';
import type { EffectTable } from '../actors/effect-table.ts';
import type { ListenerRegistry } from './listener-registry.ts';

export interface QueueEffectsDeps {
  readonly listeners: ListenerRegistry;
  readonly stats: { duplicates: number };
  readonly log: Logger;
}

/**
 * The queue machine's effects. Notifying listeners is stored with the decision and acknowledged
 * once every listener returned, so a crash between the two notifies again after restart
 * (`recovered: true`); listeners dedupe by message. It runs on the queue's own effect runner,
 * never on the path that acknowledges the next message. The rest only report.
 */
export function queueEffects({ listeners, stats, log }: QueueEffectsDeps) {
  return {
    notifyListeners: {
      durable: true,
      run: ({ botId, correspondentId, message }, { recovered, effectId }) =>
        listeners.notify({ ...delivered(message, botId, correspondentId, recovered), deliveryId: effectId ?? `${botId}|${correspondentId}|${message.id}` }),
    },
    duplicateIgnored: {
      durable: false,
      run: () => {
        stats.duplicates += 1;
      },
    },
    logOverLimit: { durable: false, run: ({ botId, report }) => log.warn({ botId, report }, 'window stays over its limits: only protected messages remain') },
    messagesEvicted: { durable: false, run: ({ botId, evicted }) => log.debug({ botId, evicted: evicted.length }, 'messages left the window') },
    finalizeMissed: { durable: false, run: ({ botId, mediaJobId }) => log.debug({ botId, mediaJobId }, 'media result for a message no longer a placeholder in the window') },
    messagePopped: { durable: false, run: ({ botId, skippedPlaceholders }) => log.debug({ botId, skippedPlaceholders }, 'message taken out of the window') },
    limitsRejected: { durable: false, run: ({ botId, errors }) => log.warn({ botId, errors }, 'queue limits refused') },
  } satisfies EffectTable<CorrespondentQueueEffects, ActorScope>;
}

function delivered(message: QueueMessage, botId: string, correspondentId: string, recovered: boolean) {
  return { botId, correspondentId, messageId: message.id, content: message.content, source: message.source, mediaJobId: message.mediaJobId, group: message.group, recovered };
}
