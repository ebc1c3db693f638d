import { isPlainObject, type Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';
import { compileFilter, isOperatorObject, type Predicate } from '../matcher.ts';
import { splitPath } from '../paths.ts';
import { getAt } from './doc-paths.ts';

/** Compiled `arrayFilters`: identifier → element test. */
export type ArrayFilters = ReadonlyMap<string, (el: unknown) => boolean>;

/** Compiles `arrayFilters: [{ 'x.field': cond }, ...]` into per-identifier element tests. */
export function compileArrayFilters(spec: unknown): ArrayFilters {
  const out = new Map<string, (el: unknown) => boolean>();
  if (spec === undefined || spec === null) return out;
  if (!Array.isArray(spec)) fail('FailedToParse', 'arrayFilters must be an array');
  for (const filter of spec) {
    if (!isPlainObject(filter)) fail('FailedToParse', 'Each array filter must be an object');
    const ids = new Set(Object.keys(filter).map((k) => k.split('.')[0] as string));
    const [id] = ids;
    if (ids.size !== 1 || id === undefined) fail('FailedToParse', 'Each array filter must use a single top-level field name');
    if (out.has(id)) fail('FailedToParse', `Found multiple array filters with the same top-level field name ${id}`);
    const test = compileFilter(filter);
    out.set(id, (el) => test({ [id]: el }));
  }
  return out;
}

function conditionsOn(filter: Doc, arrayPath: string, out: Predicate[]): void {
  for (const [key, cond] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(cond)) {
      for (const sub of cond) if (isPlainObject(sub)) conditionsOn(sub, arrayPath, out);
    } else if (key === arrayPath) {
      const spec = isOperatorObject(cond) && '$elemMatch' in cond ? cond.$elemMatch : undefined;
      if (isPlainObject(spec) && !isOperatorObject(spec)) {
        const test = compileFilter(spec);
        out.push((wrapper) => isPlainObject(wrapper.v) && test(wrapper.v));
      } else {
        out.push(compileFilter({ v: spec ?? cond }));
      }
    } else if (key.startsWith(`${arrayPath}.`)) {
      const sub = compileFilter({ [key.slice(arrayPath.length + 1)]: cond });
      out.push((wrapper) => isPlainObject(wrapper.v) && sub(wrapper.v));
    }
  }
}

/** Index of the first element of the array at `arrayPath` that the query's conditions on that array select. */
export function positionalIndex(doc: Doc, arrayPath: string, filter: Doc): number | undefined {
  const arr = getAt(doc, splitPath(arrayPath));
  const conds: Predicate[] = [];
  conditionsOn(filter, arrayPath, conds);
  if (!Array.isArray(arr) || conds.length === 0) return undefined;
  const i = arr.findIndex((el) => conds.every((c) => c({ v: el })));
  return i >= 0 ? i : undefined;
}

function matchedIndex(doc: Doc, arrayPath: string, filter: Doc): number {
  return positionalIndex(doc, arrayPath, filter) ?? fail('BadValue', 'The positional operator did not find the match needed from the query.');
}

/**
 * Expands `$`, `$[]` and `$[id]` in an update path into the concrete paths they address in `doc`.
 */
export function expandPositional(doc: Doc, path: string, filter: Doc, arrayFilters: ArrayFilters): (readonly string[])[] {
  const parts = splitPath(path);
  if (!parts.some((p) => p.startsWith('$'))) return [parts];
  const results: string[][] = [];
  const walk = (prefix: string[], i: number): void => {
    if (i === parts.length) {
      results.push(prefix);
      return;
    }
    const part = parts[i] as string;
    if (!part.startsWith('$')) {
      walk([...prefix, part], i + 1);
      return;
    }
    const arrayPath = prefix.join('.');
    if (part === '$') {
      walk([...prefix, String(matchedIndex(doc, arrayPath, filter))], i + 1);
      return;
    }
    const id = /^\$\[(.*)\]$/.exec(part)?.[1];
    if (id === undefined) fail('DollarPrefixedFieldName', `The dollar ($) prefixed field '${part}' in '${path}' is not valid for storage.`);
    const arr = getAt(doc, prefix);
    if (!Array.isArray(arr)) fail('BadValue', `The path '${arrayPath}' must exist in the document in order to apply array updates.`);
    const test = id === '' ? undefined : arrayFilters.get(id);
    if (id !== '' && test === undefined) fail('BadValue', `No array filter found for identifier '${id}' in path '${path}'`);
    arr.forEach((el, idx) => {
      if (test === undefined || test(el)) walk([...prefix, String(idx)], i + 1);
    });
  };
  walk([], 0);
  return results;
}
