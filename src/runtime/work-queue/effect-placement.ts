import type { StoredEffect } from '../../ports/actor-snapshot-store.port.ts';
import type { RunnableEffect } from '../actors/effect-runner.ts';
import { restoreEffect } from '../actors/effect-table.ts';
import type { Effect, EffectTable } from '../actors/effect-table.ts';

/**
 * Effects that write into actors living only in the instance that hosts the item's bot (its
 * conversations, say). The item itself may be decided anywhere (a worker on another instance
 * completes a job); these effects then stay stored, unacknowledged, for that instance to adopt.
 */
export interface HostOnlyEffects<TMap> {
  readonly types: readonly (keyof TMap)[];
  /** Whether the bot's actors live in this process. */
  readonly hosts: (botId: string) => boolean;
  /** An effect was left stored for the instance hosting the item's bot. */
  readonly onLeft?: (effect: Effect<TMap>, item: PlacedItem) => void;
}

/** What placing an item's effects looks at. */
export interface PlacedItem {
  readonly id: string;
  readonly botId: string;
  readonly effects: readonly StoredEffect[];
}

// Enough to cover any listing in flight; older acknowledgements are long out of every listing.
const MAX_DONE = 10_000;

/**
 * Where the stored effects of row actors run, and that none runs twice at once in this process: a
 * stored effect being run here, or about to be (its decision is being written), is reserved, so a
 * recovery or an adoption that lists it meanwhile leaves it to that run.
 */
export function createEffectPlacement<TMap, TScope>(table: EffectTable<TMap, TScope>, hostOnly: HostOnlyEffects<TMap> | undefined) {
  const reserved = new Set<string>();
  // Acknowledged here lately. An acknowledged effect never comes back, but a listing read just
  // before its acknowledgement landed still shows it: such a stale copy is not run again.
  const done = new Set<string>();
  const hostOnlyTypes = new Set((hostOnly?.types ?? []).map(String));
  const isHostOnly = (run: RunnableEffect<TMap>) => run.storedId !== null && hostOnlyTypes.has(String(run.effect.type));
  const restore = (stored: readonly StoredEffect[]): RunnableEffect<TMap>[] =>
    stored.flatMap((s) => {
      const effect = restoreEffect(table, s);
      return effect === null ? [] : [{ effect, storedId: s.id }];
    });

  function reserve(runs: readonly RunnableEffect<TMap>[]): RunnableEffect<TMap>[] {
    return runs.filter((r) => {
      if (r.storedId === null) return true;
      if (reserved.has(r.storedId) || done.has(r.storedId)) return false;
      reserved.add(r.storedId);
      return true;
    });
  }

  return {
    /** Reserves the stored runs nothing here runs yet; resolves with those and every unstored one. */
    reserve,
    /** Ends reservations; `acknowledged` (stored ids) are done and never reserved again. */
    release(runs: readonly RunnableEffect<TMap>[], acknowledged: readonly string[] = []): void {
      for (const id of acknowledged) {
        done.add(id);
        if (done.size > MAX_DONE) done.delete(done.values().next().value ?? id);
      }
      for (const r of runs) if (r.storedId !== null) reserved.delete(r.storedId);
    },
    /** Every stored effect of an item this table knows, in decision order. */
    storedOf: (item: PlacedItem): RunnableEffect<TMap>[] => restore(item.effects),
    /** The item's stored host-only effects, in decision order. */
    hostOnlyOf: (item: PlacedItem): RunnableEffect<TMap>[] => restore(item.effects).filter(isHostOnly),
    /**
     * The reserved runs of an item that run here. Away from the bot's host its host-only effects
     * stay stored (released here, left for the host). On the host, host-only effects an earlier
     * decision left stored (decided elsewhere) go first, so a later one never overtakes them: the
     * reopen of an operator's retry decided elsewhere runs before the finalize of the retry's
     * result decided here, instead of after it, undoing it.
     */
    place(item: PlacedItem, runs: readonly RunnableEffect<TMap>[]): RunnableEffect<TMap>[] {
      if (hostOnly === undefined || !runs.some(isHostOnly)) return [...runs];
      if (!hostOnly.hosts(item.botId)) {
        const left = runs.filter(isHostOnly);
        for (const r of left) {
          if (r.storedId !== null) reserved.delete(r.storedId);
          hostOnly.onLeft?.(r.effect, item);
        }
        return runs.filter((r) => !isHostOnly(r));
      }
      const taken = new Set(runs.map((r) => r.storedId));
      const earlier = reserve(restore(item.effects).filter((r) => isHostOnly(r) && !taken.has(r.storedId)));
      return [...earlier, ...runs];
    },
  };
}
