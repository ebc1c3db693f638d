import { canonicalKey } from './bson-format.ts';
import { isPlainObject, kindOf, toNumber, type Doc } from './bson-values.ts';
import { isIndexPart, splitPath } from './paths.ts';
import type { IndexSpec } from './unique-index.ts';

/**
 * Lookup key of a value: equal for any two values the matcher may find equal, by `$eq` (which
 * compares numbers as doubles) or by `$in` (which compares canonical keys). Numbers therefore key by
 * their double value; Longs beyond 2^53 share a key with their neighbours, which only widens a
 * candidate set: the full filter still runs on every candidate.
 */
export function indexKey(v: unknown): string {
  switch (kindOf(v)) {
    case 'number': {
      const n = toNumber(v);
      return n === 0 ? 'n0' : `n${n}`;
    }
    case 'array':
      return `[${(v as unknown[]).map(indexKey).join(',')}]`;
    case 'object': {
      const d = v as Doc;
      return `{${Object.keys(d)
        .map((k) => `${JSON.stringify(k)}:${indexKey(d[k])}`)
        .join(',')}}`;
    }
    default:
      return canonicalKey(v);
  }
}

/**
 * Every value the matcher tests at `parts` (it walks arrays the same way), and the elements of a
 * terminal array, since equality matches an array by its elements as well as whole.
 */
function visit(value: unknown, parts: readonly string[], i: number, out: (v: unknown) => void): void {
  if (i === parts.length) {
    out(value);
    if (Array.isArray(value)) for (const el of value) out(el);
    return;
  }
  const part = parts[i] as string;
  if (!Array.isArray(value)) {
    visit(isPlainObject(value) ? value[part] : undefined, parts, i + 1, out);
    return;
  }
  if (isIndexPart(part)) visit(value[Number(part)], parts, i + 1, out);
  let sawObject = false;
  for (const el of value) {
    if (!isPlainObject(el)) continue;
    sawObject = true;
    visit(el[part], parts, i + 1, out);
  }
  // An array holding no sub-documents reads as a missing field, which `{f: null}` matches.
  if (!sawObject && !isIndexPart(part)) out(undefined);
}

type Bucket = string | Set<string>;

/** Lookup from the key of each value at one field path to the `_id` keys of the documents holding it. */
export class FieldIndex {
  readonly path: string;
  private readonly parts: readonly string[];
  // Most keys on near-unique fields (dates, sequence numbers) hold one document: a bare string saves a Set each.
  private readonly buckets = new Map<string, Bucket>();

  constructor(path: string) {
    this.path = path;
    this.parts = splitPath(path);
  }

  /** Distinct keys `doc` is found under. */
  keysOf(doc: Doc): string[] {
    if (this.parts.length === 1) {
      const v = doc[this.path];
      if (!Array.isArray(v)) return [indexKey(v)];
    }
    const keys = new Set<string>();
    visit(doc, this.parts, 0, (v) => keys.add(indexKey(v)));
    return [...keys];
  }

  add(keys: readonly string[], idKey: string): void {
    for (const key of keys) {
      const bucket = this.buckets.get(key);
      if (bucket === undefined) this.buckets.set(key, idKey);
      else if (typeof bucket !== 'string') bucket.add(idKey);
      else if (bucket !== idKey) this.buckets.set(key, new Set([bucket, idKey]));
    }
  }

  remove(keys: readonly string[], idKey: string): void {
    for (const key of keys) {
      const bucket = this.buckets.get(key);
      if (bucket === idKey) this.buckets.delete(key);
      else if (typeof bucket === 'object' && bucket.delete(idKey) && bucket.size === 0) this.buckets.delete(key);
    }
  }

  /** How many documents are found under `key`. */
  count(key: string): number {
    const bucket = this.buckets.get(key);
    return bucket === undefined ? 0 : typeof bucket === 'string' ? 1 : bucket.size;
  }

