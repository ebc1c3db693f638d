/**
 * Declares an effect: a named action whose implementation the runtime supplies, from the actions
 * XState's pure `transition()` returns. The placeholder does nothing, so the machine stays a pure
 * decider. `T` is the shape of the `params` the effect receives.
 */
export function effect<T>(): (args: unknown, params: T) => void {
  return () => {};
}

/**
 * Declares every effect of a machine from its effect map (effect name → params type). Naming each
 * effect once here, with `true`, makes a map entry the machine forgets fail the type-check, and
 * the runtime's handler table is checked against the same map.
 */
export function effects<TMap>(names: { readonly [K in keyof TMap]: true }): { [K in keyof TMap]: (args: unknown, params: TMap[K]) => void } {
  const declared = {} as { [K in keyof TMap]: (args: unknown, params: TMap[K]) => void };
  for (const name of Object.keys(names) as (keyof TMap)[]) declared[name] = effect<TMap[typeof name]>();
  return declared;
}
