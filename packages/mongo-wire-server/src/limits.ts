import { calculateObjectSize } from 'bson';
import { isPlainObject, kindOf, type Doc } from './bson-values.ts';
import { CommandError, ErrorCodes, fail } from './errors.ts';

/** Largest document mongod stores (BSONObjMaxUserSize). */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Deepest nesting mongod stores: its `maxBSONDepth` (200) less the 20 levels it keeps for itself.
 * The manual quotes 100, but the server refuses only from 181 levels on, and this store refuses
 * exactly what the server refuses.
 */
export const MAX_NESTING_DEPTH = 180;

/** Which write produced a document; mongod words (and numbers) its refusals differently for each. */
export type WriteKind = 'insert' | 'update' | 'upsert';

const TOO_LARGE: Record<WriteKind, (bytes: number) => CommandError> = {
  insert: (bytes) => new CommandError(ErrorCodes.BadValue, `object to insert too large. size in bytes: ${bytes}, max size: ${MAX_DOCUMENT_BYTES}`),
  update: () => new CommandError(ErrorCodes.BSONObjectTooLarge, `Resulting document after update is larger than ${MAX_DOCUMENT_BYTES}`),
  upsert: () => new CommandError(ErrorCodes.Location17420, `Document to upsert is larger than ${MAX_DOCUMENT_BYTES}`),
};

const DBREF_FIELDS = new Set(['$ref', '$id', '$db']);

function nonEmptyContainer(v: unknown): v is Doc | unknown[] {
  if (Array.isArray(v)) return v.length > 0;
  if (!isPlainObject(v)) return false;
  for (const _ in v) return true;
  return false;
}

/** True when `container`, at nesting `level`, holds non-empty objects or arrays deeper than `limit` levels; empty ones do not count, as in mongod. */
function nestedBeyond(container: Doc | unknown[], level: number, limit: number): boolean {
  for (const v of Object.values(container)) {
    if (!nonEmptyContainer(v)) continue;
    if (level >= limit || nestedBeyond(v, level + 1, limit)) return true;
  }
  return false;
}

/** The first `$`-prefixed field name anywhere inside `value` (DBRef fields excepted), if any. */
function dollarFieldIn(value: unknown): string | undefined {
  if (!isPlainObject(value) && !Array.isArray(value)) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (!Array.isArray(value) && key.startsWith('$') && !DBREF_FIELDS.has(key)) return key;
    const found = dollarFieldIn(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

function checkId(doc: Doc): void {
  if (!('_id' in doc)) return;
  const id = doc._id;
  const kind = id === undefined ? 'undefined' : kindOf(id);
  if (kind === 'array' || kind === 'regex' || kind === 'undefined') fail('InvalidIdField', `The '_id' value cannot be of type ${kind}`);
  const dollar = dollarFieldIn(id);
  if (dollar !== undefined) fail('DollarPrefixedFieldName', `_id fields may not contain '$'-prefixed fields: ${dollar} is not valid for storage.`);
}

/** Top-level `$` names survive inserts and pipeline updates (MongoDB 5.0+), but not replacements or operator updates. */
function checkTopLevelNames(doc: Doc): void {
  for (const key of Object.keys(doc)) {
    if (!key.startsWith('$') || DBREF_FIELDS.has(key)) continue;
    fail('DollarPrefixedFieldName', `The dollar ($) prefixed field '${key}' in '${key}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
  }
}

/**
 * Refuses a document mongod would not store, with the code and message it answers for that kind of
 * write: larger than 16 MiB, nested deeper than {@link MAX_NESTING_DEPTH}, an `_id` that is an array,
 * regex or undefined or holds `$` fields, or (unless `topLevelDollar`) a top-level `$` field.
 * Runs before the document reaches the collection, so a refused write stores nothing.
 */
export function checkStorable(doc: Doc, kind: WriteKind, topLevelDollar = kind === 'insert'): void {
  // mongod sizes and measures an insert before looking at its fields, and an update's result the other way round.
  if (kind === 'insert') {
    checkSize(doc, kind);
    checkDepth(doc, kind);
    checkId(doc);
    return;
  }
  checkId(doc);
  if (!topLevelDollar) checkTopLevelNames(doc);
  checkDepth(doc, kind);
  checkSize(doc, kind);
}

function checkDepth(doc: Doc, kind: WriteKind): void {
  if (!nestedBeyond(doc, 1, MAX_NESTING_DEPTH)) return;
  if (kind === 'insert') fail('Overflow', `cannot insert document because it exceeds ${MAX_NESTING_DEPTH} levels of nesting`);
  fail('Overflow', `Document exceeds maximum nesting depth of ${MAX_NESTING_DEPTH}`);
}

function checkSize(doc: Doc, kind: WriteKind): void {
  const bytes = calculateObjectSize(doc);
  if (bytes > MAX_DOCUMENT_BYTES) throw TOO_LARGE[kind](bytes);
}
