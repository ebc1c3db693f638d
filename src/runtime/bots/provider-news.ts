import type { BotEvent } from '../../../machines/bot.machine.ts';
import { backoffDelay } from '../../domain/backoff.ts';
import type { ProviderEvent } from '../../ports/provider.port.ts';

/**
 * Reconnects of a dropped session: how many before the bot fails (`null`: no limit), the longest
 * wait, and the first one (1 s unless given).
 */
export interface ReconnectPolicy {
  readonly maxAttempts: number | null;
  readonly maxDelayMs: number;
  readonly baseMs?: number;
}

/** The pairing QR code waiting to be scanned and when it stops working (epoch ms, `null` when unknown). */
export interface PendingQr {
  readonly qr: string;
  readonly expiresAt: number | null;
}

/** Reconnect attempts before a bot whose connection keeps dropping fails, unless configured. */
export const DEFAULT_MAX_RECONNECT_ATTEMPTS = 30;
const BACKOFF = { baseMs: 1000, maxMs: 60_000, jitter: 0.3 };

interface ProviderNewsDeps {
  readonly clock: () => number;
  /** The bot's current reconnect attempt (0 while connected). */
  readonly attemptOf: (botId: string) => number;
  readonly policy?: ReconnectPolicy;
}

/**
 * Turns what a provider reports into bot machine events: a drop gets the time its reconnect is
 * due (at once when the provider asks for it, else exponential backoff with jitter, capped), and a
 * QR code's expiry is kept beside the machine, which stores the code only.
 */
export function providerNews(deps: ProviderNewsDeps) {
  const backoff = { ...BACKOFF, maxMs: deps.policy?.maxDelayMs ?? BACKOFF.maxMs, baseMs: deps.policy?.baseMs ?? BACKOFF.baseMs };
  const expiries = new Map<string, PendingQr>();
  return {
    maxReconnectAttempts: deps.policy === undefined ? DEFAULT_MAX_RECONNECT_ATTEMPTS : deps.policy.maxAttempts,

    toMachineEvent(botId: string, event: ProviderEvent): BotEvent {
      switch (event.type) {
        case 'provider.disconnected': {
          const delay = event.immediate === true ? 0 : backoffDelay(deps.attemptOf(botId) + 1, backoff, Math.random());
          return { type: 'provider.disconnected', reason: event.reason, retryable: event.retryable, retryAt: deps.clock() + delay };
        }
        case 'provider.qr':
          expiries.set(botId, { qr: event.qr, expiresAt: event.expiresAt ?? null });
          return { type: 'provider.qr', qr: event.qr };
        default:
          return event;
      }
    },

    /** The code the machine holds (`qr`), with its expiry when the provider reported one for it. */
    pendingQr(botId: string, qr: string | null): PendingQr | null {
      if (qr === null) return null;
      const known = expiries.get(botId);
      return { qr, expiresAt: known?.qr === qr ? known.expiresAt : null };
    },

    forget(botId: string): void {
      expiries.delete(botId);
    },
  };
}
