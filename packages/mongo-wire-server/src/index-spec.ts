import { formatValue } from './bson-format.ts';
import { isPlainObject, kindOf, type Doc } from './bson-values.ts';
import { CommandError, ErrorCodes } from './errors.ts';
import { typeNameOf } from './matcher-leaf.ts';

/** Every field mongod accepts in an index specification; any other is refused (197). */
const ALLOWED_FIELDS = new Set([
  'key', 'name', 'v', 'ns', '_id', 'background', 'unique', 'sparse', 'hidden', 'partialFilterExpression',
  'expireAfterSeconds', 'storageEngine', 'collation', 'weights', 'default_language', 'language_override',
  'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'coarsestIndexedLevel',
  'finestIndexedLevel', 'wildcardProjection', 'columnstoreProjection', 'dropDups', 'originalSpec', 'prepareUnique',
]);

const BOOLEAN_FIELDS = ['background', 'unique', 'sparse', 'dropDups', 'prepareUnique'];

/** mongod's `internalPartialFilterExpressionMaxDepth`. */
const MAX_FILTER_DEPTH = 4;

/** Operators a partial filter may use on a field (MongoDB 6.0+ also takes `$in`, `$or` and nested `$and`). */
const SUPPORTED_LEAF_OPS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte', '$type', '$in']);

/** Top-level operators the server refuses in this context, with the code it answers. */
const BANNED_TOP_LEVEL: Record<string, number> = {
  $expr: ErrorCodes.QueryFeatureNotAllowed,
  $jsonSchema: ErrorCodes.QueryFeatureNotAllowed,
  $where: ErrorCodes.BadValue,
  $text: ErrorCodes.BadValue,
};

/** A parsed partial filter, reduced to what the check needs: its shape and a printable form. */
interface FilterNode {
  readonly supported: boolean;
  readonly text: string;
  readonly children: readonly FilterNode[];
}

const leaf = (supported: boolean, text: string): FilterNode => ({ supported, text, children: [] });
const group = (op: string, children: FilterNode[]): FilterNode => ({ supported: op !== '$nor', text: op, children });

function fieldNodes(path: string, cond: unknown): FilterNode[] {
  if (cond instanceof RegExp || kindOf(cond) === 'regex') return [leaf(false, `${path} regex ${String(cond)}`)];
  const ops = isPlainObject(cond) ? Object.keys(cond) : [];
  if (ops.length === 0 || !(ops[0] as string).startsWith('$')) return [leaf(true, `${path} $eq ${formatValue(cond)}`)];
  return ops.map((op) => {
    const arg = (cond as Doc)[op];
    if (op === '$exists') return arg ? leaf(true, `${path} exists`) : leaf(false, `$not\n    ${path} exists`);
    if (op === '$all' && Array.isArray(arg)) return group('$and', arg.map((v) => leaf(!isPlainObject(v) || !('$elemMatch' in v), `${path} $eq ${formatValue(v)}`)));
    if (op === '$ne') return leaf(false, `$not\n    ${path} $eq ${formatValue(arg)}`);
    if (op === '$nin') return leaf(false, `$not\n    ${path} $in ${formatValue(arg)}`);
    if (op === '$not') return leaf(false, `$not\n    ${path} ${formatValue(arg)}`);
    return leaf(SUPPORTED_LEAF_OPS.has(op), `${path} ${op} ${formatValue(arg)}`);
  });
}

function parseFilter(filter: Doc): FilterNode {
  const nodes: FilterNode[] = [];
  for (const [key, value] of Object.entries(filter)) {
    const banned = BANNED_TOP_LEVEL[key];
    if (banned !== undefined) throw new CommandError(banned, `${key} is not allowed in this context`);
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value) || value.length === 0) throw new CommandError(ErrorCodes.BadValue, `${key} argument must be a non-empty array`);
      nodes.push(group(key, value.map((clause) => parseFilter(isPlainObject(clause) ? clause : {}))));
    } else if (key === '$comment') {
      continue;
    } else if (key.startsWith('$')) {
      throw new CommandError(ErrorCodes.BadValue, `unknown top level operator: ${key}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.`);
    } else {
      nodes.push(...fieldNodes(key, value));
    }
  }
  return nodes.length === 1 ? (nodes[0] as FilterNode) : group('$and', nodes);
}

/** The first part of the filter mongod would refuse, as the reason it gives. */
function unsupported(node: FilterNode, level: number): string | undefined {
  if (level + 1 > MAX_FILTER_DEPTH) return `partialFilterExpression depth may not exceed ${MAX_FILTER_DEPTH}`;
  if (!node.supported) return `Expression not supported in partial index: ${node.text}${node.children.length ? '' : '\n'}`;
  for (const child of node.children) {
    const reason = unsupported(child, level + 1);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

function specError(code: number, spec: Doc, reason: string): CommandError {
  return new CommandError(code, `Error in specification ${formatValue(spec)} :: caused by :: ${reason}`);
}

/**
 * Refuses an index specification mongod refuses: unknown fields (197), non-boolean flags (14), a
 * partial filter that is not a document, is mixed with `sparse`, or uses operators a partial index
 * cannot hold (67, or the parser's own refusal for `$expr`, `$where` and the like).
 */
export function validateIndexSpec(spec: Doc): void {
  for (const [field, value] of Object.entries(spec)) {
    if (!ALLOWED_FIELDS.has(field)) {
      throw specError(ErrorCodes.InvalidIndexSpecificationOption, spec, `The field '${field}' is not valid for an index specification. Specification: ${formatValue(spec)}`);
    }
    if (BOOLEAN_FIELDS.includes(field) && kindOf(value) !== 'number' && typeof value !== 'boolean') {
      throw specError(ErrorCodes.TypeMismatch, spec, `The field '${field} has value ${field}: ${formatValue(value)}, which is not convertible to bool`);
    }
  }
  const filter = spec.partialFilterExpression;
  if (filter === undefined) return;
  if (!isPlainObject(filter)) {
    throw specError(ErrorCodes.TypeMismatch, spec, `The field 'partialFilterExpression' must be an object, but got ${typeNameOf(filter)}`);
  }
  const shown = 'v' in spec ? spec : { ...spec, v: 2 };
  let parsed: FilterNode;
  try {
    parsed = parseFilter(filter);
  } catch (err) {
    if (err instanceof CommandError) throw specError(err.code, shown, err.message);
    throw err;
  }
  if (spec.sparse) throw specError(ErrorCodes.CannotCreateIndex, shown, 'cannot mix "partialFilterExpression" and "sparse" options');
  const reason = unsupported(parsed, 0);
  if (reason !== undefined) throw specError(ErrorCodes.CannotCreateIndex, shown, reason);
}
