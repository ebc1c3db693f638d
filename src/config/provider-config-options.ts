import { integer } from './config-parsers.ts';

/** Provider connections: reconnect policy for every bot, pairing for WhatsApp Web. Part of `CONFIG_OPTIONS`. */
export const PROVIDER_CONFIG_OPTIONS = {
  botMaxReconnectAttempts: {
    env: 'BOT_MAX_RECONNECT_ATTEMPTS',
    doc: 'Reconnects in a row, with exponential backoff and jitter, before a bot whose connection keeps dropping ends `failed` with the last reason (0: no limit). Applies from the bot\'s next start.',
    defaultText: '30',
    parse: integer(0, 100_000, 30),
  },
  botReconnectMaxDelayMs: {
    env: 'BOT_RECONNECT_MAX_DELAY_MS',
    doc: 'Longest wait between two reconnects of a dropped connection (the backoff starts at 1 s and doubles up to this).',
    defaultText: '60000',
    parse: integer(1000, 3_600_000, 60_000),
  },
  baileysQrMaxCodes: {
    env: 'BAILEYS_QR_MAX_CODES',
    doc: 'Pairing QR codes a WhatsApp Web bot shows in a row without a scan before it ends `failed` with the reason (start it again to pair).',
    defaultText: '5',
    parse: integer(1, 100, 5),
  },
  baileysQrTimeoutMs: {
    env: 'BAILEYS_QR_TIMEOUT_MS',
    doc: 'How long each pairing QR code of a WhatsApp Web bot is shown before the next one (`expiresAt` of `GET /v1/bots/:id/qr`).',
    defaultText: '60000',
    parse: integer(10_000, 300_000, 60_000),
  },
  cloudApiWebhookBodyLimitBytes: {
    env: 'CLOUD_API_WEBHOOK_BODY_LIMIT_BYTES',
    doc: 'Largest body Meta\'s webhook route (`POST /webhooks/whatsapp/:botId`) takes; larger ones get 413 (Meta\'s notifications are a few KB).',
    defaultText: '262144 (256 KiB)',
    parse: integer(1024, 16 * 1024 * 1024, 256 * 1024),
  },
  cloudApiWebhookRateLimitMax: {
    env: 'CLOUD_API_WEBHOOK_RATE_LIMIT_MAX',
    doc: 'Requests a minute per client address on Meta\'s webhook routes; more get 429 (Meta retries). Raise it for numbers with high traffic: Meta posts from few addresses.',
    defaultText: '6000',
    parse: integer(10, 1_000_000, 6000),
  },
} as const;
