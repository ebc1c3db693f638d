import { pino } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names whose values are secrets, personal data (phone numbers, WhatsApp ids) or message
 * bodies. They are censored wherever they appear up to two levels deep, at every level, so a
 * careless `log.info({ msg })` cannot leak a conversation.
 */
export const REDACTED_KEYS = [
  'apiKey', 'api_key', 'authorization', 'Authorization', 'cookie', 'password', 'secret', 'token',
  'accessToken', 'openaiApiKey', 'mongodbUri', 'uri',
  // Secrets at rest and provider credentials: the secret key, Baileys' auth state, Cloud API and webhook secrets.
  'secretKey', 'secretKeysPrevious', 'sealed', 'creds', 'authState', 'privKey', 'appSecret', 'verifyToken', 'webhookSecret',
  'phone', 'phoneNumber', 'jid', 'remoteJid', 'participant', 'from', 'to', 'correspondentId', 'sender',
  'text', 'body', 'content', 'caption', 'transcript', 'description', 'dataBase64',
] as const;

const REDACT_PATHS = [
  ...REDACTED_KEYS,
  ...REDACTED_KEYS.map((k) => `*.${k}`),
  ...REDACTED_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Creates the process logger; `destination` lets tests capture output. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'parley' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** Strips credentials and secret options from a connection string so it can be logged. */
export { redactUri } from './redact-uri.ts';

/** Hides long digit runs (phone numbers, WhatsApp ids) in URLs before they reach the request log. */
export { redactPath } from './redact-path.ts';
