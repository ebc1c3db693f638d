import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { OFFICIAL_SKIPS } from './skips.ts';
import { defineSpecSuite } from './spec-suite.ts';

/**
 * MongoDB's own unified-format CRUD tests, read from a checkout of github.com/mongodb/specifications.
 * They are licensed CC BY-NC-SA 3.0 US, which an MIT repository cannot carry, so they are not
 * vendored: the checkout is named by MONGODB_SPECIFICATIONS_DIR. `cases/` holds this package's own
 * tests in the same format, which always run.
 */
const root = process.env.MONGODB_SPECIFICATIONS_DIR;
const SPEC_DIR = 'source/crud/tests/unified';

const NOT_SET =
  'not run: MONGODB_SPECIFICATIONS_DIR is not set (git clone https://github.com/mongodb/specifications, then MONGODB_SPECIFICATIONS_DIR=<checkout> npm run test:spec -w @parley/mongo-wire-server)';

if (!root) {
  // The default reporter shows a skipped file only as a count, so the reason is printed as well.
  console.log(`MongoDB unified CRUD spec tests ${NOT_SET}`);
  describe.skip('MongoDB unified CRUD spec tests', () => {
    it(NOT_SET, () => {});
  });
} else {
  const dir = join(resolve(root), SPEC_DIR);
  // A variable that is set but wrong is a mistake to report, not a reason to skip quietly.
  if (!existsSync(dir)) throw new Error(`MONGODB_SPECIFICATIONS_DIR=${root} has no ${SPEC_DIR}: it must name the root of a mongodb/specifications checkout`);
  defineSpecSuite({ label: 'unified CRUD spec', dir, skips: OFFICIAL_SKIPS, skipsSource: 'test/spec/skips.ts, OFFICIAL_SKIPS' });
}
