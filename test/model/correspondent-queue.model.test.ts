import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORRESPONDENT_QUEUE_MACHINE_VERSION } from '../../machines/correspondent-queue.machine.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { correspondentQueueModel } from './correspondent-queue.model.ts';
import { buildPaths, coverage, executePath } from './model-runner.ts';
import { pureTarget } from './pure-target.ts';
import { persistedActorTarget } from './runtime-target.ts';

const model = correspondentQueueModel;
const paths = buildPaths(model);
const targets = [
  ['machine', () => pureTarget(model, { restoreEachStep: false })],
  ['machine, persisted and restored after every step', () => pureTarget(model, { restoreEachStep: true })],
] as const;

let testStore: TestStore | undefined;
const store = () => {
  if (testStore === undefined) throw new Error('the store is not open');
  return testStore.store;
};
const runtime = { kind: 'correspondent-queue', machineVersion: CORRESPONDENT_QUEUE_MACHINE_VERSION } as const;
const runtimeTargets = [
  ['persisted actor on the store', () => persistedActorTarget(model, { ...runtime, store: store(), restoreEachStep: false })],
  ['persisted actor on the store, restored from it after every step', () => persistedActorTarget(model, { ...runtime, store: store(), restoreEachStep: true })],
] as const;

describe(`${model.name} model`, () => {
  it.each([
    ['transition paths', paths.transitions],
    ['definition-cover paths', paths.definition],
  ] as const)('reaches every state and takes every defined transition with the %s', (_label, set) => {
    const result = coverage(model, set);
    expect(result.missingStates).toEqual([]);
    expect(result.missingTransitions).toEqual([]);
  });

  describe.each(targets)('on the %s', (_label, target) => {
    it(`holds its invariants on the shortest path to each of ${paths.shortest.length} states`, async () => {
      for (const path of paths.shortest) await executePath(model, paths, path, target());
    });

    it(`holds its invariants on all ${paths.transitions.length} transition paths`, async () => {
      for (const path of paths.transitions) await executePath(model, paths, path, target());
    });

    it(`holds its invariants on the ${paths.definition.length} definition-cover paths`, async () => {
      for (const path of paths.definition) await executePath(model, paths, path, target());
    });
  });

  // Every step crosses the store, so the runtime targets take the shortest and definition-cover
  // paths: the 2589 transition paths (13,711 steps) take about 13 s per target.
  describe('through the runtime', () => {
    beforeAll(async () => {
      testStore = await openTestStore('parley_model_queue');
    });
    afterAll(async () => {
      await testStore?.dispose();
      testStore = undefined;
    });

    describe.each(runtimeTargets)('on the %s', (_label, target) => {
      it(`holds its invariants on the shortest path to each of ${paths.shortest.length} states`, async () => {
        for (const path of paths.shortest) await executePath(model, paths, path, target());
      });

      it(`holds its invariants on the ${paths.definition.length} definition-cover paths`, async () => {
        for (const path of paths.definition) await executePath(model, paths, path, target());
      });
    });
  });
});
