import { canonicalKey } from '../bson-format.ts';
import { compareValues, type Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';
import { collectLeaves, splitPath } from '../paths.ts';
import { compileProjection } from '../projection.ts';
import { selectDocs } from '../query.ts';
import { compileSort } from '../sort.ts';
import { collectionName, docOption, intOption, type CommandHandler } from './context.ts';

const DEFAULT_BATCH = 101;

function nonNegative(value: number, what: string): number {
  if (value < 0) fail('BadValue', `${what} value must be non-negative, but received: ${value}`);
  return value;
}

const find: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'find');
  const ns = `${ctx.db}.${name}`;
  const filter = docOption(cmd, 'filter') ?? {};
  const sort = compileSort(docOption(cmd, 'sort'));
  const project = compileProjection(docOption(cmd, 'projection'), filter);
  const skip = nonNegative(intOption(cmd, 'skip', 0), 'Skip');
  let limit = intOption(cmd, 'limit', 0);
  let single = cmd.singleBatch === true;
  if (limit < 0) {
    // Legacy negative limit: at most |limit| documents in one batch, no cursor.
    limit = -limit;
    single = true;
  }
  const batchSize = nonNegative(intOption(cmd, 'batchSize', single && limit > 0 ? limit : DEFAULT_BATCH), 'BatchSize');
  const docs = selectDocs(ctx.store.get(ctx.db, name), filter, { sort, skip, limit });
  return cursorReply(ns, ctx.cursors.open(ns, docs, project, batchSize, single));
};

const getMore: CommandHandler = (cmd, ctx) => {
  const coll = cmd.collection;
  if (typeof coll !== 'string' || coll.length === 0) fail('BadValue', "getMore requires a 'collection' string");
  const ns = `${ctx.db}.${coll}`;
  const batch = ctx.cursors.more(cmd.getMore, ns, nonNegative(intOption(cmd, 'batchSize', 0), 'BatchSize'));
  return { cursor: { nextBatch: batch.docs, id: batch.id, ns }, ok: 1 };
};

const killCursors: CommandHandler = (cmd, ctx) => {
  collectionName(cmd, 'killCursors');
  if (!Array.isArray(cmd.cursors)) fail('BadValue', "killCursors requires a 'cursors' array");
  const { killed, notFound } = ctx.cursors.kill(cmd.cursors);
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

const count: CommandHandler = (cmd, ctx) => {
  const coll = ctx.store.get(ctx.db, collectionName(cmd, 'count'));
  const query = docOption(cmd, 'query') ?? {};
  const skip = nonNegative(intOption(cmd, 'skip', 0), 'Skip');
  const limit = Math.abs(intOption(cmd, 'limit', 0));
  if (!coll) return { n: 0, ok: 1 };
  if (Object.keys(query).length === 0 && skip === 0 && limit === 0) return { n: coll.size, ok: 1 };
  return { n: selectDocs(coll, query, { skip, limit }).length, ok: 1 };
};

const distinct: CommandHandler = (cmd, ctx) => {
  const coll = ctx.store.get(ctx.db, collectionName(cmd, 'distinct'));
  if (typeof cmd.key !== 'string' || cmd.key.length === 0) fail('BadValue', "distinct requires a non-empty 'key' string");
  const parts = splitPath(cmd.key);
  const values = new Map<string, unknown>();
  for (const doc of selectDocs(coll, docOption(cmd, 'query') ?? {})) {
    for (const v of collectLeaves(doc, parts)) if (v !== undefined) values.set(canonicalKey(v), v);
  }
  return { values: [...values.values()].sort(compareValues), ok: 1 };
};

/** Read commands and cursor management. */
export const FIND_COMMANDS: Record<string, CommandHandler> = { find, getMore, killCursors, count, distinct };

/** `{cursor: {firstBatch, id, ns}, ok: 1}` for a freshly opened cursor. */
export function cursorReply(ns: string, batch: { docs: Doc[]; id: unknown }): Doc {
  return { cursor: { firstBatch: batch.docs, id: batch.id, ns }, ok: 1 };
}
