/** What the runtime supplies when it creates a bot actor. */
export interface BotInput {
  readonly botId: string;
  /** Consecutive failed reconnects tolerated before the bot fails; `null` retries forever. */
  readonly maxReconnectAttempts: number | null;
}

/** Why the bot is on its way down; decides where `stopping` ends. */
export type StopReason = 'requested' | 'logged-out' | 'failed';

/** Serializable bot state, stored with every snapshot. */
export interface BotContext {
  readonly botId: string;
  readonly maxReconnectAttempts: number | null;
  /** Consecutive reconnect attempts since the last successful connection; also fences `reconnect.due`. */
  readonly attempt: number;
  /** When the scheduled reconnect is due (epoch ms); the runtime's timer sends `reconnect.due` then. */
  readonly retryAt: number | null;
  /** Latest pairing QR code while awaiting a scan. */
  readonly qr: string | null;
  readonly stopReason: StopReason | null;
  readonly lastDisconnect: string | null;
  readonly lastError: string | null;
}

/**
 * Commands (`bot.*`), provider news (`provider.*`), the drain report (`bot.stopped`) and the
 * reconnect timer (`reconnect.due`, carrying the attempt it was scheduled for).
 */
export type BotEvent =
  /** `maxReconnectAttempts`: the policy this session runs under (configuration may change between starts). */
  | { type: 'bot.start'; maxReconnectAttempts?: number | null }
  | { type: 'bot.stop' }
  | { type: 'bot.stopped' }
  | { type: 'provider.qr'; qr: string }
  | { type: 'provider.connecting' }
  | { type: 'provider.connected' }
  | { type: 'provider.disconnected'; reason: string; retryable: boolean; retryAt: number }
  | { type: 'provider.logged-out' }
  | { type: 'provider.failed'; error: string }
  | { type: 'reconnect.due'; attempt: number };

/** Parameters of the effects that only need to know which bot. */
export interface BotParams {
  readonly botId: string;
}

/** Open the provider session. */
export interface ConnectProviderParams extends BotParams {
  /** 0 on a fresh start, the reconnect attempt number otherwise. */
  readonly attempt: number;
}

/** Make a fresh pairing QR code available to operators. */
export interface PublishQrParams extends BotParams {
  readonly qr: string;
}

/** Arm a timer that sends `reconnect.due` with this attempt at `retryAt`. */
export interface ScheduleReconnectParams extends BotParams {
  readonly attempt: number;
  readonly retryAt: number;
}

/** Disarm the timer armed for this attempt. */
export interface CancelReconnectParams extends BotParams {
  readonly attempt: number;
}

/** The bot's top-level states, as `bot.state` events name them. */
export type BotStateName = 'stopped' | 'starting' | 'awaiting-qr' | 'connecting' | 'connected' | 'reconnecting' | 'stopping' | 'logged-out' | 'failed';

/** Tell whoever listens (webhooks) that the bot entered `state`, and why when it went down or away. */
export interface AnnounceStateParams extends BotParams {
  readonly state: BotStateName;
  /** The disconnect behind `reconnecting`, the error behind `failed`; `null` otherwise. */
  readonly reason: string | null;
}

/** Every effect of the bot machine and its params. */
export interface BotEffects {
  readonly connectProvider: ConnectProviderParams;
  readonly disconnectProvider: BotParams;
  readonly publishQr: PublishQrParams;
  readonly reapMediaJobs: BotParams;
  readonly resumeOutbox: BotParams;
  readonly holdOutbox: BotParams;
  readonly scheduleReconnect: ScheduleReconnectParams;
  readonly cancelReconnect: CancelReconnectParams;
  readonly holdMediaJobs: BotParams;
  readonly flushIngestion: BotParams;
  readonly discardCredentials: BotParams;
  readonly announceState: AnnounceStateParams;
}
