import type { Doc } from './bson-values.ts';
import { Collection } from './collection.ts';
import { fail } from './errors.ts';

function checkDbName(db: string): void {
  if (db.length === 0 || db.length >= 64 || /[/\\. "$\0]/.test(db)) fail('InvalidNamespace', `Invalid database name: '${db}'`);
}

function checkCollName(db: string, name: string): void {
  if (name.length === 0 || name.includes('$') || name.includes('\0') || name.startsWith('.') || name.startsWith('system.')) {
    fail('InvalidNamespace', `Invalid collection name: ${db}.${name}`);
  }
}

/** All databases held in memory: database name → collection name → collection. */
export class Store {
  private readonly dbs = new Map<string, Map<string, Collection>>();

  /** The collection if it exists. */
  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created (with its database) on first use, as writes do implicitly. */
  ensure(db: string, name: string, options: Doc = {}): { coll: Collection; created: boolean } {
    const existing = this.get(db, name);
    if (existing) return { coll: existing, created: false };
    checkDbName(db);
    checkCollName(db, name);
    let colls = this.dbs.get(db);
    if (!colls) {
      colls = new Map();
      this.dbs.set(db, colls);
    }
    const coll = this.newCollection(db, name, options);
    colls.set(name, coll);
    return { coll, created: true };
  }

  /** Builds the object for a new collection; a persistent store returns one that journals its writes. */
  protected newCollection(db: string, name: string, options: Doc): Collection {
    return new Collection(db, name, options);
  }

  /**
   * Called after a batch of commands has run and before their replies are sent: a persistent store
   * makes their changes durable here. Memory alone has nothing to do.
   */
  commit(): void {}

  /** Drops a collection; returns false when it did not exist. */
  drop(db: string, name: string): boolean {
    const colls = this.dbs.get(db);
    if (!colls?.delete(name)) return false;
    if (colls.size === 0) this.dbs.delete(db);
    return true;
  }

  /** Moves a collection to another namespace, replacing the target when `dropTarget` is set. */
  rename(fromDb: string, from: string, toDb: string, to: string, dropTarget: boolean): void {
    const coll = this.get(fromDb, from);
    if (!coll) fail('NamespaceNotFound', `Source collection ${fromDb}.${from} does not exist`);
    if (fromDb === toDb && from === to) fail('IllegalOperation', "Can't rename a collection to itself");
    if (this.get(toDb, to)) {
      if (!dropTarget) fail('NamespaceExists', 'target namespace exists');
      this.drop(toDb, to);
    }
    const { coll: placeholder } = this.ensure(toDb, to);
    this.drop(fromDb, from);
    coll.moveTo(placeholder.db, placeholder.name);
    this.dbs.get(toDb)?.set(to, coll);
  }

  dropDatabase(db: string): void {
    this.dbs.delete(db);
  }

  /** Collections of one database in creation order. */
  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  databaseNames(): string[] {
    return [...this.dbs.keys()];
  }
}
