import type { AnyStateMachine, EventFromLogic, InputFrom, SnapshotFrom, StateValue } from 'xstate';

/** An effect the machine asked for: a named action and the data it was given. */
export interface Effect {
  readonly type: string;
  readonly params: unknown;
}

/** What a target exposes after each step: where it is, what it holds, what it asked to do. */
export interface Observation<TContext> {
  readonly value: StateValue;
  readonly context: TContext;
  readonly effects: readonly Effect[];
}

/**
 * The system a model path is executed against. The pure target runs the machine alone; a runtime
 * target runs it through persistence (and may persist and restore between steps) and reports the
 * effects it executed.
 */
export interface ModelTarget<TEvent, TContext> {
  start(): Promise<Observation<TContext>>;
  send(event: TEvent): Promise<Observation<TContext>>;
  dispose(): Promise<void>;
}

export type TargetFactory<TMachine extends AnyStateMachine> = (
  model: MachineModel<TMachine>,
) => ModelTarget<EventFromLogic<TMachine>, ContextOf<TMachine>>;

export type ContextOf<TMachine extends AnyStateMachine> = SnapshotFrom<TMachine> extends { context: infer C } ? C : never;

/** One executed step: the event, the observations around it and the state the model expected. */
export interface StepRecord<TEvent, TContext> {
  readonly index: number;
  readonly event: TEvent;
  readonly before: Observation<TContext>;
  readonly after: Observation<TContext>;
  readonly expectedValue: StateValue;
}

/** Checks that hold over one path; a fresh instance is created per path so it can accumulate. */
export interface PathInvariants<TEvent, TContext> {
  /** Called once the target has started, with the initial observation. */
  start?(initial: Observation<TContext>): void;
  step(record: StepRecord<TEvent, TContext>): void;
  end?(): void;
}

/** A machine, how to drive it and what must always hold while it runs. */
export interface MachineModel<TMachine extends AnyStateMachine> {
  readonly name: string;
  readonly machine: TMachine;
  readonly input: InputFrom<TMachine>;
  /** Sample events (with payloads) worth trying in a given snapshot. */
  events(snapshot: SnapshotFrom<TMachine>): EventFromLogic<TMachine>[];
  /**
   * Abstracts a snapshot (or an observation of one) to a key, so the explored graph stays finite.
   * Event payloads must depend only on what the key captures, or replaying a path could diverge.
   */
  serializeState(snapshot: { readonly value: StateValue; readonly context: ContextOf<TMachine> }): string;
  invariants(): PathInvariants<EventFromLogic<TMachine>, ContextOf<TMachine>>;
}
