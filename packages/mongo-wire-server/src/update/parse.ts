import { isPlainObject, kindOf, type Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';

/** Update operators this server applies. */
export const UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$push',
  '$pull',
  '$pullAll',
  '$addToSet',
  '$pop',
  '$setOnInsert',
  '$rename',
  '$currentDate',
  '$bit',
]);

const PIPELINE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

/** One `{$op: {path: arg}}` entry. */
export interface OperatorEntry {
  readonly op: string;
  readonly path: string;
  readonly arg: unknown;
}

/** A parsed `u` / `update` argument. */
export type UpdateSpec =
  | { readonly kind: 'replacement'; readonly doc: Doc }
  | { readonly kind: 'operators'; readonly entries: readonly OperatorEntry[] }
  | { readonly kind: 'pipeline'; readonly stages: readonly Doc[] };

function conflicts(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
}

function checkConflicts(entries: OperatorEntry[]): void {
  const paths: string[] = [];
  for (const e of entries) {
    paths.push(e.path);
    if (e.op === '$rename') paths.push(e.arg as string);
  }
  for (let i = 0; i < paths.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = paths[j] as string;
      const b = paths[i] as string;
      if (conflicts(a, b)) {
        const [longer, shorter] = a.length >= b.length ? [a, b] : [b, a];
        fail('ConflictingUpdateOperators', `Updating the path '${longer}' would create a conflict at '${shorter}'`);
      }
    }
  }
}

function validateArg(op: string, path: string, arg: unknown): void {
  if (path === '' || path.split('.').includes('')) fail('BadValue', `An empty update path is not valid.`);
  switch (op) {
    case '$inc':
    case '$mul':
      if (kindOf(arg) !== 'number') {
        const verb = op === '$inc' ? 'increment' : 'multiply';
        fail('TypeMismatch', `Cannot ${verb} with non-numeric argument: {${path}: ${JSON.stringify(arg)}}`);
      }
      break;
    case '$rename':
      if (typeof arg !== 'string') fail('BadValue', `The 'to' field for $rename must be a string: ${path}: ${String(arg)}`);
      if (arg === path) fail('BadValue', `The source and target field for $rename must differ: ${path}: "${arg}"`);
      break;
    case '$pop':
      if (kindOf(arg) !== 'number') fail('FailedToParse', `Expected a number in: ${path}: ${String(arg)}`);
      break;
    case '$pullAll':
      if (!Array.isArray(arg)) fail('BadValue', `$pullAll requires an array argument but was given a ${kindOf(arg)}`);
      break;
    case '$currentDate':
      if (arg !== true && arg !== false && !(isPlainObject(arg) && (arg.$type === 'date' || arg.$type === 'timestamp'))) {
        fail('BadValue', `${path} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`);
      }
      break;
    default:
      break;
  }
}

/** Classifies and validates an update document (operators, replacement or pipeline). */
export function parseUpdate(u: unknown): UpdateSpec {
  if (Array.isArray(u)) {
    for (const stage of u) {
      const name = isPlainObject(stage) ? Object.keys(stage)[0] : undefined;
      if (name === undefined || !PIPELINE_STAGES.has(name)) {
        fail('BadValue', `Invalid update pipeline stage: ${String(name)}; only $addFields, $set, $project, $unset, $replaceRoot and $replaceWith are allowed`);
      }
    }
    return { kind: 'pipeline', stages: u as Doc[] };
  }
  if (!isPlainObject(u)) fail('FailedToParse', 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  // Stray `$` fields in a replacement are refused when the result is stored (limits.ts), as mongod does.
  if (keys.length === 0 || !(keys[0] as string).startsWith('$')) return { kind: 'replacement', doc: u };
  const entries: OperatorEntry[] = [];
  for (const op of keys) {
    if (!UPDATE_OPERATORS.has(op)) {
      fail('FailedToParse', `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
    const fields = u[op];
    if (!isPlainObject(fields)) {
      fail('FailedToParse', `Modifiers operate on fields but we found type ${kindOf(fields)} instead. For example: {$mod: {<field>: ...}} not {${op}: ${JSON.stringify(fields)}}`);
    }
    for (const [path, arg] of Object.entries(fields)) {
      validateArg(op, path, arg);
      entries.push({ op, path, arg });
    }
  }
  checkConflicts(entries);
  // The server applies modifications in lexicographic field order, which also fixes where new fields land.
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { kind: 'operators', entries };
}
