import { isPlainObject, kindOf, type Doc } from './bson-values.ts';
import type { Collection } from './collection.ts';
import { isOperatorObject } from './matcher.ts';
import { indexKey, type FieldIndex } from './secondary-index.ts';
import type { IndexSpec } from './unique-index.ts';

/** A condition only documents found under one of `keys` at `path` can satisfy. */
interface FieldLookup {
  readonly path: string;
  readonly keys: readonly string[];
}

/** Candidates taken from an index instead of a scan, in natural order. */
export interface IndexPlan {
  readonly spec: IndexSpec;
  readonly docs: Doc[];
}

const isRegex = (v: unknown): boolean => v instanceof RegExp || kindOf(v) === 'regex';

/** Keys for `{f: v}`, `{f: {$eq: v}}` or `{f: {$in: [...]}}`; a regex matches strings no key names. */
function conditionKeys(cond: unknown): string[] | undefined {
  if (isRegex(cond)) return undefined;
  if (!isOperatorObject(cond)) return [indexKey(cond)];
  // Every operator on a field must hold, so one equality or $in among them narrows on its own.
  if ('$eq' in cond && !isRegex(cond.$eq)) return [indexKey(cond.$eq)];
  const list = cond.$in;
  if (Array.isArray(list) && !list.some(isRegex)) return [...new Set(list.map(indexKey))];
  return undefined;
}

/** Equality-style conditions at the top level of `filter` and inside its (nested) top-level `$and`. */
function lookupsOf(filter: unknown, out: FieldLookup[]): FieldLookup[] {
  if (!isPlainObject(filter)) return out;
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and') {
      if (Array.isArray(value)) for (const clause of value) lookupsOf(clause, out);
    } else if (!key.startsWith('$')) {
      const keys = conditionKeys(value);
      if (keys !== undefined) out.push({ path: key, keys });
    }
  }
  return out;
}

/**
 * Picks the index whose lookup yields the fewest candidates for `filter`, or none when no index
 * leads with a field the filter pins down, or the best one would hand over half the collection or
 * more (a scan is then as cheap, and needs no reordering). The caller still applies the whole filter.
 */
export function planLookup(coll: Collection, filter: unknown): IndexPlan | undefined {
  let best: { spec: IndexSpec; lookup: FieldLookup; field: FieldIndex } | undefined;
  let bestCount = coll.size / 2;
  for (const lookup of lookupsOf(filter, [])) {
    const found = coll.lookups.lookup(lookup.path);
    if (found === undefined) continue;
    let count = 0;
    for (const key of lookup.keys) count += found.field.count(key);
    if (count < bestCount) {
      best = { spec: found.spec, lookup, field: found.field };
      bestCount = count;
    }
  }
  if (best === undefined) return undefined;
  const idKeys = new Set<string>();
  for (const key of best.lookup.keys) best.field.collect(key, idKeys);
  return { spec: best.spec, docs: coll.byIdKeys(idKeys) };
}
