import { initialTransition, transition } from 'xstate';
import type { AnyMachineSnapshot, AnyStateMachine, EventFromLogic } from 'xstate';
import type { ContextOf, Effect, MachineModel, ModelTarget, Observation } from './model-types.ts';

export interface PureTargetOptions {
  /**
   * After every step, store the snapshot as JSON (`value` + `context`, what an actor document
   * holds) and continue from the restored copy, as a process restart would.
   */
  readonly restoreEachStep: boolean;
}

/** Runs the machine alone through `transition()`, collecting the effects it asks for. */
export function pureTarget<TMachine extends AnyStateMachine>(
  model: MachineModel<TMachine>,
  options: PureTargetOptions,
): ModelTarget<EventFromLogic<TMachine>, ContextOf<TMachine>> {
  const { machine } = model;
  let snapshot: AnyMachineSnapshot | undefined;

  const observe = (next: AnyMachineSnapshot, actions: readonly { type: string; params?: unknown }[]): Observation<ContextOf<TMachine>> => {
    snapshot = options.restoreEachStep ? persistAndRestore(machine, next) : next;
    const effects: Effect[] = actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => ({ type: a.type, params: a.params }));
    return { value: snapshot.value, context: snapshot.context as ContextOf<TMachine>, effects };
  };

  return {
    async start() {
      const [first, actions] = initialTransition(machine, model.input);
      return observe(first, actions);
    },
    async send(event) {
      if (snapshot === undefined) throw new Error('target not started');
      const [next, actions] = transition(machine as AnyStateMachine, snapshot, event);
      return observe(next, actions);
    },
    async dispose() {
      snapshot = undefined;
    },
  };
}

function persistAndRestore(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): AnyMachineSnapshot {
  const stored = JSON.stringify({ value: snapshot.value, context: snapshot.context });
  const { value, context } = JSON.parse(stored) as { value: AnyMachineSnapshot['value']; context: unknown };
  const restored = machine.resolveState({ value, context });
  const roundTrip = JSON.stringify({ value: restored.value, context: restored.context });
  if (roundTrip !== stored) throw new Error(`snapshot did not survive persist and restore:\n${stored}\n${roundTrip}`);
  return restored;
}
