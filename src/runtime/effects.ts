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

/**
 * The machine with every effect replaced by a collector: deciding stays synchronous and pure,
 * and the runtime gets the effects as data to run once the decision is durable.
 */
export function collectingMachine<TMachine extends AnyStateMachine>(machine: TMachine, sink: () => Effect[]): TMachine {
  const actions = Object.fromEntries(
    effectNames(machine).map((name) => [name, (_args: unknown, params: unknown) => void sink().push({ type: name, params })]),
  );
  return machine.provide({ actions } as never) as TMachine;
}
