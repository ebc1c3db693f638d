import { isDeepStrictEqual } from 'node:util';
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode, EventFromLogic, EventObject, StateValue } from 'xstate';
import { createTestModel } from 'xstate/graph';
import type { StatePath, TestModel } from 'xstate/graph';
import type { ContextOf, MachineModel, ModelTarget, Observation, StepRecord } from './model-types.ts';

// Paths are handled as plain machine snapshots and events: the model file is where types matter.
type Path = StatePath<AnyMachineSnapshot, EventObject>;
type Abstracted<TMachine extends AnyStateMachine> = Parameters<MachineModel<TMachine>['serializeState']>[0];

export interface ModelPaths {
  readonly testModel: TestModel<AnyMachineSnapshot, EventObject, unknown>;
  /** The shortest path to every abstract state. */
  readonly shortest: Path[];
  /** The shortest path to every abstract state followed by each event it accepts: every edge once. */
  readonly transitions: Path[];
  /**
   * The shortest path ending in each transition of the machine definition (per guard branch): a
   * small set for slow targets such as a persistence runtime.
   */
  readonly definition: Path[];
}

/** Explores the machine with the model's event generator and derives the paths to execute. */
export function buildPaths<TMachine extends AnyStateMachine>(model: MachineModel<TMachine>): ModelPaths {
  const testModel = createTestModel(model.machine, {
    events: (snapshot) => model.events(snapshot),
    // The test model offers only events the active states mention, and adds a bare `{ type }` for
    // each one the generator left out on purpose; only the generator's own samples are kept.
    filterEvents: (snapshot, event) => model.events(snapshot).some((offered) => isDeepStrictEqual(offered, event)),
    serializeState: (snapshot) => model.serializeState(snapshot),
    input: model.input,
    // A model whose abstraction lets the graph grow without bound fails here instead of exhausting memory.
    limit: 200_000,
  }) as unknown as ModelPaths['testModel'];
  const shortest = testModel.getShortestPaths({ allowDuplicatePaths: true });
  const byKey: Record<string, Path> = {};
  for (const path of shortest) byKey[model.serializeState(path.state as Abstracted<TMachine>)] = path;

  const edges: Path[] = [];
  for (const [key, adjacent] of Object.entries(testModel.getAdjacencyMap())) {
    const prefix = byKey[key];
    if (prefix === undefined) throw new Error(`no path reaches ${key}`);
    const next: { event: EventObject; state: AnyMachineSnapshot }[] = Object.values(adjacent.transitions);
    for (const { event, state } of next) {
      edges.push({ state, steps: [...prefix.steps, { event, state }], weight: prefix.weight + 1 });
    }
  }
  const transitions = withoutPrefixes(edges);
  return { testModel, shortest, transitions, definition: definitionCover(model.machine, transitions) };
}

function definitionCover(machine: AnyStateMachine, paths: readonly Path[]): Path[] {
  const best: Record<string, Path> = {};
  for (const path of paths) {
    path.steps.forEach((step, i) => {
      const previous = path.steps[i - 1];
      if (previous === undefined) return;
      for (const key of takenTransitions(machine, previous.state, step.event)) {
        const current = best[key];
        if (current === undefined || current.steps.length > i + 1) best[key] = { state: step.state, steps: path.steps.slice(0, i + 1), weight: i };
      }
    });
  }
  return withoutPrefixes([...new Set(Object.values(best))]);
}

function takenTransitions(machine: AnyStateMachine, from: AnyMachineSnapshot, event: EventObject): string[] {
  return machine
    .getTransitionData(from, event)
    .map((t) => `${t.source.id} ${t.eventType}#${t.source.transitions.get(t.eventType)?.indexOf(t) ?? -1}`);
}

/** Drops paths whose event sequence is the start of a longer one; the longer path checks the same steps. */
function withoutPrefixes(paths: readonly Path[]): Path[] {
  const covered = new Set<string>();
  const kept: Path[] = [];
  for (const path of [...paths].sort((a, b) => b.steps.length - a.steps.length)) {
    const events = path.steps.map((s) => JSON.stringify(s.event));
    if (covered.has(events.join('|'))) continue;
    kept.push(path);
    for (let i = 1; i <= events.length; i++) covered.add(events.slice(0, i).join('|'));
  }
  return kept;
}

