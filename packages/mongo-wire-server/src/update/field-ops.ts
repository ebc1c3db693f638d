import { Decimal128, Long, Timestamp } from 'bson';
import { formatValue } from '../bson-format.ts';
import { cloneDeep, compareValues, isPlainObject, kindOf, toNumber, type Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';
import { typeNameOf } from '../matcher-leaf.ts';
import { ARRAY_OPS } from './array-ops.ts';
import { getAt, setAt, unsetAt } from './doc-paths.ts';
import type { FieldOp, OpContext } from './op-types.ts';

const isLong = (v: unknown): boolean => (v as { _bsontype?: string } | null)?._bsontype === 'Long';
const isDecimal = (v: unknown): boolean => (v as { _bsontype?: string } | null)?._bsontype === 'Decimal128';
const isIntegral = (v: unknown): boolean => isLong(v) || (typeof v === 'number' && Number.isInteger(v));

/** Numeric arithmetic keeping the widest operand type, as the server does (decimal > long > double/int). */
function arith(a: unknown, b: unknown, op: 'add' | 'mul'): unknown {
  if (isDecimal(a) || isDecimal(b)) {
    const r = op === 'add' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b);
    return Decimal128.fromString(String(r));
  }
  if ((isLong(a) || isLong(b)) && isIntegral(a) && isIntegral(b)) {
    const x = isLong(a) ? (a as Long) : Long.fromNumber(a as number);
    const y = isLong(b) ? (b as Long) : Long.fromNumber(b as number);
    return op === 'add' ? x.add(y) : x.multiply(y);
  }
  return op === 'add' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b);
}

function nonNumeric(op: string, parts: readonly string[], cur: unknown, ctx: OpContext): never {
  fail(
    'TypeMismatch',
    `Cannot apply ${op} to a value of non-numeric type. {_id: ${formatValue(ctx.id)}} has the field '${parts[parts.length - 1]}' of non-numeric type ${typeNameOf(cur)}`,
  );
}

const arithmetic =
  (op: '$inc' | '$mul'): FieldOp =>
  (doc, parts, arg, ctx) => {
    const cur = getAt(doc, parts);
    if (cur === undefined) {
      setAt(doc, parts, op === '$inc' ? arg : isLong(arg) ? Long.ZERO : isDecimal(arg) ? Decimal128.fromString('0') : 0);
      return;
    }
    if (kindOf(cur) !== 'number') nonNumeric(op, parts, cur, ctx);
    setAt(doc, parts, arith(cur, arg, op === '$inc' ? 'add' : 'mul'));
  };

const extreme =
  (sign: 1 | -1): FieldOp =>
  (doc, parts, arg) => {
    const cur = getAt(doc, parts);
    if (cur === undefined || compareValues(arg, cur) * sign > 0) setAt(doc, parts, cloneDeep(arg));
  };

function bit(doc: Doc, parts: readonly string[], arg: unknown, ctx: OpContext): void {
  if (!isPlainObject(arg)) fail('BadValue', `The $bit modifier is not compatible with a ${kindOf(arg)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`);
  let cur = getAt(doc, parts) ?? 0;
  if (!isIntegral(cur)) nonNumeric('$bit', parts, cur, ctx);
  for (const [how, operand] of Object.entries(arg)) {
    if (!isIntegral(operand)) fail('BadValue', `The $bit modifier field must be an Integer(32/64 bit); a '${typeNameOf(operand)}' is not supported here: {${how}: ${String(operand)}}`);
    const x = BigInt(String(cur));
    const y = BigInt(String(operand));
    const r = how === 'and' ? x & y : how === 'or' ? x | y : how === 'xor' ? x ^ y : fail('BadValue', `The $bit modifier only supports 'and', 'or', and 'xor', not '${how}'`);
    cur = isLong(cur) || isLong(operand) ? Long.fromBigInt(r) : Number(BigInt.asIntN(32, r));
  }
  setAt(doc, parts, cur);
}

/** Every supported operator keyed by name. */
export const FIELD_OPS: Record<string, FieldOp> = {
  // The argument is stored as decoded from the request, as `insert` stores its documents: stored
  // documents are never mutated (an update copies each container it writes through), so it is safe.
  $set: (doc, parts, arg) => setAt(doc, parts, arg),
  $setOnInsert: (doc, parts, arg, ctx) => {
    if (ctx.isInsert) setAt(doc, parts, arg);
  },
  $unset: (doc, parts) => {
    unsetAt(doc, parts);
  },
  $inc: arithmetic('$inc'),
  $mul: arithmetic('$mul'),
  $min: extreme(-1),
  $max: extreme(1),
  $currentDate: (doc, parts, arg, ctx) => {
    const ts = isPlainObject(arg) && arg.$type === 'timestamp';
    setAt(doc, parts, ts ? new Timestamp({ t: Math.floor(ctx.now.getTime() / 1000), i: 1 }) : new Date(ctx.now.getTime()));
  },
  $rename: (doc, parts, arg) => {
    const value = getAt(doc, parts);
    if (value === undefined) return;
    unsetAt(doc, parts);
    setAt(doc, (arg as string).split('.'), value);
  },
  $bit: bit,
  ...ARRAY_OPS,
};
