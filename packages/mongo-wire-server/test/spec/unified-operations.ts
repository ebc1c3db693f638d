import type { AnyBulkWriteOperation, BulkWriteResult, Collection, Db, Document, MongoClient } from 'mongodb';

/** What an entity name resolves to while a test runs. */
export type Entity = MongoClient | Db | Collection;

/** One step of a test, as the unified format writes it. */
export interface Operation {
  readonly object: string;
  readonly name: string;
  readonly arguments?: Document;
  readonly expectResult?: unknown;
  readonly expectError?: Document;
  readonly ignoreResultAndError?: boolean;
  readonly saveResultAsEntity?: string;
}

type Args = Record<string, unknown>;

/** Splits `args` into the named positional values and the remaining options object. */
function take<K extends string>(args: Args, ...names: K[]): [Record<K, unknown>, Args] {
  const picked = {} as Record<K, unknown>;
  const rest: Args = { ...args };
  for (const name of names) {
    picked[name] = rest[name];
    delete rest[name];
  }
  return [picked, rest];
}

/** `returnDocument: "After"` in the format is `'after'` for the Node driver. */
function findAndModifyOptions(rest: Args): Args {
  const returnDocument = rest.returnDocument;
  return typeof returnDocument === 'string' ? { ...rest, returnDocument: returnDocument.toLowerCase() } : rest;
}

/** The driver's BulkWriteResult as the plain document the format compares against. */
export function bulkResultDoc(result: BulkWriteResult): Document {
  return {
    deletedCount: result.deletedCount,
    insertedCount: result.insertedCount,
    insertedIds: result.insertedIds,
    matchedCount: result.matchedCount,
    modifiedCount: result.modifiedCount,
    upsertedCount: result.upsertedCount,
    upsertedIds: result.upsertedIds,
  };
}

type Handler<E> = (entity: E, args: Args) => Promise<unknown>;

const COLLECTION_OPS: Record<string, Handler<Collection>> = {
  async aggregate(coll, args) {
    const [{ pipeline }, rest] = take(args, 'pipeline');
    return coll.aggregate(pipeline as Document[], rest).toArray();
  },
  async bulkWrite(coll, args) {
    const [{ requests }, rest] = take(args, 'requests');
    return bulkResultDoc(await coll.bulkWrite(requests as AnyBulkWriteOperation[], rest));
  },
  countDocuments: (coll, args) => {
    const [{ filter }, rest] = take(args, 'filter');
    return coll.countDocuments(filter as Document, rest);
  },
  estimatedDocumentCount: (coll, args) => coll.estimatedDocumentCount(args),
  count: (coll, args) => {
    const [{ filter }, rest] = take(args, 'filter');
    return coll.count(filter as Document, rest);
  },
  deleteMany: (coll, args) => {
    const [{ filter }, rest] = take(args, 'filter');
    return coll.deleteMany(filter as Document, rest);
  },
  deleteOne: (coll, args) => {
    const [{ filter }, rest] = take(args, 'filter');
    return coll.deleteOne(filter as Document, rest);
  },
  distinct: (coll, args) => {
    const [{ fieldName, filter }, rest] = take(args, 'fieldName', 'filter');
    return coll.distinct(fieldName as string, filter as Document, rest);
  },
  find: (coll, args) => {
    const [{ filter }, rest] = take(args, 'filter');
    return coll.find(filter as Document, rest).toArray();
  },
  findOne: (coll, args) => {
    const [{ filter }, rest] = take(args, 'filter');
    return coll.findOne(filter as Document, rest);
  },
  findOneAndDelete: (coll, args) => {
    const [{ filter }, rest] = take(args, 'filter');
    return coll.findOneAndDelete(filter as Document, rest);
  },
  findOneAndReplace: (coll, args) => {
    const [{ filter, replacement }, rest] = take(args, 'filter', 'replacement');
    return coll.findOneAndReplace(filter as Document, replacement as Document, findAndModifyOptions(rest));
  },
  findOneAndUpdate: (coll, args) => {
    const [{ filter, update }, rest] = take(args, 'filter', 'update');
    return coll.findOneAndUpdate(filter as Document, update as Document, findAndModifyOptions(rest));
  },
  insertMany: (coll, args) => {
    const [{ documents }, rest] = take(args, 'documents');
    return coll.insertMany(documents as Document[], rest);
  },
  insertOne: (coll, args) => {
    const [{ document }, rest] = take(args, 'document');
    return coll.insertOne(document as Document, rest);
  },
  replaceOne: (coll, args) => {
    const [{ filter, replacement }, rest] = take(args, 'filter', 'replacement');
    return coll.replaceOne(filter as Document, replacement as Document, rest);
  },
  updateMany: (coll, args) => {
    const [{ filter, update }, rest] = take(args, 'filter', 'update');
    return coll.updateMany(filter as Document, update as Document, rest);
  },
  updateOne: (coll, args) => {
    const [{ filter, update }, rest] = take(args, 'filter', 'update');
    return coll.updateOne(filter as Document, update as Document, rest);
  },
  createIndex: (coll, args) => {
    const [{ keys }, rest] = take(args, 'keys');
    return coll.createIndex(keys as Document, rest);
  },
  dropIndex: (coll, args) => {
    const [{ name }, rest] = take(args, 'name');
    return coll.dropIndex(name as string, rest);
  },
  dropIndexes: (coll, args) => coll.dropIndexes(args),
  listIndexes: (coll, args) => coll.listIndexes(args).toArray(),
};

const DATABASE_OPS: Record<string, Handler<Db>> = {
  aggregate: (db, args) => {
    const [{ pipeline }, rest] = take(args, 'pipeline');
    return db.aggregate(pipeline as Document[], rest).toArray();
  },
  createCollection: async (db, args) => {
    const [{ collection }, rest] = take(args, 'collection');
    await db.createCollection(collection as string, rest);
    return undefined;
  },
  dropCollection: (db, args) => {
    const [{ collection }, rest] = take(args, 'collection');
    return db.dropCollection(collection as string, rest);
  },
  runCommand: (db, args) => db.command(args.command as Document),
};

/** Which table an entity's operations come from. */
export type EntityKind = 'client' | 'database' | 'collection';

/** Runs one entity operation through the official driver; an operation this runner lacks is an error. */
export function runEntityOperation(kind: EntityKind, entity: Entity, name: string, args: Args): Promise<unknown> {
  if (kind === 'collection' && name in COLLECTION_OPS) return (COLLECTION_OPS[name] as Handler<Collection>)(entity as Collection, args);
  if (kind === 'database' && name in DATABASE_OPS) return (DATABASE_OPS[name] as Handler<Db>)(entity as Db, args);
  throw new Error(`operation ${kind}.${name} is not supported by this runner`);
}
