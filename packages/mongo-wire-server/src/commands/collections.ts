import { isPlainObject, type Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';
import { compileFilter } from '../matcher.ts';
import { collectionName, docOption, intOption, type CommandHandler } from './context.ts';
import { cursorReply } from './find.ts';

const ID_INDEX = { v: 2, key: { _id: 1 }, name: '_id_' };

const create: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'create');
  if (ctx.store.get(ctx.db, name)) fail('NamespaceExists', `Collection ${ctx.db}.${name} already exists.`);
  // Creating a plain collection when a view was asked for would answer reads with the wrong documents.
  if (cmd.viewOn !== undefined) fail('NotImplemented', 'views are not supported by this server');
  ctx.store.ensure(ctx.db, name);
  return { ok: 1 };
};

const drop: CommandHandler = (cmd, ctx) => {
  const name = collectionName(cmd, 'drop');
  const coll = ctx.store.get(ctx.db, name);
  if (!coll) fail('NamespaceNotFound', 'ns not found');
  const nIndexesWas = coll.indexes().length;
  ctx.store.drop(ctx.db, name);
  return { nIndexesWas, ns: coll.ns, ok: 1 };
};

const listCollections: CommandHandler = (cmd, ctx) => {
  const filter = compileFilter(docOption(cmd, 'filter') ?? {});
  const nameOnly = cmd.nameOnly === true;
  const infos: Doc[] = ctx.store
    .collections(ctx.db)
    .map((c) => ({ name: c.name, type: 'collection', options: {}, info: { readOnly: false }, idIndex: ID_INDEX }))
    .filter((info) => filter(info))
    .map((info) => (nameOnly ? { name: info.name, type: info.type } : info));
  const ns = `${ctx.db}.$cmd.listCollections`;
  const batchSize = isPlainObject(cmd.cursor) ? intOption(cmd.cursor, 'batchSize', 101) : 101;
  return cursorReply(ns, ctx.cursors.open(ns, infos, undefined, batchSize));
};

const listDatabases: CommandHandler = (cmd, ctx) => {
  const filter = compileFilter(docOption(cmd, 'filter') ?? {});
  const databases = ctx.store
    .databaseNames()
    .map((name) => ({ name, sizeOnDisk: 0, empty: false }))
    .filter((d) => filter(d))
    .map((d) => (cmd.nameOnly === true ? { name: d.name } : d));
  return { databases, totalSize: 0, totalSizeMb: 0, ok: 1 };
};

const dropDatabase: CommandHandler = (_cmd, ctx) => {
  ctx.store.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
};

function splitNamespace(ns: unknown, field: string): [string, string] {
  const dot = typeof ns === 'string' ? ns.indexOf('.') : -1;
  if (typeof ns !== 'string' || dot <= 0 || dot === ns.length - 1) fail('InvalidNamespace', `Invalid ${field} namespace: ${String(ns)}`);
  return [ns.slice(0, dot), ns.slice(dot + 1)];
}

const renameCollection: CommandHandler = (cmd, ctx) => {
  if (ctx.db !== 'admin') fail('Unauthorized', 'renameCollection may only be run against the admin database.');
  const [fromDb, from] = splitNamespace(cmd.renameCollection, 'source');
  const [toDb, to] = splitNamespace(cmd.to, 'target');
  ctx.store.rename(fromDb, from, toDb, to, cmd.dropTarget === true);
  return { ok: 1 };
};

const dbStats: CommandHandler = (_cmd, ctx) => {
  const colls = ctx.store.collections(ctx.db);
  const objects = colls.reduce((n, c) => n + c.size, 0);
  const indexes = colls.reduce((n, c) => n + c.indexes().length, 0);
  return { db: ctx.db, collections: colls.length, views: 0, objects, avgObjSize: 0, dataSize: 0, storageSize: 0, indexes, indexSize: 0, ok: 1 };
};

/** Collection and database lifecycle commands. */
export const COLLECTION_COMMANDS: Record<string, CommandHandler> = {
  create,
  drop,
  listCollections,
  listDatabases,
  dropDatabase,
  renameCollection,
  dbStats,
};
