import { formatValue } from '../bson-format.ts';
import { cloneDeep, compareValues, isPlainObject, kindOf, toNumber, valuesEqual, type Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';
import { typeNameOf } from '../matcher-leaf.ts';
import { compileFilter, isOperatorObject } from '../matcher.ts';
import { compileSort } from '../sort.ts';
import { getAt, setAt } from './doc-paths.ts';
import type { FieldOp, OpContext } from './op-types.ts';

function existingArray(doc: Doc, parts: readonly string[], ctx: OpContext, op: string): unknown[] | undefined {
  const cur = getAt(doc, parts);
  if (cur === undefined || Array.isArray(cur)) return cur;
  const path = parts.join('.');
  if (op === '$addToSet') {
    fail('BadValue', `Cannot apply $addToSet to non-array field. Field named '${parts[parts.length - 1]}' has non-array type ${typeNameOf(cur)}`);
  }
  if (op === '$pop') fail('TypeMismatch', `Path '${path}' contains an element of non-array type '${typeNameOf(cur)}'`);
  if (op === '$pull' || op === '$pullAll') fail('BadValue', 'Cannot apply $pull to a non-array value');
  fail('BadValue', `The field '${path}' must be an array but is of type ${typeNameOf(cur)} in document {_id: ${formatValue(ctx.id)}}`);
}

function eachOf(arg: unknown): { items: unknown[]; mods: Doc } {
  if (isPlainObject(arg) && '$each' in arg) {
    if (!Array.isArray(arg.$each)) fail('BadValue', `The argument to $each in $push must be an array but it was of type: ${typeNameOf(arg.$each)}`);
    return { items: arg.$each, mods: arg };
  }
  return { items: [arg], mods: {} };
}

function integerModifier(mods: Doc, name: string): number | undefined {
  const v = mods[name];
  if (v === undefined) return undefined;
  const n = toNumber(v);
  if (kindOf(v) !== 'number' || !Number.isInteger(n)) fail('BadValue', `The value for ${name} must be an integer value but was given type: ${typeNameOf(v)}`);
  return n;
}

function sortElements(arr: unknown[], spec: unknown): void {
  if (isPlainObject(spec)) {
    const sorter = compileSort(spec);
    if (sorter === undefined) fail('BadValue', 'The $sort pattern is empty when it should be a set of fields.');
    arr.sort((a, b) => (isPlainObject(a) && isPlainObject(b) ? sorter.compare(a, b) : compareValues(a, b)));
    return;
  }
  const dir = toNumber(spec);
  if (dir !== 1 && dir !== -1) fail('BadValue', 'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields');
  arr.sort((a, b) => compareValues(a, b) * dir);
}

const push: FieldOp = (doc, parts, arg, ctx) => {
  const arr = [...(existingArray(doc, parts, ctx, '$push') ?? [])];
  const { items, mods } = eachOf(arg);
  for (const k of Object.keys(mods)) {
    if (!['$each', '$slice', '$sort', '$position'].includes(k)) fail('BadValue', `Unrecognized clause in $push: ${k}`);
  }
  const position = integerModifier(mods, '$position');
  const copies = items.map(cloneDeep);
  if (position === undefined) arr.push(...copies);
  else arr.splice(position < 0 ? Math.max(0, arr.length + position) : Math.min(position, arr.length), 0, ...copies);
  if (mods.$sort !== undefined) sortElements(arr, mods.$sort);
  const slice = integerModifier(mods, '$slice');
  const result = slice === undefined ? arr : slice >= 0 ? arr.slice(0, slice) : arr.slice(slice);
  setAt(doc, parts, result);
};

const addToSet: FieldOp = (doc, parts, arg, ctx) => {
  const arr = [...(existingArray(doc, parts, ctx, '$addToSet') ?? [])];
  for (const item of eachOf(arg).items) {
    if (!arr.some((e) => valuesEqual(e, item))) arr.push(cloneDeep(item));
  }
  setAt(doc, parts, arr);
};

const pop: FieldOp = (doc, parts, arg, ctx) => {
  const cur = existingArray(doc, parts, ctx, '$pop');
  if (cur === undefined || cur.length === 0) return;
  const n = toNumber(arg);
  if (n !== 1 && n !== -1) fail('FailedToParse', `$pop expects 1 or -1, found: ${String(arg)}`);
  setAt(doc, parts, n === 1 ? cur.slice(0, -1) : cur.slice(1));
};

function pullMatcher(cond: unknown): (el: unknown) => boolean {
  if (isOperatorObject(cond)) {
    const test = compileFilter({ v: cond });
    return (el) => test({ v: el });
  }
  if (isPlainObject(cond)) {
    const test = compileFilter(cond);
    return (el) => isPlainObject(el) && test(el);
  }
  if (cond instanceof RegExp) {
    const test = compileFilter({ v: cond });
    return (el) => test({ v: el });
  }
  return (el) => valuesEqual(el, cond);
}

const pull: FieldOp = (doc, parts, arg, ctx) => {
  const cur = existingArray(doc, parts, ctx, '$pull');
  if (cur === undefined) return;
  const matches = pullMatcher(arg);
  setAt(doc, parts, cur.filter((el) => !matches(el)));
};

const pullAll: FieldOp = (doc, parts, arg, ctx) => {
  const cur = existingArray(doc, parts, ctx, '$pullAll');
  if (cur === undefined) return;
  const values = arg as unknown[];
  setAt(doc, parts, cur.filter((el) => !values.some((v) => valuesEqual(el, v))));
};

/** Array update operators keyed by name. */
export const ARRAY_OPS: Record<string, FieldOp> = {
  $push: push,
  $addToSet: addToSet,
  $pop: pop,
  $pull: pull,
  $pullAll: pullAll,
};
