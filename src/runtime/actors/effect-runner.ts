import type { StoredEffect } from '../../ports/actor-snapshot-store.port.ts';
import { restoreEffect, runEffect } from './effect-table.ts';
import type { Effect, EffectTable } from './effect-table.ts';
import { retryDelay, sleep } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

/** An effect to run; a durable one carries the id it is stored under, to acknowledge it by. */
export interface RunnableEffect<TMap> {
  readonly effect: Effect<TMap>;
  readonly storedId: string | null;
}

export interface EffectRunnerOptions<TMap> {
  /** A failing effect is tried again this often before it is reported (a durable one stays stored). */
  readonly retry?: RetryPolicy;
  readonly onError?: (err: unknown, effect: Effect<TMap>) => void;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 100, maxMs: 2_000 };

/**
 * Runs one actor's effects one after another, in decision order, so a later decision's effects
 * never overtake an earlier one's. A durable effect is acknowledged when its handler succeeds; one
 * that keeps failing stays unacknowledged (it runs again after a restart) and is reported.
 */
export function createEffectRunner<TMap, TScope>(options: EffectRunnerOptions<TMap> & { readonly effects: EffectTable<TMap, TScope> }) {
  const retry = options.retry ?? DEFAULT_RETRY;
  let tail: Promise<unknown> = Promise.resolve();
  let halted = false;

  async function attempt(item: RunnableEffect<TMap>, scope: TScope): Promise<void> {
    for (let failures = 0; ; ) {
      try {
        await runEffect(options.effects, item.effect, scope);
        return;
      } catch (err) {
        failures += 1;
        if (halted || failures >= retry.attempts) throw err;
        await sleep(retryDelay(retry, failures));
      }
    }
  }

  return {
    /** Runs after everything queued before; rejects with the first failure (the others still run). */
    run(items: readonly RunnableEffect<TMap>[], scopeOf: (item: RunnableEffect<TMap>) => TScope, acknowledge: (storedId: string) => void): Promise<void> {
      if (items.length === 0) return Promise.resolve();
      const done = tail.then(async () => {
        let first: unknown = null;
        for (const item of items) {
          if (halted) return;
          try {
            await attempt(item, scopeOf(item));
            if (item.storedId !== null) acknowledge(item.storedId);
          } catch (err) {
            options.onError?.(err, item.effect);
            first ??= err;
          }
        }
        if (first !== null) throw first;
      });
      tail = done.catch(() => undefined);
      return done;
    },
    /** Resolves once every effect queued so far has run. */
    idle: (): Promise<void> => tail.then(() => undefined),
    restore: (stored: StoredEffect): Effect<TMap> | null => restoreEffect(options.effects, stored),
    halt(): void {
      halted = true;
    },
  };
}
