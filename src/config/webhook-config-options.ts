import { bad, flag, integer, ok } from './config-parsers.ts';
import type { ConfigOption, Parsed } from './config-parsers.ts';
import { DEFAULT_WEBHOOK_RETRY_DELAYS_MS } from '../domain/webhook-events.ts';

const MAX_RETRIES = 50;
const MAX_DELAY_MS = 7 * 86_400_000;

/**
 * Comma-separated delays in ms before each retry: their number is the number of retries. Every
 * entry that is not a positive integer (up to a week) is named, so one start-up lists them all.
 */
export function retryDelays(raw: string | undefined): Parsed<readonly number[]> {
  if (raw === undefined || raw.trim() === '') return ok(DEFAULT_WEBHOOK_RETRY_DELAYS_MS);
  const entries = raw.split(',').map((entry) => entry.trim());
  const problems: string[] = [];
  const delays: number[] = [];
  for (const [i, entry] of entries.entries()) {
    const n = Number(entry);
    if (!/^\d+$/.test(entry) || !Number.isSafeInteger(n) || n < 1 || n > MAX_DELAY_MS) {
      problems.push(`entry ${i + 1} ("${entry.slice(0, 20)}") is not a positive integer of at most ${MAX_DELAY_MS}`);
    } else {
      delays.push(n);
    }
  }
  if (entries.length > MAX_RETRIES) problems.push(`has ${entries.length} entries; at most ${MAX_RETRIES} retries are allowed`);
  return problems.length === 0 ? ok(delays) : bad(`must be comma-separated delays in ms: ${problems.join('; ')}`);
}

/** Signed event webhooks: retries, time limit, lease and which receivers are refused. Part of `CONFIG_OPTIONS`. */
export const WEBHOOK_CONFIG_OPTIONS = {
  webhookRetryDelaysMs: {
    env: 'WEBHOOK_RETRY_DELAYS_MS',
    doc: 'Delays in ms before each retry of a webhook delivery that met a network error, a timeout, a 5xx or a 429 (a `Retry-After` wins); their number is the number of retries, after which the delivery is `failed` until an operator retries it.',
    defaultText: '5000,30000,120000,600000,3600000',
    parse: retryDelays,
  },
  webhookTimeoutMs: {
    env: 'WEBHOOK_TIMEOUT_MS',
    doc: 'How long one webhook delivery attempt may take (connect, send, answer) before it counts as a network error and is retried.',
    defaultText: '10000',
    parse: integer(100, 300_000, 10_000),
  },
  webhookLeaseMs: {
    env: 'WEBHOOK_LEASE_MS',
    doc: 'How long a webhook delivery attempt stays with its worker without a heartbeat; the attempt of a worker that died is made again after this (delivery is at least once).',
    defaultText: '60000',
    parse: integer(1000, 3_600_000, 60_000),
  },
  webhookDenyPrivate: {
    env: 'WEBHOOK_DENY_PRIVATE',
    doc: '1 refuses webhook URLs whose host is or resolves to a loopback, private, link-local, CGNAT or unspecified address, when subscribing (400 WEBHOOK_URL_REFUSED) and again at every delivery (the connection goes only to the address checked).',
    defaultText: '0',
    parse: flag,
  },
} satisfies Record<string, ConfigOption<unknown>>;
