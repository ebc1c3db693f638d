import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWireServer } from '../harness.ts';
import { ClientPool } from './client-pool.ts';
import type { Skip } from './skips.ts';
import { parseSpecFile, runSpecTest, SERVER, unmetRequirements, type RunOnRequirement } from './unified-runner.ts';

/** One directory of unified-format files, run against a fresh server with its own skip table. */
export interface SpecSuite {
  /** Printed in the summary line, e.g. "unified CRUD spec". */
  readonly label: string;
  readonly dir: string;
  readonly skips: readonly Skip[];
  /** Where the skip table lives, for the summary line. */
  readonly skipsSource: string;
}

/** Just enough of a file to list its tests without parsing it: files skipped whole may use a newer schema than the runner's. */
interface RawFile {
  readonly runOnRequirements?: readonly RunOnRequirement[];
  readonly tests: readonly { readonly description: string; readonly skipReason?: string; readonly runOnRequirements?: readonly RunOnRequirement[] }[];
}

const matchesFile = (skip: Skip, file: string): boolean => (typeof skip.file === 'string' ? skip.file === file : skip.file.test(file));

/** Declares one `describe` per file of `suite.dir`, one test per unified test, and a check that the skip table has no stale entry. */
export function defineSpecSuite(suite: SpecSuite): void {
  const h = useWireServer();
  const used = new Set<Skip>();
  const tally = { run: 0, passed: 0, notApplicable: 0, skipped: 0 };
  let pool: ClientPool | undefined;

  function tableSkip(file: string, description: string): Skip | undefined {
    const hit = suite.skips.find((s) => matchesFile(s, file) && (s.test === undefined || s.test === description));
    if (hit) used.add(hit);
    return hit;
  }

  /** Why a test is not run, or undefined when it is. Requirements come first: a test a 7.0 would not run is not the store's to skip. */
  function whyNot(file: string, raw: RawFile, test: RawFile['tests'][number]): string | undefined {
    const unmet = test.skipReason ?? unmetRequirements(raw.runOnRequirements) ?? unmetRequirements(test.runOnRequirements);
    if (unmet) {
      tally.notApplicable++;
      return `not applicable: ${unmet}`;
    }
    const skip = tableSkip(file, test.description);
    if (skip) {
      tally.skipped++;
      return `skipped: ${skip.reason}`;
    }
    tally.run++;
    return undefined;
  }

  beforeAll(async () => {
    const info = await h.client.db('admin').command({ buildInfo: 1 });
    expect(info.version).toBe(SERVER.version);
    pool = new ClientPool(h.server.uri);
  });

  afterAll(async () => {
    await pool?.close();
    console.log(
      `${suite.label}: ${tally.passed} of ${tally.run} run passed, ${tally.skipped} skipped by the runner's table (${suite.skipsSource}), ${tally.notApplicable} not applicable to a ${SERVER.topology} ${SERVER.version}`,
    );
  });

  for (const name of readdirSync(suite.dir).filter((f) => f.endsWith('.json')).sort()) {
    const text = readFileSync(join(suite.dir, name), 'utf8');
    const raw = JSON.parse(text) as RawFile;
    // A file the table leaves out whole is never handed to the parser, which refuses schema versions it does not know.
    const wholeFile = suite.skips.some((s) => s.test === undefined && matchesFile(s, name));
    const file = wholeFile ? undefined : parseSpecFile(text);
    describe(name, () => {
      raw.tests.forEach((test, i) => {
        const reason = whyNot(name, raw, test);
        if (reason) {
          it.skip(`${test.description} (${reason})`, () => {});
          return;
        }
        // Only reached for parsed files: a whole-file entry gives every test of its file a reason.
        const parsed = file?.tests[i];
        if (!file || !parsed) throw new Error(`${name}: test ${i} has no parsed form`);
        it(test.description, async () => {
          await runSpecTest(file, parsed, pool as ClientPool, h.client);
          tally.passed++;
        });
      });
    });
  }

  describe('skip table', () => {
    it('has no entry that matches nothing', () => {
      expect(suite.skips.filter((s) => !used.has(s))).toEqual([]);
    });
  });
}
