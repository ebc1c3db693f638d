import type { Long, ObjectId, Timestamp } from 'bson';
import { binaryParts, kindOf, regexParts, stringOf, toNumber, type Doc } from './bson-values.ts';

function numberKey(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? 'n0' : `n${v}`;
  const tag = (v as { _bsontype?: string })._bsontype;
  if (tag === 'Long') {
    const long = v as Long;
    return long.lessThanOrEqual(Number.MAX_SAFE_INTEGER) && long.greaterThanOrEqual(Number.MIN_SAFE_INTEGER)
      ? `n${long.toNumber()}`
      : `n${long.toString()}`;
  }
  const n = toNumber(v);
  return Object.is(n, -0) ? 'n0' : `n${n}`;
}

/**
 * A string that is equal for two values exactly when MongoDB considers them equal as index keys:
 * numbers across types, null and missing alike, documents by ordered fields.
 */
export function canonicalKey(v: unknown): string {
  switch (kindOf(v)) {
    case 'missing':
    case 'null':
      return 'N';
    case 'number':
      return numberKey(v);
    case 'string':
      return `s${JSON.stringify(stringOf(v))}`;
    case 'objectId':
      return `o${(v as ObjectId).toHexString()}`;
    case 'date':
      return `d${(v as Date).getTime()}`;
    case 'bool':
      return v ? 'b1' : 'b0';
    case 'array':
      return `[${(v as unknown[]).map(canonicalKey).join(',')}]`;
    case 'object': {
      const d = v as Doc;
      return `{${Object.keys(d)
        .map((k) => `${JSON.stringify(k)}:${canonicalKey(d[k])}`)
        .join(',')}}`;
    }
    case 'binData': {
      const { bytes, subtype } = binaryParts(v);
      return `x${subtype}:${Buffer.from(bytes).toString('base64')}`;
    }
    case 'regex':
      return `r${JSON.stringify(regexParts(v))}`;
    case 'timestamp':
      return `t${(v as Timestamp).toString()}`;
    case 'minKey':
      return 'm-';
    case 'maxKey':
      return 'm+';
    default:
      return `z${String(v)}`;
  }
}

/** Renders a value the way mongod prints it inside error messages (e.g. duplicate key reports). */
export function formatValue(v: unknown): string {
  switch (kindOf(v)) {
    case 'missing':
    case 'null':
      return 'null';
    case 'string':
      return JSON.stringify(stringOf(v));
    case 'objectId':
      return `ObjectId('${(v as ObjectId).toHexString()}')`;
    case 'date':
      return `new Date(${(v as Date).getTime()})`;
    case 'array': {
      const items = (v as unknown[]).map(formatValue);
      return items.length ? `[ ${items.join(', ')} ]` : '[]';
    }
    case 'object': {
      const d = v as Doc;
      const fields = Object.keys(d).map((k) => `${k}: ${formatValue(d[k])}`);
      return fields.length ? `{ ${fields.join(', ')} }` : '{}';
    }
    case 'binData': {
      const { bytes, subtype } = binaryParts(v);
      return `BinData(${subtype}, ${Buffer.from(bytes).toString('hex').toUpperCase()})`;
    }
    case 'number':
      return typeof v === 'number' ? String(v) : (v as { toString(): string }).toString();
    default:
      return String(v);
  }
}
