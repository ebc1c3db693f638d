import { ObjectId } from 'bson';
import { deepIdentical, isPlainObject, type Doc } from '../bson-values.ts';
import { CommandError, fail } from '../errors.ts';
import { checkStorable } from '../limits.ts';
import { compileFilter } from '../matcher.ts';
import { selectDocs } from '../query.ts';
import { applyUpdate, buildUpsertDoc, withIdFirst } from '../update/apply.ts';
import { parseUpdate } from '../update/parse.ts';
import { compileArrayFilters } from '../update/positional.ts';
import { collectionName, type CommandContext, type CommandHandler } from './context.ts';

function statements(cmd: Doc, field: string): unknown[] {
  const list = cmd[field];
  if (!Array.isArray(list)) fail('FailedToParse', `BSON field '${field}' is missing but a required field`);
  if (list.length === 0 || list.length > 100_000) fail('BadValue', `Write batch sizes must be between 1 and 100000. Got ${list.length} operations.`);
  return list;
}

/**
 * Runs each statement, collecting per-statement failures as writeErrors; an ordered batch stops at
 * the first failure. Non-command errors are bugs and propagate.
 */
function runBatch(cmd: Doc, list: unknown[], each: (stmt: unknown, index: number) => void): Doc[] {
  const ordered = cmd.ordered !== false;
  const writeErrors: Doc[] = [];
  for (let i = 0; i < list.length; i++) {
    try {
      each(list[i], i);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      writeErrors.push(err.toWriteError(i));
      if (ordered) break;
    }
  }
  return writeErrors;
}

function prepareInsert(raw: unknown): Doc {
  if (!isPlainObject(raw)) fail('BadValue', 'document to insert must be an object');
  const doc = '_id' in raw ? withIdFirst(raw) : { _id: new ObjectId(), ...raw };
  checkStorable(doc, 'insert');
  return doc;
}

const insert: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'insert');
  const docs = statements(cmd, 'documents');
  const { coll } = ctx.store.ensure(ctx.db, name);
  let n = 0;
  const writeErrors = runBatch(cmd, docs, (raw) => {
    coll.insert(prepareInsert(raw));
    n++;
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

// Statement fields mongod 7.0 parses; any other (e.g. 8.0's `sort` on updates) is refused as it refuses it.
const STATEMENT_FIELDS: Record<string, ReadonlySet<string>> = {
  updates: new Set(['q', 'u', 'c', 'arrayFilters', 'multi', 'upsert', 'upsertSupplied', 'collation', 'hint', 'sampleId', 'allowShardKeyUpdatesWithoutFullShardKeyInQuery']),
  deletes: new Set(['q', 'limit', 'collation', 'hint', 'sampleId']),
};

/** Refuses the whole command, as mongod's parser does, when any statement carries an unknown field. */
function checkStatementFields(cmd: Doc, command: string, list: 'updates' | 'deletes'): unknown[] {
  const stmts = statements(cmd, list);
  for (const stmt of stmts) {
    const unknown = isPlainObject(stmt) ? Object.keys(stmt).find((k) => !STATEMENT_FIELDS[list]?.has(k)) : undefined;
    if (unknown !== undefined) fail('IDLUnknownField', `BSON field '${command}.${list}.${unknown}' is an unknown field.`);
  }
  return stmts;
}

function statementDoc(stmt: unknown): Doc {
  if (!isPlainObject(stmt)) fail('FailedToParse', 'each write statement must be an object');
  return stmt;
}

function filterOf(stmt: Doc): Doc {
  const q = stmt.q ?? {};
  if (!isPlainObject(q)) fail('TypeMismatch', "BSON field 'q' is the wrong type, expected type 'object'");
  return q;
}

const remove: CommandHandler = (cmd, ctx) => {
  const coll = ctx.store.get(ctx.db, collectionName(cmd, 'delete'));
  let n = 0;
  const writeErrors = runBatch(cmd, checkStatementFields(cmd, 'delete', 'deletes'), (raw) => {
    const stmt = statementDoc(raw);
    const limit = Number(stmt.limit ?? 0);
    if (limit !== 0 && limit !== 1) fail('FailedToParse', `The limit field in delete objects must be 0 or 1. Got ${String(stmt.limit)}`);
    for (const doc of selectDocs(coll, filterOf(stmt), { limit })) {
      coll?.remove(doc);
      n++;
    }
  });
  return { n, ...(writeErrors.length ? { writeErrors } : {}), ok: 1 };
};

function updateOne(ctx: CommandContext, name: string, stmt: Doc, index: number, totals: { n: number; nModified: number; upserted: Doc[] }): void {
  const q = filterOf(stmt);
  const spec = parseUpdate(stmt.u);
  const multi = stmt.multi === true;
  if (multi && spec.kind === 'replacement') fail('FailedToParse', 'multi update is not supported for replacement-style update');
  const arrayFilters = compileArrayFilters(stmt.arrayFilters);
  const coll = ctx.store.get(ctx.db, name);
  const targets = selectDocs(coll, q, { limit: multi ? 0 : 1, predicate: compileFilter(q) });
  if (targets.length === 0) {
    if (stmt.upsert !== true) return;
    const doc = buildUpsertDoc(q, spec, arrayFilters);
    checkStorable(doc, 'upsert', spec.kind === 'pipeline');
    ctx.store.ensure(ctx.db, name).coll.insert(doc);
    totals.n++;
    totals.upserted.push({ index, _id: doc._id });
    return;
  }
  for (const doc of targets) {
    const next = applyUpdate(doc, spec, { filter: q, arrayFilters, isInsert: false });
    if (!deepIdentical(doc, next)) {
      checkStorable(next, 'update', spec.kind === 'pipeline');
      coll?.replace(doc, next);
      totals.nModified++;
    }
    totals.n++;
  }
}

const update: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'update');
  const totals = { n: 0, nModified: 0, upserted: [] as Doc[] };
  const writeErrors = runBatch(cmd, checkStatementFields(cmd, 'update', 'updates'), (raw, index) => updateOne(ctx, name, statementDoc(raw), index, totals));
  return {
    n: totals.n,
    nModified: totals.nModified,
    ...(totals.upserted.length ? { upserted: totals.upserted } : {}),
    ...(writeErrors.length ? { writeErrors } : {}),
    ok: 1,
  };
};

/** insert / update / delete. */
export const WRITE_COMMANDS: Record<string, CommandHandler> = { insert, update, delete: remove };
