import { MongoServerError } from 'mongodb';
import type { Db, Document, IndexDescription } from 'mongodb';
import { ParleyError } from '../../domain/errors.ts';
import { translateMongoError } from './mongo-errors.ts';

/** Where start-up reports each index it drops or builds; the process logger fits. */
export interface IndexMigrationLog {
  info(fields: Record<string, unknown>, message: string): void;
}

export interface IndexDeclarations {
  readonly indexes: Readonly<Record<string, readonly IndexDescription[]>>;
  readonly retired: Readonly<Record<string, readonly string[]>>;
}

const NAMESPACE_NOT_FOUND = 26;
const INDEX_NOT_FOUND = 27;
const DUPLICATE_KEY = 11000;
const INDEX_CONFLICT = new Set([85, 86]); // IndexOptionsConflict, IndexKeySpecsConflict

// The options that change what an index holds or enforces; `v`, `ns` and `background` do not.
const FLAGS = ['unique', 'sparse', 'hidden'] as const;
const VALUES = ['partialFilterExpression', 'expireAfterSeconds', 'wildcardProjection'] as const;

/**
 * Brings the database's indexes to the declared ones. `createIndexes` alone refuses an index whose
 * name or keys exist in another form, so a changed declaration would stop start-up with a driver
 * message: Parley owns these collections, so such an index is dropped and built again instead.
 * What cannot be repaired without a decision (rows that break a new unique index) stops start-up
 * with STORE_MIGRATION_REQUIRED, saying how to find them. A matching database sees no change.
 */
export async function reconcileIndexes(db: Db, declared: IndexDeclarations, log: IndexMigrationLog): Promise<void> {
  // A retired index would keep enforcing what its successor no longer does; it goes first.
  for (const [collection, names] of Object.entries(declared.retired)) {
    const existing = await listIndexes(db, collection);
    for (const name of names) {
      if (existing.some((ix) => ix['name'] === name)) await dropIndex(db, collection, name, log, { reason: 'retired' });
    }
  }
  for (const [collection, indexes] of Object.entries(declared.indexes)) {
    const existing = await listIndexes(db, collection);
    const declaredNames = new Set(indexes.map((ix) => ix.name));
    for (const index of indexes) {
      const name = index.name;
      if (name === undefined) throw ParleyError.of('INTERNAL', { reason: `an index of ${collection} is declared without a name` });
      const current = existing.find((ix) => ix['name'] === name);
      if (current !== undefined) {
        const changed = indexDifferences(current, index);
        if (changed.length === 0) continue;
        await dropIndex(db, collection, name, log, { reason: 'declaration changed', changed });
      }
      // The same keys under another, undeclared name (an earlier version's, or one made by hand)
      // would make MongoDB refuse the declared index.
      for (const other of existing) {
        const otherName = String(other['name']);
        if (otherName === '_id_' || declaredNames.has(otherName) || !sameKey(other['key'], index.key)) continue;
        if (canonical(other['partialFilterExpression']) !== canonical(index.partialFilterExpression)) continue;
        if (!collationMatches(other['collation'], index.collation)) continue;
        await dropIndex(db, collection, otherName, log, { reason: `same keys as ${name}` });
      }
      await createIndex(db, collection, index, name, log);
    }
  }
}

/** The attributes in which an existing index differs from its declaration; empty when it matches. */
export function indexDifferences(existing: Document, declared: IndexDescription): string[] {
  const changed: string[] = [];
  if (!sameKey(existing['key'], declared.key)) changed.push('key');
  for (const flag of FLAGS) if ((existing[flag] === true) !== (declared[flag] === true)) changed.push(flag);
  for (const option of VALUES) if (canonical(existing[option]) !== canonical(declared[option])) changed.push(option);
  if (!collationMatches(existing['collation'], declared.collation)) changed.push('collation');
  return changed;
}

