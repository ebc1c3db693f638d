import { ObjectId } from 'bson';
import { aggregate } from 'mingo';
import { formatValue } from '../bson-format.ts';
import { cloneDeep, isPlainObject, valuesEqual, type Doc } from '../bson-values.ts';
import { CommandError, fail } from '../errors.ts';
import { isOperatorObject } from '../matcher.ts';
import { isIndexPart } from '../paths.ts';
import { setAt } from './doc-paths.ts';
import { FIELD_OPS } from './field-ops.ts';
import type { UpdateSpec } from './parse.ts';
import { expandPositional, type ArrayFilters } from './positional.ts';

/** Inputs that shape how an update applies to one document. */
export interface ApplyContext {
  /** The statement's query, for the positional `$` operator. */
  readonly filter: Doc;
  readonly arrayFilters: ArrayFilters;
  /** True when building an upserted document ($setOnInsert applies). */
  readonly isInsert: boolean;
}

/** Returns `doc` with `_id` as its first field, as the server stores documents. */
export function withIdFirst(doc: Doc): Doc {
  const keys = Object.keys(doc);
  if (keys[0] === '_id' || !('_id' in doc)) return doc;
  const { _id, ...rest } = doc;
  return { _id, ...rest };
}

function idAltered(before: Doc, after: Doc, message: string): void {
  if (before._id === undefined) return;
  if (after._id === undefined || !valuesEqual(before._id, after._id)) {
    fail('ImmutableField', message.replace('%v', formatValue(after._id)));
  }
}

/**
 * Copies each existing container on the way to the last component of `parts` that this update has
 * not copied yet, so the update writes only into its own objects. Untouched subtrees stay shared
 * with the stored original, which is never mutated: a snapshot-sized field replaced by `$set` is
 * then not deep-copied only to be thrown away.
 */
function ownPath(doc: Doc, parts: readonly string[], owned: WeakSet<object>): void {
  let cur: Doc | unknown[] = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const child: unknown = Array.isArray(cur) ? (isIndexPart(part) ? cur[Number(part)] : undefined) : cur[part];
    if (!Array.isArray(child) && !isPlainObject(child)) return;
    let copy = child;
    if (!owned.has(child)) {
      copy = Array.isArray(child) ? child.slice() : { ...child };
      owned.add(copy);
      if (Array.isArray(cur)) cur[Number(part)] = copy;
      else cur[part] = copy;
    }
    cur = copy;
  }
}

function applyOperators(original: Doc, spec: Extract<UpdateSpec, { kind: 'operators' }>, ctx: ApplyContext): Doc {
  const doc = { ...original };
  const owned = new WeakSet<object>([doc]);
  const opCtx = { isInsert: ctx.isInsert, id: original._id, now: new Date() };
  for (const { op, path, arg } of spec.entries) {
    if (op === '$setOnInsert' && !ctx.isInsert) continue;
    const fn = FIELD_OPS[op];
    if (fn === undefined) fail('FailedToParse', `Unknown modifier: ${op}`);
    for (const parts of expandPositional(doc, path, ctx.filter, ctx.arrayFilters)) {
      ownPath(doc, parts, owned);
      if (op === '$rename') ownPath(doc, (arg as string).split('.'), owned);
      fn(doc, parts, arg, opCtx);
    }
  }
  idAltered(original, doc, "Performing an update on the path '_id' would modify the immutable field '_id'");
  return doc;
}

function applyPipeline(original: Doc, stages: readonly Doc[]): Doc {
  let out: unknown;
  try {
    out = aggregate([cloneDeep(original)], stages as Doc[])[0];
  } catch (err) {
    throw new CommandError(2, `update pipeline failed: ${(err as Error).message}`);
  }
  if (!isPlainObject(out)) fail('BadValue', 'update pipeline must produce a document');
  // A pipeline that drops `_id` (e.g. `$replaceRoot`) keeps the original one, as mongod does.
  if (out._id === undefined && original._id !== undefined) return { _id: original._id, ...out };
  idAltered(original, out, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: %v");
  return withIdFirst(out);
}

/** Produces the updated copy of `original`; the stored document itself is never touched. */
export function applyUpdate(original: Doc, spec: UpdateSpec, ctx: ApplyContext): Doc {
  switch (spec.kind) {
    case 'operators':
      return applyOperators(original, spec, ctx);
    case 'pipeline':
      return applyPipeline(original, spec.stages);
    case 'replacement': {
      const next = cloneDeep(spec.doc);
      if (next._id !== undefined) {
        idAltered(original, next, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: %v");
        return withIdFirst(next);
      }
      return original._id === undefined ? next : { _id: original._id, ...next };
    }
  }
}

function seedInto(filter: Doc, out: Doc): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const clause of value) if (isPlainObject(clause)) seedInto(clause, out);
      continue;
    }
    if (key.startsWith('$') || value instanceof RegExp) continue;
    let seed: unknown = value;
    if (isOperatorObject(value)) {
      if (!('$eq' in value)) continue;
      seed = value.$eq;
    }
    try {
      setAt(out, key.split('.'), cloneDeep(seed));
    } catch {
      // Equality fields that cannot coexist in one document are simply not seeded.
    }
  }
}

/** The document an upsert starts from: the query's equality conditions (dotted paths and `_id` included). */
export function seedFromFilter(filter: Doc): Doc {
  const out: Doc = {};
  seedInto(filter, out);
  return withIdFirst(out);
}

/** The document an upsert inserts: query equality fields, then the update with `$setOnInsert`, then an `_id`. */
export function buildUpsertDoc(filter: Doc, spec: UpdateSpec, arrayFilters: ArrayFilters): Doc {
  const doc = applyUpdate(seedFromFilter(filter), spec, { filter, arrayFilters, isInsert: true });
  return doc._id === undefined ? { _id: new ObjectId(), ...doc } : withIdFirst(doc);
}
