import { fileURLToPath } from 'node:url';
import { CASE_SKIPS } from './skips.ts';
import { defineSpecSuite } from './spec-suite.ts';

/**
 * This package's own unified-format tests (`cases/*.json`): every feature the README claims, with
 * the results MongoDB 7.0 gives. Unlike MongoDB's files they ship with the repository, so the
 * store is held to the format on every run.
 */
defineSpecSuite({
  label: 'unified-format cases',
  dir: fileURLToPath(new URL('./cases/', import.meta.url)),
  skips: CASE_SKIPS,
  skipsSource: 'test/spec/skips.ts, CASE_SKIPS',
});
