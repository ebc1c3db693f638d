import type { QueueLimits } from '../domain/queue-message.ts';
import type { BotRecord } from '../ports/bot-store.port.ts';
import { DEFAULT_LIMITS } from '../runtime/parley-runtime.ts';

/**
 * The queue limits a new conversation of each bot starts with, which the runtime needs
 * synchronously. Loaded from the bot definitions once at start-up, updated as bots are created and
 * deleted.
 */
export function createBotQueueLimits(defaults: QueueLimits = DEFAULT_LIMITS) {
  const limits = new Map<string, QueueLimits>();
  const remember = (record: Pick<BotRecord, 'id' | 'settings'>): void => {
    limits.set(record.id, { ...defaults, ...queueSettingsOf(record.settings) });
  };
  return {
    limitsFor: (botId: string): QueueLimits => limits.get(botId) ?? defaults,
    remember,
    forget: (botId: string): void => void limits.delete(botId),
  };
}

export type BotQueueLimits = ReturnType<typeof createBotQueueLimits>;

function queueSettingsOf(settings: Readonly<Record<string, unknown>>): Partial<QueueLimits> {
  const queue = settings['queue'];
  if (typeof queue !== 'object' || queue === null) return {};
  const out: Partial<Record<keyof QueueLimits, number>> = {};
  for (const key of ['maxMessages', 'maxCharacters', 'maxAgeDays', 'maxCharactersPerMessage'] as const) {
    const value = (queue as Record<string, unknown>)[key];
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}
