import type { Long } from 'bson';

/** Entities a `$$matchesEntity` / `$$sessionLsid` operator may refer to. */
export type EntityLookup = (name: string) => unknown;

/** A failed match, with the path where expected and actual part ways. */
export class MatchError extends Error {
  constructor(path: string, message: string) {
    super(`${path || '(root)'}: ${message}`);
    this.name = 'MatchError';
  }
}

const isDoc = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

function tagOf(v: unknown): string | undefined {
  return (v as { _bsontype?: string } | null | undefined)?._bsontype;
}

/** Numeric value of any numeric representation, or undefined for non-numbers (Decimal128 excluded, as the format says). */
function numeric(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const tag = tagOf(v);
  if (tag === 'Long') return (v as Long).toNumber();
  if (tag === 'Int32' || tag === 'Double') return (v as { value: number }).value;
  return undefined;
}

const INT32 = (n: number): boolean => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31;

/** `$type` aliases as far as decoded JavaScript values can still tell them apart. */
function hasType(v: unknown, type: string): boolean {
  const tag = tagOf(v);
  switch (type) {
    case 'double':
      return typeof v === 'number' || tag === 'Double';
    case 'int':
      return (typeof v === 'number' && INT32(v)) || tag === 'Int32';
    case 'long':
      return tag === 'Long' || typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
    case 'string':
      return typeof v === 'string';
    case 'object':
      return isDoc(v);
    case 'array':
      return Array.isArray(v);
    case 'bool':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'date':
      return v instanceof Date;
    // By tag, not instanceof: the driver loads bson's CommonJS build and this runner its ES module, two sets of classes.
    case 'objectId':
      return tag === 'ObjectId';
    case 'binData':
      return tag === 'Binary';
    default:
      throw new Error(`$$type '${type}' is not supported by this runner`);
  }
}

function scalarEqual(expected: unknown, actual: unknown): boolean {
  const [e, a] = [numeric(expected), numeric(actual)];
  if (e !== undefined || a !== undefined) return e !== undefined && a !== undefined && (e === a || (Number.isNaN(e) && Number.isNaN(a)));
  if (expected instanceof Date && actual instanceof Date) return expected.getTime() === actual.getTime();
  const tag = tagOf(expected);
  if (tag !== undefined) return tag === tagOf(actual) && JSON.stringify(expected) === JSON.stringify(actual);
  if (expected instanceof RegExp && actual instanceof RegExp) return String(expected) === String(actual);
  return Object.is(expected, actual);
}

function operatorOf(v: unknown): string | undefined {
  if (!isDoc(v)) return undefined;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0]?.startsWith('$$') ? keys[0] : undefined;
}

/** Options for one comparison. */
export interface MatchOptions {
  /** Extra keys are allowed in the actual document at this level only (the format's root-level documents). */
  readonly root: boolean;
  readonly entities: EntityLookup;
}

/**
 * The unified test format's match: expected documents are partial at the root only, arrays must have
 * the same length, numbers compare across types, and `$$`-operators stand in for values the test
 * cannot know in advance. Throws a {@link MatchError} naming the first difference.
 */
export function assertMatches(expected: unknown, rawActual: unknown, opts: MatchOptions, path = ''): void {
  // The driver builds some command fields (sort) as Maps to keep their key order.
  const actual = rawActual instanceof Map ? Object.fromEntries(rawActual) : rawActual;
  const op = operatorOf(expected);
  if (op !== undefined) {
    specialOperator(op, (expected as Record<string, unknown>)[op], actual, opts, path);
    return;
  }
  if (isDoc(expected)) {
    if (!isDoc(actual)) throw new MatchError(path, `expected a document, got ${describe(actual)}`);
    for (const [key, value] of Object.entries(expected)) {
      const at = path ? `${path}.${key}` : key;
      const keyOp = operatorOf(value);
      if (keyOp === '$$exists') {
        const wanted = (value as Record<string, unknown>).$$exists;
        if (wanted !== key in actual) throw new MatchError(at, wanted ? 'expected the field to exist' : `expected no field, got ${describe(actual[key])}`);
        continue;
      }
      if (keyOp === '$$unsetOrMatches' && !(key in actual)) continue;
      if (!(key in actual)) throw new MatchError(at, 'missing field');
      assertMatches(value, actual[key], { ...opts, root: false }, at);
    }
    if (!opts.root) {
      const extra = Object.keys(actual).filter((k) => !(k in expected));
      if (extra.length > 0) throw new MatchError(path, `unexpected fields ${extra.join(', ')}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new MatchError(path, `expected an array, got ${describe(actual)}`);
    if (actual.length !== expected.length) throw new MatchError(path, `expected ${expected.length} elements, got ${actual.length}: ${describe(actual)}`);
    expected.forEach((e, i) => assertMatches(e, actual[i], { ...opts, root: false }, `${path}[${i}]`));
    return;
  }
  if (!scalarEqual(expected, actual)) throw new MatchError(path, `expected ${describe(expected)}, got ${describe(actual)}`);
}

function specialOperator(op: string, arg: unknown, actual: unknown, opts: MatchOptions, path: string): void {
  switch (op) {
    case '$$unsetOrMatches':
      if (actual !== undefined) assertMatches(arg, actual, opts, path);
      return;
    case '$$exists':
      if ((actual !== undefined) !== arg) throw new MatchError(path, `$$exists: ${String(arg)} not satisfied`);
      return;
    case '$$type': {
      const types = Array.isArray(arg) ? (arg as string[]) : [arg as string];
      if (actual === undefined || !types.some((t) => hasType(actual, t))) throw new MatchError(path, `expected type ${types.join('|')}, got ${describe(actual)}`);
      return;
    }
    case '$$matchesEntity':
      assertMatches(opts.entities(arg as string), actual, opts, path);
      return;
    case '$$lte': {
      const [e, a] = [numeric(arg), numeric(actual)];
      if (e === undefined || a === undefined || a > e) throw new MatchError(path, `expected <= ${describe(arg)}, got ${describe(actual)}`);
      return;
    }
    case '$$matchAsRoot':
      assertMatches(arg, actual, { ...opts, root: true }, path);
      return;
    default:
      throw new Error(`special operator ${op} is not supported by this runner`);
  }
}

/** Exact comparison for collection contents (`outcome`): key order and numeric type aside, no leeway. */
export function assertSameDocuments(expected: readonly unknown[], actual: readonly unknown[], path: string): void {
  if (expected.length !== actual.length) throw new MatchError(path, `expected ${expected.length} documents, got ${actual.length}: ${describe(actual)}`);
  expected.forEach((e, i) => assertMatches(e, actual[i], { root: false, entities: () => undefined }, `${path}[${i}]`));
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
