import { deepIdentical, type Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';
import { checkStorable } from '../limits.ts';
import { compileProjection } from '../projection.ts';
import { selectDocs } from '../query.ts';
import { compileSort } from '../sort.ts';
import { applyUpdate, buildUpsertDoc } from '../update/apply.ts';
import { parseUpdate } from '../update/parse.ts';
import { compileArrayFilters } from '../update/positional.ts';
import { collectionName, docOption, type CommandHandler } from './context.ts';

function validate(remove: boolean, hasUpdate: boolean, upsert: boolean, returnNew: boolean): void {
  if (remove && hasUpdate) fail('FailedToParse', 'Cannot specify both an update and remove=true');
  if (!remove && !hasUpdate) fail('FailedToParse', 'Either an update or remove=true must be specified');
  if (remove && upsert) fail('FailedToParse', 'Cannot specify both upsert=true and remove=true');
  if (remove && returnNew) fail('FailedToParse', "Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
}

/**
 * findAndModify: selects one document (by sort), then removes or updates/upserts it in the same
 * synchronous step, so concurrent claimers can never receive the same document.
 */
const findAndModify =
  (command: string): CommandHandler =>
  (cmd, ctx) => {
    const name = collectionName(cmd, command);
    const query = docOption(cmd, 'query') ?? {};
    const remove = cmd.remove === true;
    const upsert = cmd.upsert === true;
    const returnNew = cmd.new === true;
    validate(remove, cmd.update !== undefined && cmd.update !== null, upsert, returnNew);
    const project = compileProjection(docOption(cmd, 'fields'), query);
    const shape = (doc: Doc | undefined): Doc | null => (doc === undefined ? null : project ? project(doc) : doc);
    const sort = compileSort(docOption(cmd, 'sort'));
    const coll = ctx.store.get(ctx.db, name);
    const target = selectDocs(coll, query, { sort, limit: 1 })[0];

    if (remove) {
      if (target === undefined) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
      coll?.remove(target);
      return { lastErrorObject: { n: 1 }, value: shape(target), ok: 1 };
    }
    const spec = parseUpdate(cmd.update);
    const arrayFilters = compileArrayFilters(cmd.arrayFilters);
    if (target !== undefined) {
      const next = applyUpdate(target, spec, { filter: query, arrayFilters, isInsert: false });
      if (!deepIdentical(target, next)) {
        checkStorable(next, 'update', spec.kind === 'pipeline');
        coll?.replace(target, next);
      }
      return { lastErrorObject: { n: 1, updatedExisting: true }, value: shape(returnNew ? next : target), ok: 1 };
    }
    if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    const doc = buildUpsertDoc(query, spec, arrayFilters);
    checkStorable(doc, 'upsert', spec.kind === 'pipeline');
    ctx.store.ensure(ctx.db, name).coll.insert(doc);
    return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: returnNew ? shape(doc) : null, ok: 1 };
  };

/** findAndModify under both spellings the server accepts. */
export const FIND_AND_MODIFY_COMMANDS: Record<string, CommandHandler> = {
  findAndModify: findAndModify('findAndModify'),
  findandmodify: findAndModify('findandmodify'),
};
