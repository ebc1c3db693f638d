/**
 * Declares an effect: a named action whose implementation the runtime supplies with
 * `machine.provide({ actions })`, or executes itself from the actions `transition()` returns.
 * The placeholder does nothing, so the machine stays a pure decider. `T` is the shape of the
 * `params` the effect receives.
 */
export function effect<T>(): (args: unknown, params: T) => void {
  return () => {};
}
