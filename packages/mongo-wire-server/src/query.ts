import { canonicalKey } from './bson-format.ts';
import { compareValues, type Doc } from './bson-values.ts';
import type { Collection } from './collection.ts';
import { compileFilter, idCandidates, type Predicate } from './matcher.ts';
import { planLookup } from './planner.ts';
import type { Sorter } from './sort.ts';

/** What a selection did, as explain reports it. */
export interface SelectStats {
  /** The access path, in explain's `winningPlan` shape. */
  plan: Doc;
  /** Index entries read (one per candidate taken from an index). */
  keysExamined: number;
  /** Documents the filter was applied to. */
  docsExamined: number;
}

/** Options of a document selection. */
export interface SelectOptions {
  readonly sort?: Sorter | undefined;
  readonly skip?: number;
  /** 0 or absent: no limit. */
  readonly limit?: number;
  /** Pre-compiled filter, when the caller already has one. */
  readonly predicate?: Predicate;
  /** Filled in with the access path and counts when given. */
  readonly stats?: SelectStats;
}

// Up to this many results, a bounded insertion buffer beats sorting every match.
const TOP_K_MAX = 1000;

const indexScan = (spec: { key: Doc; name: string }): Doc => ({ stage: 'FETCH', inputStage: { stage: 'IXSCAN', keyPattern: spec.key, indexName: spec.name } });

function candidates(coll: Collection, filter: unknown, stats: SelectStats | undefined): Iterable<Doc> {
  const ids = idCandidates(filter);
  if (ids === undefined) {
    const plan = planLookup(coll, filter);
    if (stats) {
      stats.plan = plan ? indexScan(plan.spec) : { stage: 'COLLSCAN', direction: 'forward' };
      stats.keysExamined = plan ? plan.docs.length : 0;
    }
    return plan ? plan.docs : coll.values();
  }
  // An _id lookup walks the _id index, so results come back in _id order.
  const unique = new Map<string, unknown>();
  for (const id of ids) unique.set(canonicalKey(id), id);
  const docs: Doc[] = [];
  for (const id of [...unique.values()].sort(compareValues)) {
    const doc = coll.byId(id);
    if (doc) docs.push(doc);
  }
  if (stats) {
    stats.plan = indexScan({ key: { _id: 1 }, name: '_id_' });
    stats.keysExamined = unique.size;
  }
  return docs;
}

/**
 * Stored documents matching `filter`, in sort order when given (else natural or `_id` order),
 * after skip/limit. Uses the `_id` map instead of a scan when the filter pins `_id` down, else a
 * secondary index's lookup when the planner finds one that narrows the candidates.
 */
export function selectDocs(coll: Collection | undefined, filter: unknown, opts: SelectOptions = {}): Doc[] {
  if (!coll) return [];
  const stats = opts.stats;
  const compiled = opts.predicate ?? compileFilter(filter);
  const pred: Predicate = stats
    ? (doc) => {
        stats.docsExamined++;
        return compiled(doc);
      }
    : compiled;
  const skip = opts.skip ?? 0;
  const limit = opts.limit ?? 0;
  const source = candidates(coll, filter, stats);
  if (opts.sort) {
    if (limit === 1 && skip === 0) {
      const best = opts.sort.first(source, pred);
      return best ? [best] : [];
    }
    if (limit > 0 && skip + limit <= TOP_K_MAX) return opts.sort.top(source, pred, skip + limit).slice(skip);
    const matched: Doc[] = [];
    for (const doc of source) if (pred(doc)) matched.push(doc);
    const sorted = opts.sort.sort(matched);
    return sorted.slice(skip, limit > 0 ? skip + limit : undefined);
  }
  const out: Doc[] = [];
  let skipped = 0;
  for (const doc of source) {
    if (!pred(doc)) continue;
    if (skipped < skip) {
      skipped++;
      continue;
    }
    out.push(doc);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}

/** First matching document (by sort when given), or undefined. */
export function selectOne(coll: Collection | undefined, filter: unknown, sort?: Sorter): Doc | undefined {
  return selectDocs(coll, filter, { sort, limit: 1 })[0];
}
