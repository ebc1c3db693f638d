import { textLimitOf } from '../domain/queue-limits.ts';
import { resolveReplySettings } from '../domain/reply-settings.ts';
import type { ReplySettings } from '../domain/reply-settings.ts';
import type { BotRecord } from '../ports/bot-store.port.ts';
import { knownSettings } from './bot-settings.ts';

/**
 * Each bot's AI reply settings with their defaults applied, read synchronously by the reply
 * runtime at every decision. Told of every bot at start-up and as bots are created, patched and
 * deleted, so a changed setting applies to the next decision.
 */
export function createBotReplySettings(defaultModel: string, onEnabled: (botId: string) => void = () => {}) {
  const settings = new Map<string, ReplySettings>();
  const off = resolveReplySettings(undefined, defaultModel);
  return {
    settingsFor: (botId: string): ReplySettings => settings.get(botId) ?? off,
    remember(record: Pick<BotRecord, 'id' | 'settings' | 'provider'>): void {
      const ai = knownSettings(record.settings).ai;
      const was = settings.get(record.id)?.enabled === true;
      if (ai === undefined) settings.delete(record.id);
      else settings.set(record.id, { ...resolveReplySettings(ai, defaultModel), maxMessageChars: textLimitOf(record.provider) });
      if (!was && ai?.enabled === true) onEnabled(record.id);
    },
    forget: (botId: string): void => void settings.delete(botId),
  };
}

export type BotReplySettings = ReturnType<typeof createBotReplySettings>;
