import { MEDIA_KINDS } from '../domain/media-kind.ts';
import type { MediaKind } from '../domain/media-kind.ts';
import type { BotRecord } from '../ports/bot-store.port.ts';
import { knownSettings } from './bot-settings.ts';

const EVERY_KIND: ReadonlySet<MediaKind> = new Set(MEDIA_KINDS);

/**
 * The media kinds each bot turns into text (`media.kinds`; every kind when unset), which ingestion
 * reads synchronously inside a conversation's turn, and its language hint for the processors. Told of every bot at start-up and as bots are
 * created, patched and deleted.
 */
export function createBotMediaKinds() {
  const kinds = new Map<string, ReadonlySet<MediaKind>>();
  const languages = new Map<string, string>();
  const remember = (record: Pick<BotRecord, 'id' | 'settings'>): void => {
    // Read tolerantly: a bot stored before `media` had a schema processes every kind.
    const media = knownSettings(record.settings).media;
    if (media?.kinds === undefined) kinds.delete(record.id);
    else kinds.set(record.id, new Set(media.kinds));
    if (media?.language === undefined) languages.delete(record.id);
    else languages.set(record.id, media.language);
  };
  return {
    mediaKindsFor: (botId: string): ReadonlySet<MediaKind> => kinds.get(botId) ?? EVERY_KIND,
    languageFor: (botId: string): string | null => languages.get(botId) ?? null,
    remember,
    forget: (botId: string): void => {
      kinds.delete(botId);
      languages.delete(botId);
    },
  };
}

export type BotMediaKinds = ReturnType<typeof createBotMediaKinds>;
