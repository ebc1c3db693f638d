import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../../domain/backoff.ts';
import type { BackoffPolicy } from '../../domain/backoff.ts';
import type { Logger } from '../../logging/logger.ts';

/** The status and message of a socket's close; Baileys reports both on a Boom error. */
export function closeStatus(error: unknown): { statusCode: number | null; message: string | null } {
  if (!(error instanceof Error)) return { statusCode: null, message: null };
  const output: unknown = Reflect.get(error, 'output');
  const fromOutput = typeof output === 'object' && output !== null ? Reflect.get(output, 'statusCode') : undefined;
  const statusCode = typeof fromOutput === 'number' ? fromOutput : null;
  return { statusCode, message: error.message === '' ? null : error.message };
}

/** A correspondent as WhatsApp addresses it: a JID as is, a phone number as its user JID. */
export function toJid(correspondent: string): string {
  if (correspondent.includes('@')) return correspondent;
  return `${correspondent.replace(/\D/g, '')}@s.whatsapp.net`;
}

/** A set that forgets its oldest members beyond `capacity`. */
export class RecentSet<T> {
  readonly #items = new Set<T>();
  readonly #capacity: number;
  constructor(capacity: number) {
    this.#capacity = capacity;
  }
  add(item: T): void {
    this.#items.add(item);
    if (this.#items.size <= this.#capacity) return;
    const oldest = this.#items.values().next();
    if (oldest.done !== true) this.#items.delete(oldest.value);
  }
  has(item: T): boolean {
    return this.#items.has(item);
  }
}

/** Tries of one inbound message before it is given up (logged); about half a minute in all. */
export const INGEST_RETRY: BackoffPolicy & { readonly attempts: number } = { attempts: 6, baseMs: 500, maxMs: 10_000, jitter: 0.2 };

/**
 * Work a session does in order: inbound messages one after another (so history keeps their
 * arrival order) and credential saves one after another (so an older save never lands last).
 * Baileys has acknowledged a message to WhatsApp before it hands it over, so a failed store is
 * retried here with backoff rather than left to a redelivery that will not come.
 */
export function createIngestLane(log: Logger, policy = INGEST_RETRY) {
  let messages: Promise<void> = Promise.resolve();
  let creds: Promise<void> = Promise.resolve();

  async function patiently(what: string, work: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (attempt >= policy.attempts) {
          log.error({ err, attempts: attempt }, `${what} failed for good`);
          return;
        }
        log.warn({ err, attempt }, `${what} failed; retrying`);
        await sleep(backoffDelay(attempt, policy, Math.random()));
      }
    }
  }

  return {
    ingest(work: () => Promise<void>): void {
      messages = messages.then(() => patiently('storing an inbound message', work));
    },
    saveCreds(work: () => Promise<void>): void {
      creds = creds.then(() => patiently('saving WhatsApp credentials', work));
    },
    /** Resolves once queued work is done, or after `withinMs` (a message still being retried keeps going). */
    async idle(withinMs = 5000): Promise<void> {
      const timer = sleep(withinMs, undefined, { ref: false });
      await Promise.race([Promise.all([messages, creds]), timer]);
    },
  };
}
