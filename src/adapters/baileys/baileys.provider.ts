import makeWASocket, { jidNormalizedUser } from 'baileys';
import type { UserFacingSocketConfig, WAMessageKey } from 'baileys';
import type { Logger } from '../../logging/logger.ts';
import type { AuthStateStore } from '../../ports/auth-state-store.port.ts';
import type { HistoryStore } from '../../ports/history-store.port.ts';
import type { ProviderFactory } from '../../ports/provider.port.ts';
import { createBaileysSession } from './baileys-session.ts';
import type { PairingPolicy } from './baileys-session.ts';
import type { MakeSocket } from './baileys-socket.ts';

/** Provider kind of WhatsApp Web through Baileys. */
export const BAILEYS_PROVIDER = 'baileys';

export const DEFAULT_PAIRING: PairingPolicy = { maxQrCodes: 5, qrTimeoutMs: 60_000, readyWaitMs: 15_000 };

export interface BaileysProviderOptions {
  readonly authState: AuthStateStore;
  /** Where the bot's sent messages are found again for WhatsApp's retry receipts. */
  readonly history: Pick<HistoryStore, 'findByProviderMessageId'>;
  readonly logger: Logger;
  readonly pairing?: PairingPolicy;
  /** Baileys' `makeWASocket` unless a test supplies a fake socket. */
  readonly makeSocket?: MakeSocket;
  readonly socketConfig?: Partial<UserFacingSocketConfig>;
  readonly clock?: () => number;
}

/** Sessions of the `baileys` provider, one per bot, with auth state in the store. */
export function createBaileysProvider(options: BaileysProviderOptions): ProviderFactory {
  const makeSocket: MakeSocket = options.makeSocket ?? ((config) => makeWASocket(config));
  return (botId, _settings, handlers) => {
    // The chat as Parley keyed it: a phone-number JID where WhatsApp gave one.
    async function sentText(key: WAMessageKey): Promise<string | null> {
      const id = key.id;
      if (id === null || id === undefined) return null;
      const chats = [key.remoteJidAlt, key.remoteJid].filter((jid): jid is string => typeof jid === 'string' && jid !== '');
      for (const jid of chats) {
        const row = await options.history.findByProviderMessageId(botId, jidNormalizedUser(jid), id);
        if (row !== null && row.direction === 'outbound') return row.content;
      }
      return null;
    }
    return createBaileysSession({
      botId,
      handlers,
      authState: options.authState,
      makeSocket,
      logger: options.logger,
      pairing: options.pairing ?? DEFAULT_PAIRING,
      sentText,
      ...(options.socketConfig === undefined ? {} : { socketConfig: options.socketConfig }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
  };
}
