import type { Logger } from '../../logging/logger.ts';

/**
 * Fields Baileys puts in its log objects that carry message keys, stanzas, contents or account
 * ids; censored on top of Parley's own redaction, which already covers `jid`, `remoteJid`, `from`.
 */
const BAILEYS_FIELDS = ['key', 'keys', 'node', 'attrs', 'message', 'messages', 'fullMessage', 'lid', 'pn', 'me', 'user', 'recipient', 'participants'];
const PATHS = [...BAILEYS_FIELDS, ...BAILEYS_FIELDS.map((f) => `*.${f}`), ...BAILEYS_FIELDS.map((f) => `*.*.${f}`)];

/**
 * The logger handed to Baileys: warnings and errors only (its info and debug lines narrate every
 * stanza), with its message-bearing fields censored.
 */
export function baileysLogger(parent: Logger): Logger {
  return parent.child({ scope: 'baileys-socket' }, { level: 'warn', redact: { paths: PATHS, censor: '[redacted]' } });
}
