import type { MediaKind } from '../domain/media-kind.ts';
import type { Sender } from '../domain/queue-message.ts';
import type { MediaBytes } from './media-store.port.ts';

/** Media attached to an inbound message. Bytes are fetched lazily so a size check can come first. */
export interface InboundMedia {
  readonly kind: MediaKind;
  readonly mimetype: string;
  readonly fileName: string | null;
  readonly caption: string | null;
  /** Declared size when the provider reports it (Baileys' `fileLength`), checked before download. */
  readonly sizeBytes: number | null;
  /**
   * Fetches the bytes, whole or as a stream into staging; rejects (or the stream errors) when the
   * media cannot be had (expired, corrupt, network). Called again for each retry.
   */
  download(): Promise<MediaBytes>;
}

/** One inbound message, normalized across providers. */
export interface InboundMessage {
  /** The provider's id; a replay of the same id is stored once. */
  readonly providerMessageId: string;
  /** The conversation: a phone number / JID for one-to-one chats, the group id for groups. */
  readonly correspondentId: string;
  readonly sender: Sender;
  readonly group: string | null;
  /** Epoch ms the provider stamped on the message. */
  readonly originatingAt: number | null;
  readonly text: string | null;
  readonly media: InboundMedia | null;
  /**
   * Written from the bot's own account, by someone other than Parley (the owner on the phone).
   * A provider that also reports Parley's own sends this way leaves them out. Absent: false.
   */
  readonly fromMe?: boolean;
  /**
   * A reaction to an earlier message (`text` says which emoji): part of the conversation, stored
   * in history and the window with kind `reaction`, but told to no listener, so it is neither
   * answered nor announced. Absent: false.
   */
  readonly reaction?: boolean;
}

/** Connection lifecycle as a provider reports it; the bot machine decides what follows. */
export type ProviderEvent =
  | { readonly type: 'provider.connecting' }
  /** `expiresAt` (epoch ms): when WhatsApp stops accepting this code, where the provider knows. */
  | { readonly type: 'provider.qr'; readonly qr: string; readonly expiresAt?: number }
  | { readonly type: 'provider.connected' }
  /** `immediate`: reconnect without backoff (WhatsApp asked for a fresh connection). */
  | { readonly type: 'provider.disconnected'; readonly reason: string; readonly retryable: boolean; readonly immediate?: boolean }
  | { readonly type: 'provider.logged-out' }
  | { readonly type: 'provider.failed'; readonly error: string };

/** What Parley gives a provider session. */
export interface ProviderHandlers {
  onEvent(event: ProviderEvent): void;
  /**
   * Hands over one inbound message. Resolves once it is durable in history: only then may the
   * provider acknowledge it upstream. Rejects when it could not be stored (the provider retries).
   */
  onMessage(message: InboundMessage): Promise<void>;
}

/** One bot's connection to WhatsApp (or a stand-in). */
export interface ProviderSession {
  /** Begins connecting; progress arrives through `onEvent`. */
  start(): Promise<void>;
  /** Disconnects without logging out. */
  stop(): Promise<void>;
  /** Sends a text; resolves with the provider's message id. */
  send(to: string, text: string): Promise<{ providerMessageId: string }>;
  /**
   * Shows the correspondent that the bot is typing (`composing`) or stopped (`paused`), where the
   * provider supports it; best effort.
   */
  sendPresence?(to: string, presence: 'composing' | 'paused'): Promise<void>;
  /** A pairing code for linking by phone number, where the provider supports it. */
  requestPairingCode?(phoneNumber: string): Promise<string>;
}

/** Creates sessions of one provider kind (`simulator`, `baileys`, `cloud-api`). */
export type ProviderFactory = (botId: string, settings: Readonly<Record<string, unknown>>, handlers: ProviderHandlers) => ProviderSession;

/**
 * A send the provider refused. `retryable: false` (the recipient cannot be reached this way, the
 * text is invalid) ends the message `failed` at once with this reason; a retryable one is tried
 * again, not before `retryAfterMs` when the provider asked for a wait (a rate limit).
 */
export class SendRefused extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number | null; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SendRefused';
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}
