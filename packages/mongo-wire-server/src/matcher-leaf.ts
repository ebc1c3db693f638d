import type { ObjectId } from 'bson';
import { canonicalKey } from './bson-format.ts';
import { compareValues, kindOf, rankOf, toNumber } from './bson-values.ts';
import { fail } from './errors.ts';

/** Test applied to the value found at the end of a path. */
export type Leaf = (v: unknown) => boolean;

/** Lifts a leaf test so that an array value also matches when any of its elements does. */
export function expand(test: Leaf): Leaf {
  return (v) => test(v) || (Array.isArray(v) && v.some(test));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `$eq` semantics (without array expansion): type-aware equality, null also matching missing, regex matching strings. */
export function equalsLeaf(target: unknown): Leaf {
  if (target instanceof RegExp || kindOf(target) === 'regex') {
    const re = toRegExp(target);
    return (v) => (typeof v === 'string' ? re.test(v) : kindOf(v) === 'regex' && compareValues(v, target) === 0);
  }
  switch (typeof target) {
    case 'string':
    case 'boolean':
      return (v) => v === target;
    case 'number':
      if (Number.isNaN(target)) break;
      return (v) => v === target || (typeof v === 'object' && v !== null && !Array.isArray(v) && toNumber(v) === target);
    default:
      break;
  }
  if (target === null || target === undefined) return (v) => v === null || v === undefined;
  if (target instanceof Date) {
    const t = target.getTime();
    return (v) => v instanceof Date && v.getTime() === t;
  }
  if (kindOf(target) === 'objectId') {
    const id = (target as ObjectId).id;
    return (v) => kindOf(v) === 'objectId' && bytesEqual((v as ObjectId).id, id);
  }
  return (v) => compareValues(v, target) === 0;
}

/** `$gt`/`$gte`/`$lt`/`$lte`: only values of the same BSON type class are comparable (type bracketing). */
export function comparisonLeaf(op: '$gt' | '$gte' | '$lt' | '$lte', target: unknown): Leaf {
  const rank = rankOf(target);
  const accept: (c: number) => boolean =
    op === '$gt' ? (c) => c > 0 : op === '$gte' ? (c) => c >= 0 : op === '$lt' ? (c) => c < 0 : (c) => c <= 0;
  if (typeof target === 'number' && !Number.isNaN(target)) {
    return (v) => (typeof v === 'number' ? !Number.isNaN(v) && accept(v < target ? -1 : v > target ? 1 : 0) : rankOf(v) === rank && accept(compareValues(v, target)));
  }
  if (target instanceof Date) {
    const t = target.getTime();
    return (v) => v instanceof Date && accept(v.getTime() - t);
  }
  return (v) => rankOf(v) === rank && accept(compareValues(v, target));
}

/** `$in`: equality against any listed value (regexes match strings); null in the list matches missing. */
export function inLeaf(list: unknown): Leaf {
  if (!Array.isArray(list)) fail('BadValue', '$in needs an array');
  const regexes: RegExp[] = [];
  const keys = new Set<string>();
  for (const item of list) {
    if (item instanceof RegExp || kindOf(item) === 'regex') regexes.push(toRegExp(item));
    if (kindOf(item) === 'object' && Object.keys(item as object)[0]?.startsWith('$')) {
      fail('BadValue', 'cannot nest $ under $in');
    }
    keys.add(canonicalKey(item));
  }
  return (v) => {
    if (typeof v === 'string') return keys.has(canonicalKey(v)) || regexes.some((re) => re.test(v));
    return keys.has(canonicalKey(v));
  };
}

const TYPE_ALIASES: Record<string, number> = {
  double: 1,
  string: 2,
  object: 3,
  array: 4,
  binData: 5,
  undefined: 6,
  objectId: 7,
  bool: 8,
  date: 9,
  null: 10,
  regex: 11,
  dbPointer: 12,
  javascript: 13,
  symbol: 14,
  javascriptWithScope: 15,
  int: 16,
  timestamp: 17,
  long: 18,
  decimal: 19,
  minKey: -1,
  maxKey: 127,
};

const NAMES_BY_CODE = new Map(Object.entries(TYPE_ALIASES).map(([name, code]) => [code, name]));

/** The server's type alias for a value ('string', 'int', 'double', 'objectId', ...), used in error messages. */
export function typeNameOf(v: unknown): string {
  if (v === undefined) return 'missing';
  const code = typeCodeOf(v);
  return (code === undefined ? undefined : NAMES_BY_CODE.get(code)) ?? 'unknown';
}

const TAG_CODES: Record<string, number> = {
  Long: 18,
  Int32: 16,
  Double: 1,
  Decimal128: 19,
  Code: 13,
  BSONSymbol: 14,
  DBRef: 3,
};

/** The BSON element type code a value serializes as (JS integers in int32 range become int). */
export function typeCodeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? 16 : 1;
  const tag = (v as { _bsontype?: string } | null)?._bsontype;
  if (tag !== undefined && TAG_CODES[tag] !== undefined) return TAG_CODES[tag];
  const aliases: Partial<Record<ReturnType<typeof kindOf>, number>> = {
    string: 2,
    object: 3,
    array: 4,
    binData: 5,
    objectId: 7,
    bool: 8,
    date: 9,
    null: 10,
    regex: 11,
    timestamp: 17,
    minKey: -1,
    maxKey: 127,
  };
  return aliases[kindOf(v)];
}