  /** Adds the `_id` keys found under `key` to `into`. */
  collect(key: string, into: Set<string>): void {
    const bucket = this.buckets.get(key);
    if (typeof bucket === 'string') into.add(bucket);
    else if (bucket !== undefined) for (const idKey of bucket) into.add(idKey);
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** The path a lookup can serve for an index: its first key field (wildcard keys serve none). */
function leadingPath(spec: IndexSpec): string | undefined {
  const first = Object.keys(spec.key)[0];
  return first === undefined || first.includes('$') ? undefined : first;
}

/**
 * The lookups of one collection's secondary indexes, one per distinct leading field (indexes that
 * share it share the lookup), and every document's natural-order position, so that candidates can
 * be returned in the order a scan would see them. Partial and sparse indexes hold every document:
 * the lookup only narrows candidates, and must miss none.
 */
export class SecondaryIndexes {
  private readonly fields = new Map<string, FieldIndex>();
  private readonly specs: IndexSpec[] = [];
  // Positions are only kept while some lookup exists, so collections without indexes pay nothing.
  private positions: Map<string, number> | undefined;
  private nextPosition = 0;

  /** Starts serving lookups for `spec`, built over `docs` (in natural order). */
  add(spec: IndexSpec, docs: ReadonlyMap<string, Doc>): void {
    const path = leadingPath(spec);
    if (path === undefined || spec.name === '_id_') return;
    this.specs.push(spec);
    if (this.fields.has(path)) return;
    if (this.positions === undefined) {
      this.positions = new Map();
      this.nextPosition = 0;
      for (const idKey of docs.keys()) this.positions.set(idKey, this.nextPosition++);
    }
    const field = new FieldIndex(path);
    for (const [idKey, doc] of docs) field.add(field.keysOf(doc), idKey);
    this.fields.set(path, field);
  }

  drop(name: string): void {
    const at = this.specs.findIndex((s) => s.name === name);
    if (at < 0) return;
    const path = leadingPath(this.specs[at] as IndexSpec);
    this.specs.splice(at, 1);
    if (path !== undefined && !this.specs.some((s) => leadingPath(s) === path)) this.fields.delete(path);
    if (this.fields.size === 0) this.positions = undefined;
  }

  insert(doc: Doc, idKey: string): void {
    if (this.positions === undefined) return;
    this.positions.set(idKey, this.nextPosition++);
    for (const field of this.fields.values()) field.add(field.keysOf(doc), idKey);
  }

  /** Re-files a document whose content changed; its position stays, as in the collection. */
  replace(current: Doc, next: Doc, idKey: string): void {
    for (const field of this.fields.values()) {
      const before = field.keysOf(current);
      const after = field.keysOf(next);
      if (sameKeys(before, after)) continue;
      field.remove(before, idKey);
      field.add(after, idKey);
    }
  }

  remove(doc: Doc, idKey: string): void {
    if (this.positions === undefined) return;
    this.positions.delete(idKey);
    for (const field of this.fields.values()) field.remove(field.keysOf(doc), idKey);
  }

  /** The lookup for `path` and the first index it serves, if an index leads with that field. */
  lookup(path: string): { field: FieldIndex; spec: IndexSpec } | undefined {
    const field = this.fields.get(path);
    const spec = field && this.specs.find((s) => leadingPath(s) === path);
    return field && spec ? { field, spec } : undefined;
  }

  /** `idKeys` sorted by the documents' natural-order positions. */
  naturalOrder(idKeys: Iterable<string>): string[] {
    const positions = this.positions;
    if (positions === undefined) return [...idKeys];
    const placed: [number, string][] = [];
    for (const idKey of idKeys) placed.push([positions.get(idKey) ?? 0, idKey]);
    // Buckets mostly fill in insertion order already, and an ordered run sorts in linear time.
    placed.sort((a, b) => a[0] - b[0]);
    return placed.map((p) => p[1]);
  }
}
