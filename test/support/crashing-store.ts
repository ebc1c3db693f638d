import type { Store } from '../../src/ports/store.port.ts';
import type { MediaStore } from '../../src/ports/media-store.port.ts';
import { interceptRepository, interceptStore } from './store-proxy.ts';
import type { StoreCall } from './store-proxy.ts';

const WRITES: Readonly<Record<string, readonly string[]>> = {
  actors: ['insert', 'compareAndSet', 'markResident', 'fenceBot', 'delete', 'deleteByBot'],
  mediaJobs: ['insert', 'claim', 'compareAndSet', 'acknowledgeEffects', 'delete', 'deleteByBot'],
  history: ['append', 'finalize', 'reopen', 'deleteByBot'],
  bots: ['create', 'update', 'delete'],
  outbox: ['insert', 'claim', 'compareAndSet', 'acknowledgeEffects', 'delete', 'deleteByBot'],
  authState: ['set', 'clear'],
  webhookSubscriptions: ['create', 'delete'],
  ownership: ['acquire', 'renew', 'release', 'delete'],
  instances: ['heartbeat', 'leave'],
  simulator: ['sessionStarted', 'sessionConnected', 'sessionEnded', 'recordOutbound', 'forget'],
  webhookDeliveries: ['insert', 'claim', 'compareAndSet', 'acknowledgeEffects', 'delete', 'deleteByBot'],
  media: ['put', 'delete'],
};

export class ProcessDied extends Error {
  constructor(at: string) {
    super(`process died before ${at}`);
  }
}

/**
 * Wraps a store so the process "dies" right before a chosen write: that write and every later
 * call fail, and what was written before stays exactly as it was.
 */
export function crashingStore(store: Store) {
  let writes = 0;
  let crashBeforeWrite = Number.POSITIVE_INFINITY;
  let crashBeforeLabel: string | undefined;
  let crashBeforeOccurrence = 1;
  let crashAfterLabel: string | undefined;
  let crashAfterOccurrence = 1;
  const seen = new Map<string, number>();
  let dead = false;
  const log: string[] = [];
  const intercept: StoreCall = async (label, _args, call) => {
      if (dead) throw new ProcessDied(label);
      const [name = '', op = ''] = label.split('.');
      if (WRITES[name]?.includes(op)) {
        writes += 1;
        const occurrence = (seen.get(label) ?? 0) + 1;
        seen.set(label, occurrence);
        if (writes === crashBeforeWrite || (label === crashBeforeLabel && occurrence >= crashBeforeOccurrence)) {
          dead = true;
          log.push(`died before ${label}`);
          throw new ProcessDied(label);
        }
        log.push(label);
        if (label === crashAfterLabel && occurrence >= crashAfterOccurrence) {
          await call();
          dead = true;
          log.push(`died after ${label}`);
          throw new ProcessDied(`the answer to ${label}`);
        }
      }
      return call();
  };
  const wrapped = interceptStore(store, intercept, () => (dead ? Promise.reject(new ProcessDied('ping')) : store.ping()));
  return {
    store: wrapped,
    /** The media store on the same process: its writes (`media.put`, `media.delete`) die with it. */
    media: (files: MediaStore): MediaStore => interceptRepository('media', files, intercept, ['list']),
    /** The process dies right before the `n`-th write from now. */
    arm(n: number) {
      crashBeforeWrite = writes + n;
    },
    /**
     * The process dies right before the `occurrence`-th call of `label` counted from when the
     * store was wrapped (e.g. the 2nd `mediaJobs.compareAndSet`), or the next one if that has passed.
     */
    armBefore(label: string, occurrence = 1) {
      crashBeforeLabel = label;
      crashBeforeOccurrence = occurrence;
    },
    /**
     * The process dies right after the `occurrence`-th call of `label` (counted like `armBefore`):
     * that write is durable, but the caller never learns its outcome.
     */
    armAfter(label: string, occurrence = 1) {
      crashAfterLabel = label;
      crashAfterOccurrence = occurrence;
    },
    /** Calls of each write so far, so a test can aim at writes still to come. */
    occurrences: (label: string) => seen.get(label) ?? 0,
    isDead: () => dead,
    log,
  };
}
