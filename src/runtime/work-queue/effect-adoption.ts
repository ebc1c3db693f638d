import type { Logger } from '../../logging/logger.ts';

export interface EffectAdoptionOptions<TItem extends { readonly id: string; readonly botId: string }> {
  /** Items of these bots (of every bot when absent) that carry stored host-only effects. */
  readonly list: (botIds: readonly string[] | undefined) => Promise<readonly TItem[]>;
  /** Runs an item's host-only effects here; resolves with how many ran, rejects when one failed. */
  readonly adopt: (item: TItem) => Promise<number>;
  readonly hosts: (botId: string) => boolean;
  /** The bots hosted here, to list only theirs; every item is listed and `hosts` filters when absent. */
  readonly hostedBotIds?: () => readonly string[];
  /** How often a pass runs; also the first wait before an item whose effects failed is tried again. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

// An item whose adopted effects keep failing is tried again after a growing wait, up to this.
const MAX_RETRY_WAIT_MS = 5 * 60_000;

/**
 * The host's side of host-only effects: effects decided on other instances for bots hosted here
 * (a placeholder to finalize after another instance's worker completed the job) are found by a
 * periodic pass, or at once when this instance takes up a bot, and run here. Passes run one at a
 * time; the host's reservations keep a pass from running an effect a decision here runs already.
 */
export function createEffectAdoption<TItem extends { readonly id: string; readonly botId: string }>(options: EffectAdoptionOptions<TItem>) {
  const log = options.logger.child({ scope: 'effect-adoption' });
  // Real time, not an actor clock: this paces retries of effects that fail.
  const retryWaits = new Map<string, { readonly failures: number; readonly until: number }>();
  let tail: Promise<unknown> = Promise.resolve();
  let periodicQueued = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function pass(botIds: readonly string[] | undefined): Promise<number> {
    const scope = botIds ?? options.hostedBotIds?.();
    if (scope?.length === 0) return 0;
    const items = await options.list(scope);
    let adopted = 0;
    for (const item of items) {
      if (stopped) break;
      if (!options.hosts(item.botId)) continue;
      const wait = retryWaits.get(item.id);
      if (wait !== undefined && wait.until > performance.now()) continue;
      try {
        if ((await options.adopt(item)) > 0) adopted += 1;
        retryWaits.delete(item.id);
      } catch {
        // The effect runner reported the failure; the effect stays stored for a later pass.
        const failures = (wait?.failures ?? 0) + 1;
        retryWaits.set(item.id, { failures, until: performance.now() + Math.min(MAX_RETRY_WAIT_MS, options.intervalMs * 2 ** failures) });
      }
    }
    // An item a full pass no longer lists has nothing left to run here: its wait goes.
    if (botIds === undefined) {
      const listed = new Set(items.map((i) => i.id));
      for (const id of retryWaits.keys()) if (!listed.has(id)) retryWaits.delete(id);
    }
    if (adopted > 0) log.debug({ adopted }, 'effects decided elsewhere ran here');
    return adopted;
  }

  function adopt(botIds?: readonly string[]): Promise<number> {
    const next = tail.then(() => pass(botIds));
    tail = next.catch(() => undefined);
    return next;
  }

  return {
    /**
     * One pass now, after any pass under way, over these bots (the bots hosted here when absent);
     * resolves with how many items had effects run.
     */
    adopt,
    start(): void {
      stopped = false;
      clearInterval(timer);
      timer = setInterval(() => {
        // A slow pass is not queued behind by every tick that passes meanwhile.
        if (periodicQueued) return;
        periodicQueued = true;
        adopt()
          .catch((err: unknown) => log.warn({ err }, 'looking for effects to run here failed'))
          .finally(() => (periodicQueued = false));
      }, options.intervalMs);
      timer.unref();
    },
    /** No pass starts any more, and one under way ends after the item it is at. */
    stop(): void {
      stopped = true;
      clearInterval(timer);
    },
  };
}
