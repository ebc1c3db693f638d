import { Query } from 'mingo';
import { Query as ScopedQuery } from 'mingo/query';
import type { Options as MingoOptions } from 'mingo/types';
import { isPlainObject, kindOf, toNumber, type Doc } from './bson-values.ts';
import { CommandError, fail } from './errors.ts';
import { comparisonLeaf, equalsLeaf, expand, inLeaf, modLeaf, toRegExp, typeLeaf, type Leaf } from './matcher-leaf.ts';
import { isIndexPart, splitPath } from './paths.ts';

/** Compiled query filter. */
export type Predicate = (doc: Doc) => boolean;

const matchAll: Predicate = () => true;

/** True for `{ $op: ... }` documents (the server decides by the first field name). */
export function isOperatorObject(v: unknown): v is Doc {
  if (!isPlainObject(v)) return false;
  for (const k in v) return k.startsWith('$');
  return false;
}

function someAt(value: unknown, parts: readonly string[], i: number, leaf: Leaf): boolean {
  if (i === parts.length) return leaf(value);
  const part = parts[i] as string;
  if (Array.isArray(value)) {
    if (isIndexPart(part) && someAt(value[Number(part)], parts, i + 1, leaf)) return true;
    let sawObject = false;
    for (const el of value) {
      if (!isPlainObject(el)) continue;
      sawObject = true;
      if (someAt(el[part], parts, i + 1, leaf)) return true;
    }
    // An array holding no sub-documents has no such field: behave as if the path were missing.
    return sawObject || isIndexPart(part) ? false : someAt(undefined, parts, parts.length, leaf);
  }
  return someAt(isPlainObject(value) ? value[part] : undefined, parts, i + 1, leaf);
}

/** Predicate true when any value reached through `path` satisfies `leaf`. */
function atPath(path: string, leaf: Leaf): Predicate {
  const parts = splitPath(path);
  if (parts.length === 1) {
    const field = parts[0] as string;
    return (doc) => leaf(doc[field]);
  }
  return (doc) => someAt(doc, parts, 0, leaf);
}

function elemMatchLeaf(spec: unknown): Leaf {
  if (!isPlainObject(spec)) fail('BadValue', '$elemMatch needs an Object');
  const logical = Object.keys(spec).some((k) => k === '$and' || k === '$or' || k === '$nor');
  if (isOperatorObject(spec) && !logical) {
    const test = compileField('v', spec);
    return (v) => Array.isArray(v) && v.some((el) => test({ v: el }));
  }
  const test = compileFilter(spec);
  return (v) => Array.isArray(v) && v.some((el) => isPlainObject(el) && test(el));
}

function allPredicate(path: string, spec: unknown): Predicate {
  if (!Array.isArray(spec)) fail('BadValue', '$all needs an array');
  if (spec.length === 0) return () => false;
  const parts = spec.map((item) =>
    isPlainObject(item) && '$elemMatch' in item ? atPath(path, elemMatchLeaf(item.$elemMatch)) : atPath(path, expand(equalsLeaf(item))),
  );
  return (doc) => parts.every((p) => p(doc));
}

function sizeLeaf(spec: unknown): Leaf {
  const n = toNumber(spec);
  if (kindOf(spec) !== 'number' || !Number.isInteger(n) || n < 0) fail('BadValue', '$size needs a non-negative integer');
  return (v) => Array.isArray(v) && v.length === n;
}

