import { find } from 'mingo';
import { isPlainObject, kindOf, toNumber, type Doc } from './bson-values.ts';
import { CommandError, fail } from './errors.ts';
import { compileFilter, isOperatorObject } from './matcher.ts';
import { splitPath } from './paths.ts';
import { positionalIndex } from './update/positional.ts';

/** Compiled projection: returns a new document, never the stored one mutated. */
export type Projector = (doc: Doc) => Doc;

interface Tree {
  [field: string]: true | Tree;
}

/** Adjusts a projected document after inclusion/exclusion ($slice, $elemMatch, positional `$`). */
type Finisher = (out: Doc, source: Doc) => void;

function addPath(tree: Tree, path: string): void {
  const parts = path.split('.');
  let node = tree;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const next = node[part];
    if (next === true) return;
    if (next === undefined) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1] as string] = true;
}

function include(value: Doc, tree: Tree): Doc {
  const out: Doc = {};
  for (const key of Object.keys(value)) {
    const rule = tree[key];
    if (rule === undefined) continue;
    const v = value[key];
    if (rule === true) out[key] = v;
    else if (isPlainObject(v)) out[key] = include(v, rule);
    else if (Array.isArray(v)) out[key] = includeArray(v, rule);
  }
  return out;
}

function includeArray(arr: unknown[], tree: Tree): unknown[] {
  const out: unknown[] = [];
  for (const el of arr) {
    if (isPlainObject(el)) out.push(include(el, tree));
    else if (Array.isArray(el)) out.push(includeArray(el, tree));
  }
  return out;
}

function exclude(value: Doc, tree: Tree): Doc {
  const out: Doc = {};
  for (const key of Object.keys(value)) {
    const rule = tree[key];
    const v = value[key];
    if (rule === true) continue;
    if (rule === undefined) out[key] = v;
    else if (isPlainObject(v)) out[key] = exclude(v, rule);
    else if (Array.isArray(v)) out[key] = v.map((el) => (isPlainObject(el) ? exclude(el, rule) : el));
    else out[key] = v;
  }
  return out;
}

/** Replaces the value at a (top-level or dotted, non-array) path of the projected output; undefined removes it. */
function rewrite(out: Doc, path: string, fn: (v: unknown) => unknown): void {
  const parts = splitPath(path);
  let node = out;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const child = node[part];
    if (!isPlainObject(child)) return;
    // Sub-documents may still be shared with the stored document: copy before writing.
    const copy = { ...child };
    node[part] = copy;
    node = copy;
  }
  const last = parts[parts.length - 1] as string;
  if (!(last in node)) return;
  const next = fn(node[last]);
  if (next === undefined) delete node[last];
  else node[last] = next;
}

function sliceFinisher(path: string, spec: unknown): Finisher {
  const [skip, limit] = Array.isArray(spec) ? [toNumber(spec[0]), toNumber(spec[1])] : [undefined, toNumber(spec)];
  if (Number.isNaN(limit) || (skip !== undefined && Number.isNaN(skip))) fail('BadValue', '$slice only supports numbers and [skip, limit] arrays');
  return (out) =>
    rewrite(out, path, (v) => {
      if (!Array.isArray(v)) return v;
      if (skip === undefined) return limit >= 0 ? v.slice(0, limit) : v.slice(limit);
      const start = skip < 0 ? Math.max(0, v.length + skip) : skip;
      return v.slice(start, start + limit);
    });
}

function elemMatchFinisher(path: string, spec: unknown): Finisher {
  if (!isPlainObject(spec)) fail('BadValue', '$elemMatch needs an Object');
  const test = isOperatorObject(spec) ? compileFilter({ v: spec }) : compileFilter(spec);
  const matches = isOperatorObject(spec) ? (el: unknown) => test({ v: el }) : (el: unknown) => isPlainObject(el) && test(el);
  return (out, source) => {
    const arr = source[path];
    const hit = Array.isArray(arr) ? arr.find(matches) : undefined;
    if (hit === undefined) delete out[path];
    else out[path] = [hit];
  };
}

function positionalFinisher(path: string, filter: Doc): Finisher {
  return (out, source) => {
    const i = positionalIndex(source, path, filter);
    if (i === undefined) fail('BadValue', 'Executor error during find command :: caused by :: positional operator (' + path + '.$) requires corresponding field in query specifier');
    rewrite(out, path, (v) => (Array.isArray(v) ? [v[i]] : v));
  };
}

function mingoProjector(spec: Doc, filter: Doc | undefined): Projector {
  return (doc) => {
    try {
      return (find([doc], filter ?? {}, spec).all()[0] as Doc | undefined) ?? {};
    } catch (err) {
      throw new CommandError(2, `invalid projection: ${(err as Error).message}`);
    }
  };
}

/**
 * Compiles a find-style projection: inclusion/exclusion (dotted paths too), `$slice`, `$elemMatch`
 * and positional `.$`. Aggregation expressions inside a projection are evaluated by mingo.
 */
export function compileProjection(spec: unknown, filter?: Doc): Projector | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (!isPlainObject(spec)) throw new CommandError(2, 'projection must be an object');
  const entries = Object.entries(spec);
  if (entries.length === 0) return undefined;
  const includes: string[] = [];
  const excludes: string[] = [];
  const neutral: string[] = [];
  const finishers: Finisher[] = [];
  let keepId = true;
  for (const [path, v] of entries) {
    if (typeof v === 'boolean' || kindOf(v) === 'number') {
      const on = typeof v === 'boolean' ? v : toNumber(v) !== 0;
      if (path === '_id') keepId = on;
      else if (path.endsWith('.$')) {
        includes.push(path.slice(0, -2));
        finishers.push(positionalFinisher(path.slice(0, -2), filter ?? {}));
      } else (on ? includes : excludes).push(path);
    } else if (isPlainObject(v) && Object.keys(v).length === 1 && '$slice' in v) {
      neutral.push(path);
      finishers.push(sliceFinisher(path, v.$slice));
    } else if (isPlainObject(v) && Object.keys(v).length === 1 && '$elemMatch' in v && !path.includes('.')) {
      includes.push(path);
      finishers.push(elemMatchFinisher(path, v.$elemMatch));
    } else {
      return mingoProjector(spec, filter);
    }
  }
  if (includes.length > 0 && excludes.length > 0) {
    throw new CommandError(31254, `Cannot do exclusion on field ${excludes[0]} in inclusion projection`);
  }
  const tree: Tree = {};
  let base: Projector;
  if (includes.length > 0) {
    for (const p of [...includes, ...neutral]) addPath(tree, p);
    if (keepId) tree._id = true;
    base = (doc) => include(doc, tree);
  } else {
    for (const p of excludes) addPath(tree, p);
    if (!keepId) tree._id = true;
    base = (doc) => exclude(doc, tree);
  }
  if (finishers.length === 0) return base;
  return (doc) => {
    const out = base(doc);
    for (const finish of finishers) finish(out, doc);
    return out;
  };
}
