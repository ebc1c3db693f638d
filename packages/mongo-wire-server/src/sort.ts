import { compareValues, isPlainObject, kindOf, toNumber, type Doc } from './bson-values.ts';
import { fail } from './errors.ts';
import { collectLeaves, splitPath } from './paths.ts';

interface SortKey {
  readonly parts: readonly string[];
  readonly field: string | undefined;
  readonly dir: 1 | -1;
}

/** Compiled sort specification. */
export interface Sorter {
  /** Sorts a copy of `docs` (stable: ties keep their input order). */
  sort(docs: readonly Doc[]): Doc[];
  /** First document in sort order among those accepted, or undefined; a single pass, no full sort. */
  first(docs: Iterable<Doc>, accept: (doc: Doc) => boolean): Doc | undefined;
  /** The `k` first accepted documents in sort order (stable), keeping only `k` candidates at a time. */
  top(docs: Iterable<Doc>, accept: (doc: Doc) => boolean, k: number): Doc[];
  /** Comparator for two documents. */
  compare(a: Doc, b: Doc): number;
}

/** Parses `{field: 1 | -1, ...}`; returns undefined for an empty or absent spec. */
export function compileSort(spec: unknown): Sorter | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (!isPlainObject(spec)) fail('BadValue', 'sort must be an object');
  const keys: SortKey[] = [];
  for (const [path, raw] of Object.entries(spec)) {
    if (isPlainObject(raw)) fail('BadValue', `$meta sort by ${String(raw.$meta)} is not supported`);
    const n = kindOf(raw) === 'number' ? toNumber(raw) : Number.NaN;
    if (n !== 1 && n !== -1) fail('BadValue', `Illegal key in $sort specification: ${path}: ${String(raw)}`);
    const parts = splitPath(path);
    keys.push({ parts, field: parts.length === 1 ? parts[0] : undefined, dir: n });
  }
  if (keys.length === 0) return undefined;
  return makeSorter(keys);
}

function keyValue(doc: Doc, key: SortKey): unknown {
  if (key.field !== undefined) {
    const v = doc[key.field];
    if (!Array.isArray(v)) return v;
  }
  // Arrays sort by their smallest element ascending and their largest descending.
  const leaves = collectLeaves(doc, key.parts);
  if (leaves.length === 0) return undefined;
  let best = leaves[0];
  for (let i = 1; i < leaves.length; i++) {
    const c = compareValues(leaves[i], best);
    if (key.dir === 1 ? c < 0 : c > 0) best = leaves[i];
  }
  return best;
}

function firstBySingleKey(docs: Iterable<Doc>, accept: (doc: Doc) => boolean, key: SortKey): Doc | undefined {
  let best: Doc | undefined;
  let bestValue: unknown;
  for (const doc of docs) {
    if (!accept(doc)) continue;
    const v = keyValue(doc, key);
    if (best === undefined || compareValues(v, bestValue) * key.dir < 0) {
      best = doc;
      bestValue = v;
    }
  }
  return best;
}

function makeSorter(keys: SortKey[]): Sorter {
  const compareKeys = (a: unknown[], b: unknown[]): number => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c * (keys[i] as SortKey).dir;
    }
    return 0;
  };
  const extract = (doc: Doc): unknown[] => keys.map((k) => keyValue(doc, k));
  return {
    sort(docs) {
      const decorated = docs.map((doc) => ({ doc, key: extract(doc) }));
      decorated.sort((a, b) => compareKeys(a.key, b.key));
      return decorated.map((d) => d.doc);
    },
    first(docs, accept) {
      if (keys.length === 1) return firstBySingleKey(docs, accept, keys[0] as SortKey);
      let best: Doc | undefined;
      let bestKey: unknown[] = [];
      for (const doc of docs) {
        if (!accept(doc)) continue;
        const key = extract(doc);
        if (best === undefined || compareKeys(key, bestKey) < 0) {
          best = doc;
          bestKey = key;
        }
      }
      return best;
    },
    top(docs, accept, k) {
      const best: { doc: Doc; key: unknown[] }[] = [];
      for (const doc of docs) {
        if (!accept(doc)) continue;
        const key = extract(doc);
        const last = best[best.length - 1];
        if (best.length === k && last && compareKeys(key, last.key) >= 0) continue;
        // Upper bound: equal keys go after existing ones, which keeps the selection stable.
        let lo = 0;
        let hi = best.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (compareKeys(key, (best[mid] as { key: unknown[] }).key) < 0) hi = mid;
          else lo = mid + 1;
        }
        best.splice(lo, 0, { doc, key });
        if (best.length > k) best.pop();
      }
      return best.map((b) => b.doc);
    },
    compare(a, b) {
      return compareKeys(extract(a), extract(b));
    },
  };
}