function operatorPredicate(path: string, op: string, arg: unknown, ops: Doc): Predicate | undefined {
  switch (op) {
    case '$eq':
      return atPath(path, expand(equalsLeaf(arg)));
    case '$ne': {
      const eq = atPath(path, expand(equalsLeaf(arg)));
      return (doc) => !eq(doc);
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      return atPath(path, expand(comparisonLeaf(op, arg)));
    case '$in':
      return atPath(path, expand(inLeaf(arg)));
    case '$nin': {
      const inp = atPath(path, expand(inLeaf(arg)));
      return (doc) => !inp(doc);
    }
    case '$exists': {
      const exists = atPath(path, (v) => v !== undefined);
      return arg ? exists : (doc) => !exists(doc);
    }
    case '$type':
      return atPath(path, expand(typeLeaf(arg)));
    case '$regex': {
      const re = toRegExp(arg, ops.$options);
      return atPath(path, expand((v) => typeof v === 'string' && re.test(v)));
    }
    case '$options':
      if (!('$regex' in ops)) fail('BadValue', '$options needs a $regex');
      return undefined;
    case '$mod':
      return atPath(path, expand(modLeaf(arg)));
    case '$size':
      return atPath(path, sizeLeaf(arg));
    case '$all':
      return allPredicate(path, arg);
    case '$elemMatch':
      return atPath(path, elemMatchLeaf(arg));
    case '$not': {
      if (!(arg instanceof RegExp) && !isOperatorObject(arg)) fail('BadValue', '$not needs a regex or a document');
      const inner = compileField(path, arg);
      return (doc) => !inner(doc);
    }
    case '$comment':
      return undefined;
    default:
      fail('BadValue', `unknown operator: ${op}`);
  }
}

function compileField(path: string, spec: unknown): Predicate {
  if (path.startsWith('$')) fail('BadValue', `unknown top level operator: ${path}`);
  if (!isOperatorObject(spec)) return atPath(path, expand(equalsLeaf(spec)));
  const preds: Predicate[] = [];
  for (const [op, arg] of Object.entries(spec)) {
    const p = operatorPredicate(path, op, arg, spec);
    if (p) preds.push(p);
  }
  return combine(preds);
}

function combine(preds: Predicate[]): Predicate {
  if (preds.length === 0) return matchAll;
  if (preds.length === 1) return preds[0] as Predicate;
  return (doc) => {
    for (const p of preds) if (!p(doc)) return false;
    return true;
  };
}

function logicalPredicate(op: string, arg: unknown, scope: MingoOptions | undefined): Predicate {
  if (!Array.isArray(arg) || arg.length === 0) fail('BadValue', `${op} must be a nonempty array`);
  const subs = arg.map((clause) => {
    if (!isPlainObject(clause)) fail('BadValue', `${op} argument's entries must be objects`);
    return compileFilter(clause, scope);
  });
  if (op === '$and') return combine(subs);
  if (op === '$or') return (doc) => subs.some((p) => p(doc));
  return (doc) => !subs.some((p) => p(doc));
}

function exprPredicate(expr: unknown, scope: MingoOptions | undefined): Predicate {
  try {
    // Inside a pipeline, mingo's own options carry `let` variables ($$name) and the operator context.
    const query = scope ? new ScopedQuery({ $expr: expr }, scope) : new Query({ $expr: expr });
    return (doc) => query.test(doc);
  } catch (err) {
    throw new CommandError(2, `invalid $expr: ${(err as Error).message}`);
  }
}

/**
 * Compiles a MongoDB query filter into a predicate with the server's semantics: type-bracketed
 * comparisons, numeric equality across int/long/double/decimal, null matching missing fields,
 * implicit traversal of arrays along dotted paths. `scope` is the pipeline's mingo options when the
 * filter is a `$match` stage (so `$expr` sees `let` variables).
 */
export function compileFilter(filter: unknown, scope?: MingoOptions): Predicate {
  if (filter === undefined || filter === null) return matchAll;
  if (!isPlainObject(filter)) fail('BadValue', 'filter must be an object');
  const preds: Predicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case '$and':
      case '$or':
      case '$nor':
        preds.push(logicalPredicate(key, value, scope));
        break;
      case '$expr':
        preds.push(exprPredicate(value, scope));
        break;
      case '$comment':
        break;
      case '$where':
        fail('NotImplemented', '$where is not supported by this server');
        break;
      case '$text':
        fail('IndexNotFound', 'text index required for $text query');
        break;
      default:
        if (key.startsWith('$')) {
          fail('BadValue', `unknown top level operator: ${key}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
        }
        preds.push(compileField(key, value));
    }
  }
  return combine(preds);
}

/** `_id` values a filter pins down by equality or `$in` (so the lookup map can be used instead of a scan). */
export function idCandidates(filter: unknown): unknown[] | undefined {
  if (!isPlainObject(filter) || !('_id' in filter)) return undefined;
  const spec = filter._id;
  if (spec instanceof RegExp || kindOf(spec) === 'regex') return undefined;
  if (!isOperatorObject(spec)) return [spec];
  const keys = Object.keys(spec);
  if ('$eq' in spec && !(spec.$eq instanceof RegExp) && !isOperatorObject(spec.$eq)) return [spec.$eq];
  if (keys.length === 1 && Array.isArray(spec.$in) && spec.$in.every((v) => !(v instanceof RegExp) && kindOf(v) !== 'regex')) {
    return spec.$in;
  }
  return undefined;
}
