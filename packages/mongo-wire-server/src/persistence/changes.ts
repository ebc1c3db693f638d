import type { Doc } from '../bson-values.ts';
import type { Store } from '../store.ts';
import type { IndexSpec } from '../unique-index.ts';

/**
 * One state change, as journalled and as a snapshot lists a store's contents. Changes are at
 * document level (the document after the write, not the command that produced it), so replay
 * never re-runs query or update logic and always lands on the state that was acknowledged.
 */
export type Change =
  | { readonly op: 'create'; readonly db: string; readonly coll: string; readonly options: Doc }
  | { readonly op: 'drop'; readonly db: string; readonly coll: string }
  | { readonly op: 'rename'; readonly db: string; readonly coll: string; readonly toDb: string; readonly to: string; readonly dropTarget: boolean }
  | { readonly op: 'dropDatabase'; readonly db: string }
  | { readonly op: 'put'; readonly db: string; readonly coll: string; readonly doc: Doc }
  | { readonly op: 'delete'; readonly db: string; readonly coll: string; readonly id: unknown }
  | { readonly op: 'createIndex'; readonly db: string; readonly coll: string; readonly spec: IndexSpec }
  | { readonly op: 'dropIndex'; readonly db: string; readonly coll: string; readonly name: string };

function text(record: Doc, field: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw new Error(`record field '${field}' is not a string`);
  return value;
}

function subDoc(record: Doc, field: string): Doc {
  const value = record[field];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`record field '${field}' is not a document`);
  return value as Doc;
}

/**
 * Applies one decoded change to `store`. Every change records a transition the live server made
 * successfully, so a failure here (a unique index refusing a document, say) means the files are
 * not what this server wrote, and start-up stops rather than serve a different state.
 */
export function applyChange(store: Store, record: Doc): void {
  const op = record.op;
  switch (op) {
    case 'create':
      store.ensure(text(record, 'db'), text(record, 'coll'), subDoc(record, 'options'));
      return;
    case 'drop':
      store.drop(text(record, 'db'), text(record, 'coll'));
      return;
    case 'rename':
      store.rename(text(record, 'db'), text(record, 'coll'), text(record, 'toDb'), text(record, 'to'), record.dropTarget === true);
      return;
    case 'dropDatabase':
      store.dropDatabase(text(record, 'db'));
      return;
    case 'put': {
      const doc = subDoc(record, 'doc');
      const { coll } = store.ensure(text(record, 'db'), text(record, 'coll'));
      const current = coll.byId(doc._id);
      if (current) coll.replace(current, doc);
      else coll.insert(doc);
      return;
    }
    case 'delete': {
      const coll = store.get(text(record, 'db'), text(record, 'coll'));
      const current = coll?.byId(record.id);
      if (current) coll?.remove(current);
      return;
    }
    case 'createIndex':
      store.ensure(text(record, 'db'), text(record, 'coll')).coll.addIndex(subDoc(record, 'spec') as IndexSpec);
      return;
    case 'dropIndex':
      store.get(text(record, 'db'), text(record, 'coll'))?.dropIndex(text(record, 'name'));
      return;
    default:
      throw new Error(`unknown record op ${JSON.stringify(op)}`);
  }
}

/** The changes that rebuild `store` from empty: each collection, its documents in natural order, then its indexes. */
export function* contentsOf(store: Store): Generator<Change> {
  for (const db of store.databaseNames()) {
    for (const coll of store.collections(db)) {
      yield { op: 'create', db, coll: coll.name, options: coll.options };
      for (const doc of coll.values()) yield { op: 'put', db, coll: coll.name, doc };
      for (const spec of coll.indexes()) {
        if (spec.name !== '_id_') yield { op: 'createIndex', db, coll: coll.name, spec };
      }
    }
  }
}
