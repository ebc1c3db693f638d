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

/** Strips credentials from a connection string so it can be logged. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z+]+:\/\/)[^@/]*@/i, '$1[redacted]@');
}

/** Hides long digit runs (phone numbers, WhatsApp ids) in URLs before they reach the request log. */
export function redactPath(url: string): string {
  return url.replace(/\+?\d{6,}/g, '[redacted]').replace(/([?&][^=&]*=)[^&]*/g, '$1[redacted]');
}
