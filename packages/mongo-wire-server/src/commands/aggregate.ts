import { isPlainObject, kindOf, toNumber, type Doc } from '../bson-values.ts';
import type { Collection } from '../collection.ts';
import { CommandError, fail } from '../errors.ts';
import { compileFilter } from '../matcher.ts';
import { KNOWN_STAGES, pipelineCopy, runPipeline } from '../mingo-engine.ts';
import { selectDocs } from '../query.ts';
import { compileSort } from '../sort.ts';
import { intOption, type CommandHandler } from './context.ts';
import { cursorReply } from './find.ts';

function stageName(stage: unknown): string {
  const keys = isPlainObject(stage) ? Object.keys(stage) : [];
  if (keys.length !== 1) throw new CommandError(40323, 'A pipeline stage specification object must contain exactly one field.');
  const name = keys[0] as string;
  if (name === '$out' || name === '$merge') fail('NotImplemented', `${name} is not supported by this server; read the results and write them with insert/update instead`);
  if (name === '$changeStream') throw new CommandError(40573, 'The $changeStream stage is only supported on replica sets');
  if (!KNOWN_STAGES.has(name)) throw new CommandError(40324, `Unrecognized pipeline stage name: '${name}'`);
  return name;
}

function positiveInt(value: unknown, stage: string): number {
  const n = toNumber(value);
  if (kindOf(value) !== 'number' || !Number.isInteger(n) || n < 0 || (stage === '$limit' && n === 0)) {
    fail('BadValue', `invalid argument to ${stage} stage: ${String(value)}`);
  }
  return n;
}

/** `{$group: {_id: <constant>, f: {$sum: <number>}, ...}}`, the shape countDocuments sends. */
function constantCount(spec: unknown, count: number): Doc[] | undefined {
  if (!isPlainObject(spec)) return undefined;
  const id = spec._id;
  if (isPlainObject(id) || Array.isArray(id) || (typeof id === 'string' && id.startsWith('$'))) return undefined;
  const out: Doc = { _id: id };
  for (const [field, acc] of Object.entries(spec)) {
    if (field === '_id') continue;
    if (!isPlainObject(acc) || Object.keys(acc).length !== 1 || typeof acc.$sum !== 'number') return undefined;
    out[field] = count * acc.$sum;
  }
  return count === 0 ? [] : [out];
}

/** Runs leading $match/$sort/$skip/$limit/$count and counting $group natively; the rest goes to mingo. */
function execute(coll: Collection | undefined, pipeline: Doc[], resolve: (name: string) => Doc[]): Doc[] {
  let i = 0;
  const first = pipeline[0];
  let docs: Doc[];
  if (first && '$match' in first) {
    docs = selectDocs(coll, first.$match);
    i = 1;
  } else {
    docs = coll ? [...coll.values()] : [];
  }
  for (; i < pipeline.length; i++) {
    const stage = pipeline[i] as Doc;
    const [name, arg] = Object.entries(stage)[0] as [string, unknown];
    if (name === '$match') docs = docs.filter(compileFilter(arg));
    else if (name === '$sort') docs = (compileSort(arg) ?? fail('BadValue', '$sort stage must have at least one sort key')).sort(docs);
    else if (name === '$skip') docs = docs.slice(positiveInt(arg, name));
    else if (name === '$limit') docs = docs.slice(0, positiveInt(arg, name));
    else if (name === '$count' && typeof arg === 'string' && arg.length > 0 && !arg.startsWith('$')) docs = docs.length ? [{ [arg]: docs.length }] : [];
    else {
      const counted = name === '$group' ? constantCount(arg, docs.length) : undefined;
      if (counted === undefined) break;
      docs = counted;
    }
  }
  if (i >= pipeline.length) return docs;
  return runPipeline(docs.map(pipelineCopy), pipeline.slice(i), resolve);
}

const aggregate: CommandHandler = (cmd, ctx) => {
  const target = cmd.aggregate;
  if (typeof target !== 'string' && target !== 1) fail('InvalidNamespace', `Invalid aggregate target: ${String(target)}`);
  if (!Array.isArray(cmd.pipeline)) fail('TypeMismatch', "'pipeline' option must be specified as an array");
  if (cmd.explain === true) fail('NotImplemented', 'explain is not supported by this server');
  if (!isPlainObject(cmd.cursor)) fail('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
  const pipeline = cmd.pipeline as Doc[];
  pipeline.forEach(stageName);
  const batchSize = intOption(cmd.cursor, 'batchSize', 101);
  const name = typeof target === 'string' ? target : undefined;
  const coll = name === undefined ? undefined : ctx.store.get(ctx.db, name);
  const resolve = (from: string): Doc[] => [...(ctx.store.get(ctx.db, from)?.values() ?? [])].map(pipelineCopy);
  const docs = execute(coll, pipeline, resolve);
  const ns = name === undefined ? `${ctx.db}.$cmd.aggregate` : `${ctx.db}.${name}`;
  return cursorReply(ns, ctx.cursors.open(ns, docs, undefined, batchSize));
};

/** Aggregation framework entry point. */
export const AGGREGATE_COMMANDS: Record<string, CommandHandler> = { aggregate };