/** `$type` with a code, an alias, 'number', or an array of those. */
export function typeLeaf(spec: unknown): Leaf {
  const wanted = new Set<number>();
  let anyNumber = false;
  for (const item of Array.isArray(spec) ? spec : [spec]) {
    if (item === 'number') anyNumber = true;
    else if (typeof item === 'string' && TYPE_ALIASES[item] !== undefined) wanted.add(TYPE_ALIASES[item]);
    else if (kindOf(item) === 'number') wanted.add(toNumber(item));
    else fail('BadValue', `Unknown type name alias: ${String(item)}`);
  }
  return (v) => {
    if (v === undefined) return false;
    const code = typeCodeOf(v);
    return code !== undefined && (wanted.has(code) || (anyNumber && kindOf(v) === 'number'));
  };
}

/** Builds a JS RegExp from a RegExp, a BSONRegExp, or a `$regex` string plus `$options`. */
export function toRegExp(pattern: unknown, options?: unknown): RegExp {
  let source: string;
  let flags: string;
  if (pattern instanceof RegExp) {
    source = pattern.source;
    flags = pattern.flags;
  } else if (kindOf(pattern) === 'regex') {
    const r = pattern as { pattern: string; options: string };
    source = r.pattern;
    flags = r.options;
  } else if (typeof pattern === 'string') {
    source = pattern;
    flags = '';
  } else {
    fail('BadValue', '$regex has to be a string');
  }
  if (options !== undefined) {
    if (typeof options !== 'string') fail('BadValue', '$options has to be a string');
    flags += options;
  }
  if (flags.includes('x')) source = source.replace(/\\#/g, '\u0000').replace(/\s+|#.*$/gm, '').replace(/\u0000/g, '\\#');
  const jsFlags = [...new Set(flags.replace(/[^imsu]/g, ''))].join('');
  try {
    return new RegExp(source, jsFlags);
  } catch (err) {
    fail('BadValue', `Regular expression is invalid: ${(err as Error).message}`);
  }
}

/** `$mod: [divisor, remainder]` over numbers, truncating like the server. */
export function modLeaf(spec: unknown): Leaf {
  if (!Array.isArray(spec) || spec.length !== 2) fail('BadValue', 'malformed mod, needs to be an array of size 2');
  const divisor = Math.trunc(toNumber(spec[0]));
  const remainder = Math.trunc(toNumber(spec[1]));
  if (divisor === 0) fail('BadValue', 'divisor cannot be 0');
  if (Number.isNaN(divisor) || Number.isNaN(remainder)) fail('BadValue', 'malformed mod, divisor and remainder must be numbers');
  return (v) => kindOf(v) === 'number' && Math.trunc(toNumber(v)) % divisor === remainder;
}
