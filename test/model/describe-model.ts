import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import type { AnyStateMachine, EventFromLogic } from 'xstate';
import type { Store } from '../../src/ports/store.port.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { buildPaths, coverage, executePath } from './model-runner.ts';
import type { ModelPaths } from './model-runner.ts';
import type { ContextOf, MachineModel, ModelTarget } from './model-types.ts';
import { pureTarget } from './pure-target.ts';

type Target<M extends AnyStateMachine> = () => ModelTarget<EventFromLogic<M>, ContextOf<M>>;
type PathSet = 'shortest' | 'transitions' | 'definition';

export interface ModelSuite<M extends AnyStateMachine> {
  readonly model: MachineModel<M>;
  /** Targets running through the runtime on the active store, given that store and a driver handle on its database. */
  readonly runtimeTargets: (store: () => Store, db: () => Db) => ReadonlyArray<readonly [string, Target<M>]>;
  /** Path sets the (slower) runtime targets walk. */
  readonly runtimePaths: readonly PathSet[];
  readonly storePrefix: string;
}

// Thousands of paths through the store take tens of seconds on a loaded two-core machine.
const WALK_TIMEOUT_MS = 180_000;

type Walk<M extends AnyStateMachine> = (target: Target<M>, sets: readonly PathSet[]) => void;

function walker<M extends AnyStateMachine>(model: MachineModel<M>, paths: ModelPaths): Walk<M> {
  const labels: Record<PathSet, string> = {
    shortest: `the shortest path to each of ${paths.shortest.length} states`,
    transitions: `all ${paths.transitions.length} transition paths`,
    definition: `the ${paths.definition.length} definition-cover paths`,
  };
  return (target, sets) => {
    for (const set of sets) {
      it(`holds its invariants on ${labels[set]}`, async () => {
        for (const path of paths[set]) await executePath(model, paths, path, target());
      }, WALK_TIMEOUT_MS);
    }
  };
}

/**
 * One suite per machine: the path sets must cover every state and transition; every path holds
 * the model's invariants on the machine alone, on the machine persisted and restored after every
 * step, and through the runtime on the store.
 */
export function describeModel<M extends AnyStateMachine>(suite: ModelSuite<M>): void {
  const { model } = suite;
  const paths = buildPaths(model);
  const walk = walker(model, paths);

  describe(`${model.name} model`, () => {
    it.each([
      ['transition paths', paths.transitions],
      ['definition-cover paths', paths.definition],
    ] as const)('reaches every state and takes every defined transition with the %s', (_label, set) => {
      const result = coverage(model, set);
      expect(result.missingStates).toEqual([]);
      expect(result.missingTransitions).toEqual([]);
    });

    describe.each([
      ['machine', () => pureTarget(model, { restoreEachStep: false })],
      ['machine, persisted and restored after every step', () => pureTarget(model, { restoreEachStep: true })],
    ] as const)('on the %s', (_label, target) => walk(target, ['shortest', 'transitions', 'definition']));

    describeRuntime(suite, walk);
  });
}

/**
 * Walks only the runtime targets, for a path set too slow to share a test file (and so a worker)
 * with the rest of its machine's suite.
 */
export function describeModelOnRuntime<M extends AnyStateMachine>(suite: ModelSuite<M>): void {
  describe(`${suite.model.name} model`, () => describeRuntime(suite, walker(suite.model, buildPaths(suite.model))));
}

function describeRuntime<M extends AnyStateMachine>(suite: ModelSuite<M>, walk: Walk<M>): void {
  let testStore: TestStore | undefined;
  const open = (): TestStore => {
    if (testStore === undefined) throw new Error('the store is not open');
    return testStore;
  };
  // A machine no runtime hosts yet is walked on its own; it needs no store.
  const targets = suite.runtimeTargets(() => open().store, () => open().db);
  if (targets.length === 0) return;
  describe('through the runtime', () => {
    beforeAll(async () => {
      testStore = await openTestStore(suite.storePrefix);
    });
    afterAll(async () => {
      await testStore?.dispose();
      testStore = undefined;
    });
    describe.each(targets)('on the %s', (_label, target) => walk(target, suite.runtimePaths));
  });
}