async function listIndexes(db: Db, collection: string): Promise<Document[]> {
  try {
    return await db.collection(collection).listIndexes().toArray();
  } catch (err) {
    if (err instanceof MongoServerError && err.code === NAMESPACE_NOT_FOUND) return [];
    throw translateMongoError(err, `listIndexes(${collection})`);
  }
}

async function dropIndex(db: Db, collection: string, index: string, log: IndexMigrationLog, why: Record<string, unknown>): Promise<void> {
  try {
    await db.collection(collection).dropIndex(index);
  } catch (err) {
    // Another instance starting at the same time got there first.
    if (err instanceof MongoServerError && (err.code === INDEX_NOT_FOUND || err.code === NAMESPACE_NOT_FOUND)) return;
    throw translateMongoError(err, `dropIndex(${collection}.${index})`);
  }
  log.info({ collection, index, ...why }, 'index dropped');
}

async function createIndex(db: Db, collection: string, index: IndexDescription, name: string, log: IndexMigrationLog): Promise<void> {
  try {
    await db.collection(collection).createIndexes([index]);
  } catch (err) {
    // The driver's message quotes the clashing key values (phone numbers among them): never passed on.
    if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) throw duplicatesBlock(collection, index, name);
    if (err instanceof MongoServerError && typeof err.code === 'number' && INDEX_CONFLICT.has(err.code)) {
      throw ParleyError.of('STORE_MIGRATION_REQUIRED', {
        collection,
        index: name,
        reason: `another index with this name or these keys exists in a form Parley does not declare; list them with db.getCollection(${JSON.stringify(collection)}).getIndexes(), drop the one in the way, and start again`,
      }, { details: { collection, index: name } });
    }
    throw translateMongoError(err, `createIndex(${collection}.${name})`);
  }
  log.info({ collection, index: name }, 'index built');
}

/** The refusal for a unique index over rows that share its key, with the aggregation that lists them. */
function duplicatesBlock(collection: string, index: IndexDescription, name: string): ParleyError {
  const fields = keyEntries(index.key).map(([field]) => field);
  const scope = index.partialFilterExpression
    ?? (index.sparse === true ? { $or: fields.map((f) => ({ [f]: { $exists: true } })) } : undefined);
  const pipeline: Document[] = [
    ...(scope === undefined ? [] : [{ $match: scope }]),
    { $group: { _id: Object.fromEntries(fields.map((f) => [f.replaceAll('.', '_'), `$${f}`])), count: { $sum: 1 }, ids: { $push: '$_id' } } },
    { $match: { count: { $gt: 1 } } },
  ];
  const query = `db.getCollection(${JSON.stringify(collection)}).aggregate(${JSON.stringify(pipeline)}, { allowDiskUse: true })`;
  return ParleyError.of('STORE_MIGRATION_REQUIRED', {
    collection,
    index: name,
    reason: `rows share its unique key (${fields.join(', ')}). Remove or merge them, then start again; they are listed by ${query}`,
  }, { details: { collection, index: name, duplicatesPipeline: pipeline } });
}

function keyEntries(key: unknown): [string, unknown][] {
  if (key instanceof Map) return [...(key as Map<string, unknown>).entries()];
  return key !== null && typeof key === 'object' ? Object.entries(key) : [];
}

// Key order is part of an index; 1 and 1.0 are the same direction.
function sameKey(a: unknown, b: unknown): boolean {
  return JSON.stringify(keyEntries(a)) === JSON.stringify(keyEntries(b));
}

// MongoDB reports a collation with every default filled in, so only the declared fields are compared.
function collationMatches(existing: unknown, declared: unknown): boolean {
  if (declared === undefined || declared === null) return existing === undefined || existing === null;
  if (existing === null || typeof existing !== 'object') return false;
  return Object.entries(declared).every(([field, value]) => canonical((existing as Document)[field]) === canonical(value));
}

/** A comparable form of an option: field order inside documents does not matter, absent is empty. */
function canonical(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
