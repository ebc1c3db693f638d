import type { Long } from 'bson';
import { Context } from 'mingo';
import { Aggregator } from 'mingo/aggregator';
import { Lazy, type Iterator } from 'mingo/lazy';
import type { Options as MingoOptions } from 'mingo/types';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { isPlainObject, type Doc } from './bson-values.ts';
import { CommandError } from './errors.ts';
import { compileFilter } from './matcher.ts';
import { compileSort } from './sort.ts';

type Ops = Record<`$${string}`, never>;
type Stage = (coll: Iterator, expr: unknown, options: MingoOptions) => Iterator;

// $match and $sort inside pipelines use this server's BSON-aware filter and ordering instead of mingo's.
const match: Stage = (coll, expr, options) => {
  const pred = compileFilter(expr, options);
  return coll.filter((doc: Doc) => pred(doc));
};

const sort: Stage = (coll, expr) => {
  const sorter = compileSort(expr);
  if (!sorter) throw new CommandError(15976, '$sort stage must have at least one sort key');
  return coll.transform((docs: Doc[]) => Lazy(sorter.sort(docs)));
};

const context = Context.init({
  accumulator: accumulatorOperators as unknown as Ops,
  expression: expressionOperators as unknown as Ops,
  pipeline: { ...(pipelineOperators as unknown as Ops), ...({ $match: match, $sort: sort } as unknown as Ops) },
  projection: projectionOperators as unknown as Ops,
  query: queryOperators as unknown as Ops,
  window: windowOperators as unknown as Ops,
});

/** Pipeline stage names the engine understands. */
export const KNOWN_STAGES: ReadonlySet<string> = new Set(Object.keys(pipelineOperators));

/**
 * Private copy of a document for the pipeline engine: stages may write into their inputs, and
 * int64 values within double precision become plain numbers so mingo's arithmetic applies to them.
 */
export function pipelineCopy<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(pipelineCopy) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if ((v as { _bsontype?: string })._bsontype === 'Long') {
    const n = (v as unknown as Long).toNumber();
    return (Number.isSafeInteger(n) ? n : v) as T;
  }
  if (!isPlainObject(v)) return v;
  const out: Doc = {};
  for (const k of Object.keys(v)) out[k] = pipelineCopy(v[k]);
  return out as T;
}

/** Runs pipeline stages over already-copied documents; `resolve` supplies `$lookup`/`$unionWith` sources. */
export function runPipeline(docs: Doc[], stages: Doc[], resolve: (name: string) => Doc[]): Doc[] {
  try {
    const aggregator = new Aggregator(stages, { context, collectionResolver: resolve });
    return aggregator.run(docs) as Doc[];
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(2, `aggregation failed: ${(err as Error).message}`);
  }
}
