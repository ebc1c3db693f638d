import { createActor, initialTransition } from 'xstate';
import type { ActorScope, AnyStateMachine, EventFromLogic, InputFrom, InspectionEvent, SnapshotFrom, StateValue } from 'xstate';
import { isEffectOf } from './effect-table.ts';
import type { Effect, EffectTable } from './effect-table.ts';

/** What is stored of a snapshot: machines here never spawn children and keep no history states. */
export interface PersistedSnapshot {
  readonly status: 'active';
  readonly value: StateValue;
  readonly context: unknown;
}

export interface Decision<TMachine extends AnyStateMachine, TMap> {
  readonly snapshot: SnapshotFrom<TMachine>;
  readonly effects: Effect<TMap>[];
}

/** The identity inspection events carry, shaped like the actor reference XState's inspector sends. */
export interface InspectedActor {
  readonly id: string;
  readonly sessionId: string;
  readonly logic: AnyStateMachine;
}

/**
 * Decides events for one machine with XState's pure transition (the machine's `transition` with
 * an inert scope, as XState's `transition()` does): no actor runs, no action executes, and the
 * effects come back as data for the runtime to make durable and then run. Inspection
 * subscribers still see every decision as XState would report it (`@xstate.event`,
 * `@xstate.snapshot`), so `/inspect` and Stately's inspector work unchanged.
 */
export function createDecider<TMachine extends AnyStateMachine, TMap, TScope>(
  machine: TMachine,
  effects: EffectTable<TMap, TScope>,
  inspect?: (event: InspectionEvent) => void,
) {
  const known = isEffectOf(effects);
  const { scope, executed } = inertScope(machine);

  function report(actor: InspectedActor, event: { type: string }, snapshot: unknown): void {
    if (inspect === undefined) return;
    const ref = actor as never;
    inspect({ type: '@xstate.event', actorRef: ref, rootId: actor.sessionId, sourceRef: undefined, event } as InspectionEvent);
    inspect({ type: '@xstate.snapshot', actorRef: ref, rootId: actor.sessionId, event, snapshot } as InspectionEvent);
  }

  return {
    /** The machine's first snapshot for `input`; machines here decide no effects on creation. */
    initial(input: InputFrom<TMachine>, actor?: InspectedActor): SnapshotFrom<TMachine> {
      const [snapshot] = initialTransition(machine, input);
      if (actor !== undefined && inspect !== undefined) {
        inspect({ type: '@xstate.actor', actorRef: actor as never, rootId: actor.sessionId } as InspectionEvent);
        report(actor, { type: 'xstate.init' }, snapshot);
      }
      return snapshot;
    },

    /** A stored snapshot brought back to life (XState's persisted shape or ours). */
    restore(persisted: unknown, actor?: InspectedActor): SnapshotFrom<TMachine> {
      const { value, context } = persisted as PersistedSnapshot;
      const snapshot = machine.resolveState({ value, context }) as SnapshotFrom<TMachine>;
      if (actor !== undefined && inspect !== undefined) {
        inspect({ type: '@xstate.actor', actorRef: actor as never, rootId: actor.sessionId } as InspectionEvent);
        report(actor, { type: 'xstate.init' }, snapshot);
      }
      return snapshot;
    },

    /** Decides `events` in order from `snapshot`; the effects of all of them, in decision order. */
    decide(snapshot: SnapshotFrom<TMachine>, events: readonly EventFromLogic<TMachine>[], actor?: InspectedActor): Decision<TMachine, TMap> {
      let current = snapshot;
      const decided: Effect<TMap>[] = [];
      for (const event of events) {
        executed.length = 0;
        const next = machine.transition(current, event, scope as never) as SnapshotFrom<TMachine>;
        for (const action of executed) if (known(action)) decided.push(action);
        current = next;
        if (actor !== undefined) report(actor, event, current);
      }
      return { snapshot: current, effects: decided };
    },

    /** What is stored of a snapshot. */
    persist(snapshot: SnapshotFrom<TMachine>): PersistedSnapshot {
      const { value, context } = snapshot as { value: StateValue; context: unknown };
      return { status: 'active', value, context };
    },
  };
}

interface InertScope {
  readonly scope: ActorScope<never, never>;
  /** What the last decision asked for; decisions are synchronous, so one list serves them all. */
  readonly executed: { type: string; params?: unknown }[];
}

const scopes = new WeakMap<AnyStateMachine, InertScope>();

/**
 * XState's `transition()` builds a throw-away actor for every call (its machine's context factory
 * runs, and throws without input), which costs more than the decision itself. One inert scope per
 * machine serves every decision of every actor of it: these machines never spawn, and deciding is
 * synchronous.
 */
function inertScope(machine: AnyStateMachine): InertScope {
  const cached = scopes.get(machine);
  if (cached !== undefined) return cached;
  const executed: { type: string; params?: unknown }[] = [];
  const self = createActor(machine);
  const scope = {
    self, id: '', sessionId: '', system: self.system, defer: () => {}, logger: () => {}, stopChild: () => {}, emit: () => {},
    actionExecutor: (action: { type: string; params?: unknown }) => void executed.push(action),
  } as unknown as ActorScope<never, never>;
  const created = { scope, executed };
  scopes.set(machine, created);
  return created;
}

export type Decider<TMachine extends AnyStateMachine, TMap, TScope> = ReturnType<typeof createDecider<TMachine, TMap, TScope>>;
