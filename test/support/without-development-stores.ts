import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Preloaded (`node --import`) to run Parley as a production install (`npm ci --omit=dev`) would: the
 * development stores are resolved from a directory with no node_modules, so Node reports them
 * missing with the very error it gives when they were never installed.
 */
const omitted = new Set(['@parley/mongo-wire-server', 'mongodb-memory-server-core']);
const nowhere = pathToFileURL(path.join(tmpdir(), 'parley-without-development-stores', 'main.js')).href;

registerHooks({
  resolve: (specifier, context, nextResolve) => nextResolve(specifier, omitted.has(specifier) ? { ...context, parentURL: nowhere } : context),
});
