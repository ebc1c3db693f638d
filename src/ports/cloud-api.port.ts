import type { CloudApiAccount } from '../domain/cloud-api-account.ts';
import type { InboundMessage } from './provider.port.ts';

/** One delivery report Meta sent for a message the bot sent. */
export interface CloudStatus {
  readonly wamid: string;
  readonly recipientId: string;
  readonly status: 'sent' | 'delivered' | 'read' | 'failed';
  /** Epoch ms Meta stamped on the report. */
  readonly at: number | null;
  /** Meta's first error, for failed statuses: code and title (details when given). */
  readonly error: { readonly code: number; readonly title: string; readonly details: string | null } | null;
}

/** What one webhook POST held for the bot. */
export interface CloudNotification {
  readonly messages: readonly InboundMessage[];
  readonly statuses: readonly CloudStatus[];
  /**
   * Changes for another phone number than the bot's, or fields other than `messages`, and
   * malformed entries, changes, messages or statuses: counted, not used.
   */
  readonly skipped: number;
}

/** A webhook POST as the receiver judged it before anything is stored. */
export type OpenedNotification =
  | { readonly outcome: 'verified'; readonly notification: CloudNotification }
  /** The signature is missing, malformed or not the app secret's HMAC of these bytes. */
  | { readonly outcome: 'bad-signature' }
  /** Signed correctly but not JSON, or not a WhatsApp notification; `problem` names what, without personal data. */
  | { readonly outcome: 'malformed'; readonly problem: string };

/** Meta's webhooks for Cloud API bots: verification and signed notifications. */
export interface CloudApiWebhooks {
  /** Whether `token` is the account's verify token (compared in constant time). */
  verifyTokenMatches(account: CloudApiAccount, token: string): boolean;
  /** Checks the raw body's `X-Hub-Signature-256` before parsing anything, then parses it for the account. */
  open(botId: string, account: CloudApiAccount, rawBody: Uint8Array, signatureHeader: string | undefined): Promise<OpenedNotification>;
}
