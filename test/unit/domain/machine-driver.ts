import { initialTransition, transition } from 'xstate';
import type { AnyMachineSnapshot, AnyStateMachine, ContextFrom, EventFromLogic, InputFrom } from 'xstate';
import { statePath } from '../../../machines/state-name.ts';

export interface Effect {
  readonly type: string;
  readonly params: unknown;
}

/** Drives a machine through `transition()` the way the runtime does, keeping the effects it asks for. */
export function drive<TMachine extends AnyStateMachine>(machine: TMachine, input: InputFrom<TMachine>) {
  const logic = machine as AnyStateMachine;
  const collect = (actions: readonly { type: string; params?: unknown }[]): Effect[] =>
    actions.filter((a) => !a.type.startsWith('xstate.')).map((a) => ({ type: a.type, params: a.params }));
  const [first, initialActions] = initialTransition(logic, input);
  let snapshot: AnyMachineSnapshot = first;
  let last = collect(initialActions);

  return {
    /** Sends an event and returns the effects of that step. */
    send(event: EventFromLogic<TMachine>): Effect[] {
      const [next, actions] = transition(logic, snapshot, event);
      snapshot = next;
      last = collect(actions);
      return last;
    },
    /** Stores the snapshot as JSON and continues from the copy, as after a process restart. */
    restart(): void {
      const stored = JSON.parse(JSON.stringify({ value: snapshot.value, context: snapshot.context })) as Pick<AnyMachineSnapshot, 'value' | 'context'>;
      snapshot = logic.resolveState(stored);
    },
    get state(): string {
      return statePath(snapshot.value);
    },
    get context(): ContextFrom<TMachine> {
      return snapshot.context as ContextFrom<TMachine>;
    },
    get effects(): Effect[] {
      return last;
    },
  };
}

export const types = (effects: readonly Effect[]): string[] => effects.map((e) => e.type);
export const paramsOf = <T>(effects: readonly Effect[], type: string): T => {
  const found = effects.find((e) => e.type === type);
  if (found === undefined) throw new Error(`no ${type} effect among ${types(effects).join(', ') || 'none'}`);
  return found.params as T;
};
