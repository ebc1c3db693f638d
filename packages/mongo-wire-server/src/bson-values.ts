import type { Binary, Decimal128, Long, ObjectId, Timestamp } from 'bson';

/** A stored or wire document. */
export type Doc = Record<string, unknown>;

/** Coarse BSON type classes; members of one class compare with each other (numbers across int/long/double/decimal). */
export type Kind =
  | 'minKey'
  | 'missing'
  | 'null'
  | 'number'
  | 'string'
  | 'object'
  | 'array'
  | 'binData'
  | 'objectId'
  | 'bool'
  | 'date'
  | 'timestamp'
  | 'regex'
  | 'other'
  | 'maxKey';

// MongoDB's cross-type sort order; null and missing share a rank so they sort (and compare) together.
const RANK: Record<Kind, number> = {
  minKey: 1,
  missing: 2,
  null: 2,
  number: 3,
  string: 4,
  object: 5,
  array: 6,
  binData: 7,
  objectId: 8,
  bool: 9,
  date: 10,
  timestamp: 11,
  regex: 12,
  other: 12.5,
  maxKey: 13,
};

const BSON_KINDS: Record<string, Kind> = {
  ObjectId: 'objectId',
  Long: 'number',
  Int32: 'number',
  Double: 'number',
  Decimal128: 'number',
  Binary: 'binData',
  Timestamp: 'timestamp',
  BSONRegExp: 'regex',
  BSONSymbol: 'string',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  DBRef: 'object',
};

/** The BSON class of a JS value as produced by `bson.deserialize`. */
export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined':
      return 'missing';
    case 'number':
    case 'bigint':
      return 'number';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'object':
      break;
    default:
      return 'other';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  const tag = (v as { _bsontype?: unknown })._bsontype;
  if (typeof tag === 'string') return BSON_KINDS[tag] ?? 'other';
  if (v instanceof Uint8Array) return 'binData';
  return 'object';
}

/** Rank of a value in MongoDB's cross-type ordering. */
export function rankOf(v: unknown): number {
  return RANK[kindOf(v)];
}

/** True for documents/sub-documents (not arrays, dates or BSON value classes). */
export function isPlainObject(v: unknown): v is Doc {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Numeric value of any BSON number class (approximate beyond 2^53, like the server's mixed comparisons). */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const tag = (v as { _bsontype?: string } | null)?._bsontype;
  if (tag === 'Long') return (v as Long).toNumber();
  if (tag === 'Decimal128') return Number((v as Decimal128).toString());
  if (tag === 'Int32' || tag === 'Double') return (v as { value: number }).value;
  return Number.NaN;
}

const cmp = <T>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

function compareNumbers(a: unknown, b: unknown): number {
  const ta = (a as { _bsontype?: string })._bsontype;
  if (ta === 'Long' && ta === (b as { _bsontype?: string })._bsontype) return (a as Long).compare(b as Long);
  const x = toNumber(a);
  const y = toNumber(b);
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
  if (Number.isNaN(y)) return 1;
  return cmp(x, y);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return cmp(a.length, b.length);
}

/** Bytes and subtype of a Binary (or raw Uint8Array). */
export function binaryParts(v: unknown): { bytes: Uint8Array; subtype: number } {
  if (v instanceof Uint8Array) return { bytes: v, subtype: 0 };
  const bin = v as Binary;
  return { bytes: bin.buffer.subarray(0, bin.position), subtype: bin.sub_type };
}

/** Pattern and flags of a RegExp or BSONRegExp. */
export function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags];
  const r = v as { pattern: string; options: string };
  return [r.pattern, r.options];
}

/** String content of a string or BSONSymbol. */
export function stringOf(v: unknown): string {
  return typeof v === 'string' ? v : String((v as { value: unknown }).value);
}

function compareObjects(a: Doc, b: Doc): number {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const fa = ka[i] as string;
    const fb = kb[i] as string;
    const va = a[fa];
    const vb = b[fb];
    const r = cmp(rankOf(va), rankOf(vb)) || cmp(fa, fb) || compareValues(va, vb);
    if (r !== 0) return r;
  }
  return cmp(ka.length, kb.length);
}

function compareArrays(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = compareValues(a[i], b[i]);
    if (r !== 0) return r;
  }
  return cmp(a.length, b.length);
}

/** Total order over BSON values exactly as MongoDB sorts them (type rank first, then value). */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  // Fast paths for the common same-type cases (sort keys are mostly dates, numbers and strings).
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'string') return (a as string) < (b as string) ? -1 : 1;
    if (ta === 'number' && !Number.isNaN(a) && !Number.isNaN(b)) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    if (a instanceof Date && b instanceof Date) return cmp(a.getTime(), b.getTime());
  }
  const ka = kindOf(a);
  const kb = kindOf(b);
  const ra = RANK[ka];
  const rb = RANK[kb];
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ka) {
    case 'number':
      return compareNumbers(a, b);
    case 'string':
      return cmp(stringOf(a), stringOf(b));
    case 'object':
      return compareObjects(a as Doc, b as Doc);
    case 'array':
      return compareArrays(a as unknown[], b as unknown[]);
    case 'binData': {
      const x = binaryParts(a);
      const y = binaryParts(b);
      return cmp(x.bytes.length, y.bytes.length) || cmp(x.subtype, y.subtype) || compareBytes(x.bytes, y.bytes);
    }
    case 'objectId':
      return compareBytes((a as ObjectId).id, (b as ObjectId).id);
    case 'bool':
      return cmp(a as boolean, b as boolean);
    case 'date':
      return cmp((a as Date).getTime(), (b as Date).getTime());
    case 'timestamp':
      return (a as Timestamp).compare(b as Timestamp);
    case 'regex': {
      const [sa, fa] = regexParts(a);
      const [sb, fb] = regexParts(b);
      return cmp(sa, sb) || cmp(fa, fb);
    }
    case 'other':
      return cmp(String(a), String(b));
    default:
      return 0;
  }
}

/** MongoDB equality: 1 == 1.0 == Long(1), ObjectIds by bytes, documents field-by-field in order. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  return a === b || compareValues(a, b) === 0;
}

/** Like valuesEqual, but also requires the same concrete representation (used to detect no-op updates). */
export function deepIdentical(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => deepIdentical(v, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k, i) => k === kb[i] && deepIdentical(a[k], b[k]));
  }
  if (typeof a !== 'object' || a === null || b === null) return false;
  if ((a as { _bsontype?: unknown })._bsontype !== (b as { _bsontype?: unknown })._bsontype) return false;
  return Object.getPrototypeOf(a) === Object.getPrototypeOf(b) && compareValues(a, b) === 0;
}

/** Deep copy of documents and arrays; BSON value objects are immutable in this server and are shared. */
export function cloneDeep<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(cloneDeep) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) {
    const value = cloneDeep(v[k]);
    if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
    else out[k] = value;
  }
  return out as T;
}
