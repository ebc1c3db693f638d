import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import type { AnyMachineSnapshot, EventFromLogic, EventObject } from 'xstate';
import { CONVERSATION_REPLY_MACHINE_VERSION } from '../../machines/conversation-reply.machine.ts';
import type { ConversationReplyEffects } from '../../machines/conversation-reply.machine.ts';
import { topLevelState } from '../../machines/state-name.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { conversationReplyModel as model, conversationReplyScenarios } from './conversation-reply.model.ts';
import { buildPaths, coverage, executePath } from './model-runner.ts';
import type { ModelPaths } from './model-runner.ts';
import type { ContextOf, ModelTarget } from './model-types.ts';
import { pureTarget } from './pure-target.ts';
import { persistedActorTarget } from './runtime-target.ts';
import type { EffectDurability } from './runtime-target.ts';

type Path = ModelPaths['shortest'][number];
type Machine = typeof model.machine;
type Target = () => ModelTarget<EventFromLogic<Machine>, ContextOf<Machine>>;

// As the runtime stores them: handing the reply to the outbox is the one effect a restart must not lose.
const effects: EffectDurability<ConversationReplyEffects> = {
  queueReply: true, generateReply: false, dropReply: false, showTyping: false, discardLateResult: false, reportFailure: false, reportAbandoned: false,
};
const runtime = { kind: 'conversation-reply', machineVersion: CONVERSATION_REPLY_MACHINE_VERSION, effects } as const;
const WALK_TIMEOUT_MS = 180_000;
/** `replied` is transient (`always`): no snapshot rests there, so no path ends in it; its two branches are checked on their own. */
const TRANSIENT = ['conversationReply.replied'];

const paths = buildPaths(model);
const scenarios = Object.entries(conversationReplyScenarios).map(([name, events]) => [name, scenarioPath(events)] as const);
/** The shortest paths without those another one starts with: every state is still checked, as a step of a longer path. */
const shortestMaximal = withoutPrefixes(paths.shortest);
const steps = (set: readonly Path[]) => set.reduce((n, path) => n + path.steps.length - 1, 0);

const sets = {
  shortest: [paths.shortest, `the shortest path to each of ${paths.shortest.length} states`],
  shortestMaximal: [shortestMaximal, `the shortest path to each of ${paths.shortest.length} states, in ${shortestMaximal.length} paths (${steps(shortestMaximal)} steps)`],
  transitions: [paths.transitions, `all ${paths.transitions.length} transition paths (${steps(paths.transitions)} steps)`],
  definition: [paths.definition, `the ${paths.definition.length} definition-cover paths`],
} as const satisfies Record<string, readonly [readonly Path[], string]>;

/** A path of the given events from the initial state, shaped as the runner's paths are. */
function scenarioPath(events: readonly EventObject[]): Path {
  const [initial] = initialTransition(model.machine, model.input);
  let state: AnyMachineSnapshot = initial;
  const path: Path['steps'] = [{ event: { type: 'xstate.init' }, state }];
  for (const event of events) {
    [state] = transition(model.machine, state, event as EventFromLogic<Machine>);
    path.push({ event, state });
  }
  return { state, steps: path, weight: events.length };
}

function withoutPrefixes(all: readonly Path[]): Path[] {
  const covered = new Set<string>();
  const kept: Path[] = [];
  for (const path of [...all].sort((a, b) => b.steps.length - a.steps.length)) {
    const events = path.steps.map((s) => JSON.stringify(s.event));
    if (covered.has(events.join('|'))) continue;
    kept.push(path);
    for (let i = 1; i <= events.length; i++) covered.add(events.slice(0, i).join('|'));
  }
  return kept;
}

/** Which of `replied`'s branches the paths take: on to the next burst (messages came meanwhile), or back to idle. */
function repliedBranches(walked: readonly Path[]): Set<string> {
  const taken = new Set<string>();
  for (const path of walked) {
    path.steps.forEach((step, i) => {
      const from = path.steps[i - 1];
      if (from === undefined || !['generating', 'sending'].includes(topLevelState(from.state.value))) return;
      const to = topLevelState(step.state.value);
      // A reply left for debouncing went through `replied`; one left for idle too, unless the burst was abandoned.
      if (to === 'debouncing' || (to === 'idle' && step.event.type !== 'reply.abandoned')) taken.add(to);
    });
  }
  return taken;
}

/** Walks the path sets, then each named scenario, on a fresh target per path. */
function walk(target: Target, walked: readonly (keyof typeof sets)[]): void {
  for (const name of walked) {
    const [set, label] = sets[name];
    it(`holds its invariants on ${label}`, async () => {
      for (const path of set) await executePath(model, paths, path, target());
    }, WALK_TIMEOUT_MS);
  }
  it.each(scenarios)('holds its invariants in the scenario: %s', async (_name, path) => {
    await executePath(model, paths, path, target());
  });
}

// The suite describe-model.ts runs, but for the transient state its coverage check cannot tell
// from an unreached one. Every path holds the model's invariants on the machine alone, on the
// machine persisted and restored after every step, and through the persisted actor on the store.
describe(`${model.name} model`, () => {
  it.each([
    ['transition paths', paths.transitions],
    ['definition-cover paths', paths.definition],
  ] as const)('reaches every state and takes every defined transition with the %s', (_label, set) => {
    const result = coverage(model, set);
    expect(result.missingStates).toEqual(TRANSIENT);
    expect(result.missingTransitions).toEqual([]);
  });

  it.each([
    ['transition paths', paths.transitions],
    ['scenarios', scenarios.map(([, path]) => path)],
  ] as const)('passes through the transient replied state both ways with the %s', (_label, set) => {
    expect(repliedBranches(set)).toEqual(new Set(['debouncing', 'idle']));
  });

  // The transition paths (every edge after its state's shortest path) are walked on the machine
  // alone. Restoring after every step round-trips every state the shortest paths reach, and a
  // restored snapshot equal to the one stored decides as the original would, so the slower
  // targets walk the shortest paths, the definition cover (every guard branch) and the scenarios.
  describe('on the machine', () => walk(() => pureTarget(model, { restoreEachStep: false }), ['shortest', 'transitions', 'definition']));
  describe('on the machine, persisted and restored after every step', () => walk(() => pureTarget(model, { restoreEachStep: true }), ['shortest', 'definition']));

  describe('through the runtime', () => {
    let testStore: TestStore | undefined;
    const store = () => {
      if (testStore === undefined) throw new Error('the store is not open');
      return testStore.store;
    };
    beforeAll(async () => {
      testStore = await openTestStore('parley_model_conversation_reply');
    });
    afterAll(async () => {
      await testStore?.dispose();
      testStore = undefined;
    });
    // Every step crosses the store: the transition paths would take tens of seconds here.
    describe.each([
      ['persisted actor on the store', () => persistedActorTarget(model, { ...runtime, store: store(), restoreEachStep: false })],
      ['persisted actor on the store, restored from it after every step', () => persistedActorTarget(model, { ...runtime, store: store(), restoreEachStep: true })],
    ] as const)('on the %s', (_label, target) => walk(target, ['shortestMaximal', 'definition']));
  });
});
