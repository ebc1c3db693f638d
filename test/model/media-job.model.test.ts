import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { mediaJobHostTarget } from './job-runtime-target.ts';
import { mediaJobModel } from './media-job.model.ts';
import { buildPaths, coverage, executePath } from './model-runner.ts';
import { pureTarget } from './pure-target.ts';

const model = mediaJobModel;
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
const runtimeTargets = [
  ['media-job host on the store, which reloads the stored job for every step', () => mediaJobHostTarget(model, { store: store() })],
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

  // Every step crosses the store; the 955 transition paths (6,605 steps) take about 6 to 8 s.
  describe('through the runtime', () => {
    beforeAll(async () => {
      testStore = await openTestStore('parley_model_media_job');
    });
    afterAll(async () => {
      await testStore?.dispose();
      testStore = undefined;
    });

    describe.each(runtimeTargets)('on the %s', (_label, target) => {
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
  });
});
