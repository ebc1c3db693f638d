import type { StoredEffect } from '../../ports/actor-snapshot-store.port.ts';

/**
 * Typed effects. Every machine declares an effect map (effect name → params type); the runtime
 * supplies one handler per name in an `EffectTable` checked with `satisfies`, so a machine effect
 * without a handler fails the type-check and no handler needs a cast on its params.
 */

/** One effect a machine decided: its name and its params, correlated through the map. */
export type Effect<TMap> = { [K in keyof TMap]: { readonly type: K; readonly params: TMap[K] } }[keyof TMap];

/** How the runtime carries out one effect. */
export interface EffectHandler<TParams, TScope> {
  /**
   * Durable effects are stored with the decision that asked for them and run again after a crash
   * until acknowledged, so their handlers are idempotent. The others (logs, counters, timers the
   * runtime re-arms from state on restore) run once, after the decision is durable.
   */
  readonly durable: boolean;
  run(params: TParams, scope: TScope): Promise<void> | void;
}

export type EffectTable<TMap, TScope> = { readonly [K in keyof TMap]: EffectHandler<TMap[K], TScope> };


/** Runs one effect with its handler; the effect's type selects the handler and types its params. */
export function runEffect<TMap, K extends keyof TMap, TScope>(
  table: EffectTable<TMap, TScope>,
  effect: { readonly type: K; readonly params: TMap[K] },
  scope: TScope,
): Promise<void> | void {
  return table[effect.type].run(effect.params, scope);
}

/** Whether an action `transition()` returned is one of the table's effects (XState's own actions are not). */
export function isEffectOf<TMap, TScope>(table: EffectTable<TMap, TScope>) {
  return (action: { readonly type: string; readonly params?: unknown }): action is Effect<TMap> & { readonly type: string } =>
    Object.hasOwn(table, action.type);
}

export function isDurable<TMap, TScope>(table: EffectTable<TMap, TScope>, effect: Effect<TMap>): boolean {
  return table[effect.type].durable;
}

/** A stored effect read back from the store, if the table knows its name. */
export function restoreEffect<TMap, TScope>(table: EffectTable<TMap, TScope>, stored: StoredEffect): Effect<TMap> | null {
  const action = { type: stored.type, params: stored.params };
  return isEffectOf(table)(action) ? action : null;
}