/**
 * Executes one path against a target through the test model: every step sends the event, then
 * checks that the target reached the state the model predicts (its value, and its context as far
 * as the model's abstraction of it goes) and that the model's invariants hold.
 */
export async function executePath<TMachine extends AnyStateMachine>(
  model: MachineModel<TMachine>,
  paths: ModelPaths,
  path: Path,
  target: ModelTarget<EventFromLogic<TMachine>, ContextOf<TMachine>>,
): Promise<void> {
  type Event = EventFromLogic<TMachine>;
  const invariants = model.invariants();
  let current: Observation<ContextOf<TMachine>> | undefined;
  let record: StepRecord<Event, ContextOf<TMachine>> | undefined;
  let index = 0;

  const exec = async (step: { event: EventObject; state: AnyMachineSnapshot }) => {
    if (step.event.type === 'xstate.init') {
      current = await target.start();
      invariants.start?.(current);
      return;
    }
    if (current === undefined) throw new Error('path did not start with xstate.init');
    const before = current;
    const event = step.event as Event;
    current = await target.send(event);
    index += 1;
    record = { index, event, before, after: current, expectedValue: step.state.value };
  };
  const check = (state: AnyMachineSnapshot) => {
    if (current === undefined) throw new Error('target not started');
    if (!isDeepStrictEqual(current.value, state.value)) {
      throw new Error(`expected state ${JSON.stringify(state.value)}, target is in ${JSON.stringify(current.value)}`);
    }
    const expected = model.serializeState(state as Abstracted<TMachine>);
    const actual = model.serializeState(current);
    if (actual !== expected) throw new Error(`target is not in the model's abstract state:\nexpected ${expected}\nactual   ${actual}`);
    if (record !== undefined) invariants.step(record);
  };

  const eventTypes = ['xstate.init', ...path.steps.map((s) => s.event.type)];
  const events = Object.fromEntries(eventTypes.map((type) => [type, exec]));
  try {
    await paths.testModel.testPath(path, { events, states: { '*': check } });
    invariants.end?.();
  } finally {
    await target.dispose();
  }
}

export interface Coverage {
  readonly missingStates: string[];
  readonly missingTransitions: string[];
  readonly states: number;
  readonly transitions: number;
}

/** Which atomic states and defined transitions (per guard branch) the paths never exercise. */
export function coverage<TMachine extends AnyStateMachine>(model: MachineModel<TMachine>, paths: readonly Path[]): Coverage {
  const { machine } = model;
  const nodes = allNodes(machine.root);
  const atomic = nodes.filter((n) => Object.keys(n.states).length === 0).map((n) => n.id);
  const defined = nodes.flatMap((n) => [...n.transitions.entries()].flatMap(([type, defs]) => defs.map((_, i) => `${n.id} ${type}#${i}`)));

  const seenStates = new Set<string>();
  const seenTransitions = new Set<string>();
  for (const path of paths) {
    let previous: AnyMachineSnapshot | undefined;
    for (const step of path.steps) {
      seenStates.add(`${machine.root.id}.${leafPath(step.state.value)}`);
      if (previous !== undefined) for (const key of takenTransitions(machine, previous, step.event)) seenTransitions.add(key);
      previous = step.state;
    }
  }
  return {
    missingStates: atomic.filter((id) => !seenStates.has(id)),
    missingTransitions: defined.filter((key) => !seenTransitions.has(key)),
    states: atomic.length,
    transitions: defined.length,
  };
}

function allNodes(node: AnyStateNode): AnyStateNode[] {
  return [node, ...Object.values(node.states).flatMap((child) => allNodes(child))];
}

function leafPath(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [entry] = Object.entries(value);
  if (entry === undefined) return '';
  const [key, child] = entry;
  return child === undefined ? key : `${key}.${leafPath(child)}`;
}
