import { DisconnectReason } from 'baileys';
import type { ProviderEvent } from '../../ports/provider.port.ts';

/** What Parley knows about a socket when it closes. */
export interface CloseContext {
  /** Baileys' `DisconnectReason` (the Boom error's `output.statusCode`); `null` when the close carried none. */
  readonly statusCode: number | null;
  /** Why, in Baileys' words (the error message), for the bot's `lastError`. */
  readonly message: string | null;
  /** The session showed QR codes and has not connected since: a scan (and its 515) may be under way. */
  readonly pairing: boolean;
  /** Status of the close before this one on the same session, `null` after a successful connection. */
  readonly previousStatusCode: number | null;
}

/** The provider event a close becomes; the bot machine decides the rest. */
export type CloseDecision = Extract<ProviderEvent, { type: 'provider.disconnected' | 'provider.logged-out' | 'provider.failed' }>;

const describe = (label: string, ctx: CloseContext): string =>
  `${label} (${ctx.statusCode ?? 'no status'}${ctx.message === null ? '' : `: ${ctx.message}`})`;

/**
 * One table for every way a WhatsApp Web socket closes.
 *
 * - 515 restart required: WhatsApp asks for a fresh socket (it does so right after a QR scan), at once.
 * - 401 logged out: the account unlinked this device; the bot ends `logged-out` and its keys are
 *   cleared. Not when it follows a 515 while pairing: WhatsApp closes the handshake socket that way,
 *   and clearing then would throw away the link just made (Evolution API #2498).
 * - 403 forbidden, 411 multi-device mismatch: reconnecting cannot help; the bot fails with the reason.
 * - 440 connection replaced: another client opened this session. Reconnecting would take it back
 *   and be replaced again, a loop between two clients; the bot fails with the reason instead.
 * - anything else (408 timed out or lost, 428 closed, 500 bad session, 503, no status): a retry with
 *   backoff, counted against the bot's reconnect attempts.
 */
export function decideClose(ctx: CloseContext): CloseDecision {
  switch (ctx.statusCode) {
    case DisconnectReason.restartRequired:
      return { type: 'provider.disconnected', reason: describe('restart required', ctx), retryable: true, immediate: true };
    case DisconnectReason.loggedOut:
      if (ctx.pairing && ctx.previousStatusCode === DisconnectReason.restartRequired) {
        return { type: 'provider.disconnected', reason: describe('closed after restart while pairing', ctx), retryable: true, immediate: true };
      }
      return { type: 'provider.logged-out' };
    case DisconnectReason.forbidden:
      return { type: 'provider.failed', error: describe('WhatsApp refused this account (forbidden); reconnecting will not help', ctx) };
    case DisconnectReason.multideviceMismatch:
      return { type: 'provider.failed', error: describe('multi-device mismatch; pair the bot again', ctx) };
    case DisconnectReason.connectionReplaced:
      return { type: 'provider.failed', error: describe('another client took over this WhatsApp session; start the bot again once it is closed', ctx) };
    default:
      return { type: 'provider.disconnected', reason: describe('connection closed', ctx), retryable: true };
  }
}
