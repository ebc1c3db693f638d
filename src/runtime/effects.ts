import type { AnyStateMachine } from 'xstate';

/** A named effect a machine decided on, to be executed by the runtime after persistence. */
export interface Effect {
  readonly type: string;
  readonly params: unknown;
}

/**
 * The effect names of a machine: its provided actions that are not XState built-ins (`assign`,
 * `enqueueActions`, ... carry a `type`). Machines declare effects as plain no-op functions.
 */
export function effectNames(machine: AnyStateMachine): string[] {
  return Object.entries(machine.implementations.actions)
    .filter(([, impl]) => typeof impl === 'function' && !('type' in impl))
    .map(([name]) => name);
}

/** A machine whose effects are collected instead of run, shared by every actor of that machine. */
export interface CollectingLogic<TMachine extends AnyStateMachine> {
  readonly logic: TMachine;
  /** Runs `decide` (which sends events synchronously) and returns the effects it produced. */
  collect(decide: () => void): Effect[];
}

const cache = new WeakMap<AnyStateMachine, CollectingLogic<AnyStateMachine>>();

/**
 * The machine with every effect replaced by a collector: deciding stays synchronous and pure,
 * and the runtime gets the effects as data to run once the decision is durable. One provided
 * copy per machine, not per actor: a machine definition weighs far more than an actor's state.
 */
export function collectingLogic<TMachine extends AnyStateMachine>(machine: TMachine): CollectingLogic<TMachine> {
  const cached = cache.get(machine);
  if (cached !== undefined) return cached as CollectingLogic<TMachine>;
  let sink: Effect[] | null = null;
  const actions = Object.fromEntries(
    effectNames(machine).map((name) => [
      name,
      (_args: unknown, params: unknown) => {
        if (sink === null) throw new Error(`effect ${name} decided outside a collection`);
        sink.push({ type: name, params });
      },
    ]),
  );
  const created: CollectingLogic<TMachine> = {
    logic: machine.provide({ actions } as never) as TMachine,
    collect(decide) {
      const outer = sink;
      const effects: Effect[] = [];
      sink = effects;
      try {
        decide();
      } finally {
        sink = outer;
      }
      return effects;
    },
  };
  cache.set(machine, created as CollectingLogic<AnyStateMachine>);
  return created;
}
