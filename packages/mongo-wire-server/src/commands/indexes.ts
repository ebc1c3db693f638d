import { formatValue } from '../bson-format.ts';
import { compareValues, isPlainObject, kindOf, type Doc } from '../bson-values.ts';
import type { Collection } from '../collection.ts';
import { CommandError, ErrorCodes, fail } from '../errors.ts';
import { validateIndexSpec } from '../index-spec.ts';
import type { IndexSpec } from '../unique-index.ts';
import { collectionName, intOption, type CommandHandler } from './context.ts';
import { cursorReply } from './find.ts';

const INDEX_TYPES = new Set(['text', '2d', '2dsphere', 'hashed', 'geoHaystack']);
const IGNORED_OPTIONS = new Set(['v', 'key', 'name', 'ns', 'background']);

function normalizeSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw)) fail('BadValue', 'index specification must be an object');
  validateIndexSpec(raw);
  const key = raw.key;
  if (!isPlainObject(key) || Object.keys(key).length === 0) fail('CannotCreateIndex', 'Index keys cannot be empty.');
  for (const [field, dir] of Object.entries(key)) {
    const ok = (kindOf(dir) === 'number' && Number(dir) !== 0) || (typeof dir === 'string' && INDEX_TYPES.has(dir));
    if (!ok) fail('CannotCreateIndex', `Values in the index key pattern can only be numbers or strings; bad value for ${field}: ${formatValue(dir)}`);
  }
  if (typeof raw.name !== 'string' || raw.name.length === 0) fail('BadValue', "The 'name' field is a required property of an index specification");
  const spec: IndexSpec = { v: 2, key, name: raw.name };
  for (const [option, value] of Object.entries(raw)) {
    if (IGNORED_OPTIONS.has(option)) continue;
    if ((option === 'unique' || option === 'sparse') && !value) continue;
    spec[option] = option === 'unique' || option === 'sparse' ? true : value;
  }
  return spec;
}

function optionsOf(spec: IndexSpec): Doc {
  const { v: _v, key: _key, name: _name, ...options } = spec;
  return options;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === undefined || b === undefined ? a === b : compareValues(a, b) === 0;
}

function show(spec: IndexSpec): string {
  return formatValue(spec);
}

/** Whether `spec` already exists (true), is new (false), or conflicts (throws 85/86 like mongod). */
function alreadyExists(coll: Collection, spec: IndexSpec): boolean {
  for (const existing of coll.indexes()) {
    const sameKey = compareValues(existing.key, spec.key) === 0;
    const sameOptions = existing.name === '_id_' || compareValues(optionsOf(existing), optionsOf(spec)) === 0;
    if (existing.name === spec.name) {
      if (!sameKey) {
        fail('IndexKeySpecsConflict', `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${show(spec)}, existing index: ${show(existing)}`);
      }
      if (!sameOptions) {
        fail('IndexOptionsConflict', `An equivalent index already exists with the same name but different options. Requested index: ${show(spec)}, existing index: ${show(existing)}`);
      }
      return true;
    }
    // Indexes on one key pattern may coexist when their partial filters or collations differ.
    if (sameKey && sameValue(existing.partialFilterExpression, spec.partialFilterExpression) && sameValue(existing.collation, spec.collation)) {
      if (sameOptions) fail('IndexOptionsConflict', `Index already exists with a different name: ${existing.name}`);
      fail('IndexOptionsConflict', `An equivalent index already exists with a different name and options. Requested index: ${show(spec)}, existing index: ${show(existing)}`);
    }
  }
  return false;
}

const createIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'createIndexes');
  if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) fail('BadValue', 'Must specify at least one index to create');
  const specs = cmd.indexes.map(normalizeSpec);
  const { coll, created } = ctx.store.ensure(ctx.db, name);
  const numIndexesBefore = coll.indexes().length;
  let added = 0;
  for (const spec of specs) {
    if (alreadyExists(coll, spec)) continue;
    coll.addIndex(spec);
    added++;
  }
  return {
    numIndexesBefore,
    numIndexesAfter: coll.indexes().length,
    createdCollectionAutomatically: created,
    ...(added === 0 ? { note: 'all indexes already exist' } : {}),
    ok: 1,
  };
};

const listIndexes: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'listIndexes');
  const coll = ctx.store.get(ctx.db, name);
  if (!coll) fail('NamespaceNotFound', `ns does not exist: ${ctx.db}.${name}`);
  const ns = `${ctx.db}.$cmd.listIndexes.${name}`;
  const batchSize = isPlainObject(cmd.cursor) ? intOption(cmd.cursor, 'batchSize', 101) : 101;
  return cursorReply(ns, ctx.cursors.open(ns, coll.indexes().map((s) => ({ ...s })), undefined, batchSize));
};

function resolveTargets(coll: Collection, index: unknown): string[] {
  const specs = coll.indexes();
  if (index === '*') return specs.filter((s) => s.name !== '_id_').map((s) => s.name);
  const names = Array.isArray(index) ? index : [index];
  return names.map((entry) => {
    if (isPlainObject(entry)) {
      const found = specs.find((s) => compareValues(s.key, entry) === 0);
      if (!found) fail('IndexNotFound', `can't find index with key: ${formatValue(entry)}`);
      return found.name;
    }
    if (typeof entry !== 'string') fail('TypeMismatch', 'dropIndexes index must be a string, a key pattern or an array of names');
    if (!specs.some((s) => s.name === entry)) fail('IndexNotFound', `index not found with name [${entry}]`);
    return entry;
  });
}

const dropIndexes =
  (command: string): CommandHandler =>
  (cmd, ctx) => {
    const name = collectionName(cmd, command);
    const coll = ctx.store.get(ctx.db, name);
    if (!coll) fail('NamespaceNotFound', `ns not found ${ctx.db}.${name}`);
    const nIndexesWas = coll.indexes().length;
    const targets = resolveTargets(coll, cmd.index);
    if (targets.includes('_id_')) throw new CommandError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    for (const target of targets) coll.dropIndex(target);
    return { nIndexesWas, ...(cmd.index === '*' ? { msg: 'non-_id indexes dropped for collection' } : {}), ok: 1 };
  };

/** Index management commands. */
export const INDEX_COMMANDS: Record<string, CommandHandler> = {
  createIndexes,
  listIndexes,
  dropIndexes: dropIndexes('dropIndexes'),
  deleteIndexes: dropIndexes('deleteIndexes'),
};
