import type { AnyMessageContent, BaileysEventMap, MiscMessageGenerationOptions, UserFacingSocketConfig, WAMessage, WAPresence } from 'baileys';

/** Baileys' event emitter as Parley listens to it. */
export interface BaileysEvents {
  on<T extends keyof BaileysEventMap>(event: T, listener: (arg: BaileysEventMap[T]) => void): void;
  removeAllListeners<T extends keyof BaileysEventMap>(event: T): void;
}

/** LID ↔ phone-number mappings the socket keeps with the auth state (`lid-mapping` keys). */
export interface LidMappings {
  getPNForLID(lid: string): Promise<string | null>;
  storeLIDPNMappings(pairs: { lid: string; pn: string }[]): Promise<void>;
}

/**
 * The part of Baileys' socket Parley uses. The real socket has it; tests drive a fake one that
 * emits real `proto` messages. A socket that closed is never used again: a reconnect builds a
 * new one.
 */
export interface BaileysSocket {
  readonly ev: BaileysEvents;
  readonly user?: { readonly id: string; readonly lid?: string | undefined } | undefined;
  readonly signalRepository: { readonly lidMapping: LidMappings };
  sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage | undefined>;
  sendPresenceUpdate(type: WAPresence, toJid?: string): Promise<void>;
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** Asks the sender's phone to upload expired media again; resolves with the message pointing at the new copy. */
  updateMediaMessage(message: WAMessage): Promise<WAMessage>;
  end(error: Error | undefined): void | Promise<void>;
}

/** Builds a socket: Baileys' `makeWASocket` in production, a fake in tests. */
export type MakeSocket = (config: UserFacingSocketConfig) => BaileysSocket;
