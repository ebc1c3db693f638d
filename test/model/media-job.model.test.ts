import { describe, expect, it } from 'vitest';
import { mediaJobModel } from './media-job.model.ts';
import { buildPaths, coverage, executePath } from './model-runner.ts';
import { pureTarget } from './pure-target.ts';

const model = mediaJobModel;
const paths = buildPaths(model);
const targets = [
  ['machine', () => pureTarget(model, { restoreEachStep: false })],
  ['machine, persisted and restored after every step', () => pureTarget(model, { restoreEachStep: true })],
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
});
