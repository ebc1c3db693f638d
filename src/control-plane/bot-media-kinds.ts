import { MEDIA_KINDS } from '../domain/media-kind.ts';
import type { MediaKind } from '../domain/media-kind.ts';
import type { BotRecord } from '../ports/bot-store.port.ts';
import { knownSettings } from './bot-settings.ts';

const EVERY_KIND: ReadonlySet<MediaKind> = new Set(MEDIA_KINDS);

/**
 * The media kinds each bot turns into text (`media.kinds`; every kind when unset), which ingestion
 * reads synchronously inside a conversation's turn. Told of every bot at start-up and as bots are
 * created, patched and deleted.
 */
export function createBotMediaKinds() {
  const kinds = new Map<string, ReadonlySet<MediaKind>>();
  const remember = (record: Pick<BotRecord, 'id' | 'settings'>): void => {
    // Read tolerantly: a bot stored before `media` had a schema processes every kind.
    const chosen = knownSettings(record.settings).media?.kinds;
    if (chosen === undefined) kinds.delete(record.id);
    else kinds.set(record.id, new Set(chosen));
  };
  return {
    mediaKindsFor: (botId: string): ReadonlySet<MediaKind> => kinds.get(botId) ?? EVERY_KIND,
    remember,
    forget: (botId: string): void => void kinds.delete(botId),
  };
}

export type BotMediaKinds = ReturnType<typeof createBotMediaKinds>;
