import { canonicalKey } from './bson-format.ts';
import { compareValues, type Doc } from './bson-values.ts';
import type { Collection } from './collection.ts';
import { compileFilter, idCandidates, type Predicate } from './matcher.ts';
import type { Sorter } from './sort.ts';

/** Options of a document selection. */
export interface SelectOptions {
  readonly sort?: Sorter | undefined;
  readonly skip?: number;
  /** 0 or absent: no limit. */
  readonly limit?: number;
  /** Pre-compiled filter, when the caller already has one. */
  readonly predicate?: Predicate;
}

// Up to this many results, a bounded insertion buffer beats sorting every match.
const TOP_K_MAX = 1000;

function candidates(coll: Collection, filter: unknown): Iterable<Doc> {
  const ids = idCandidates(filter);
  if (ids === undefined) return coll.values();
  // An _id lookup walks the _id index, so results come back in _id order.
  const unique = new Map<string, unknown>();
  for (const id of ids) unique.set(canonicalKey(id), id);
  const docs: Doc[] = [];
  for (const id of [...unique.values()].sort(compareValues)) {
    const doc = coll.byId(id);
    if (doc) docs.push(doc);
  }
  return docs;
}

/**
 * Stored documents matching `filter`, in sort order when given (else natural or `_id` order),
 * after skip/limit. Uses the `_id` map instead of a scan when the filter pins `_id` down.
 */
export function selectDocs(coll: Collection | undefined, filter: unknown, opts: SelectOptions = {}): Doc[] {
  if (!coll) return [];
  const pred = opts.predicate ?? compileFilter(filter);
  const skip = opts.skip ?? 0;
  const limit = opts.limit ?? 0;
  const source = candidates(coll, filter);
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
