import type { Doc } from '../bson-values.ts';
import { Collection } from '../collection.ts';
import { Store } from '../store.ts';
import type { IndexSpec } from '../unique-index.ts';
import type { Change } from './changes.ts';
import { encodeRecord } from './record-codec.ts';

/** Where a journalled store sends its encoded changes. */
export interface ChangeSink {
  /** Queues one encoded change; it reaches the file on the next commit. */
  append(record: Buffer): void;
  /** Writes every queued change; runs before any reply to the commands that made them. */
  commit(): void;
}

/**
 * The in-memory store, reporting every successful state change to a sink. Changes are encoded
 * before the in-memory write, so a document that cannot be encoded fails its command instead of
 * being held in memory without a record; they are queued only after the write succeeded, so a
 * refused write (a duplicate key) leaves no record.
 */
export class JournaledStore extends Store {
  private sink: ChangeSink | undefined;
  // A rename is journalled as one change; the create and drop it does internally are not.
  private muted = false;

  /** Starts journalling; until then (while the files are loaded) changes are not recorded. */
  attach(sink: ChangeSink): void {
    this.sink = sink;
  }

  /** The change, encoded, when it is to be journalled. */
  encode(change: Change): Buffer | undefined {
    return this.sink !== undefined && !this.muted ? encodeRecord(change) : undefined;
  }

  append(record: Buffer | undefined): void {
    if (record !== undefined) this.sink?.append(record);
  }

  override commit(): void {
    this.sink?.commit();
  }

  protected override newCollection(db: string, name: string, options: Doc): Collection {
    return new JournaledCollection(db, name, options, this);
  }

  override ensure(db: string, name: string, options: Doc = {}): { coll: Collection; created: boolean } {
    const result = super.ensure(db, name, options);
    if (result.created) this.append(this.encode({ op: 'create', db, coll: name, options }));
    return result;
  }

  override drop(db: string, name: string): boolean {
    const dropped = super.drop(db, name);
    if (dropped) this.append(this.encode({ op: 'drop', db, coll: name }));
    return dropped;
  }

  override rename(fromDb: string, from: string, toDb: string, to: string, dropTarget: boolean): void {
    const record = this.encode({ op: 'rename', db: fromDb, coll: from, toDb, to, dropTarget });
    this.muted = true;
    try {
      super.rename(fromDb, from, toDb, to, dropTarget);
    } finally {
      this.muted = false;
    }
    this.append(record);
  }

  override dropDatabase(db: string): void {
    const existed = this.collections(db).length > 0;
    super.dropDatabase(db);
    if (existed) this.append(this.encode({ op: 'dropDatabase', db }));
  }
}

/** A collection whose document and index writes are journalled through its store. */
class JournaledCollection extends Collection {
  private readonly owner: JournaledStore;

  constructor(db: string, name: string, options: Doc, owner: JournaledStore) {
    super(db, name, options);
    this.owner = owner;
  }

  override insert(doc: Doc): void {
    const record = this.owner.encode({ op: 'put', db: this.db, coll: this.name, doc });
    super.insert(doc);
    this.owner.append(record);
  }

  override replace(current: Doc, next: Doc): void {
    const record = this.owner.encode({ op: 'put', db: this.db, coll: this.name, doc: next });
    super.replace(current, next);
    this.owner.append(record);
  }

  override remove(doc: Doc): void {
    const record = this.owner.encode({ op: 'delete', db: this.db, coll: this.name, id: doc._id });
    super.remove(doc);
    this.owner.append(record);
  }

  override addIndex(spec: IndexSpec): void {
    const record = this.owner.encode({ op: 'createIndex', db: this.db, coll: this.name, spec });
    super.addIndex(spec);
    this.owner.append(record);
  }

  override dropIndex(name: string): void {
    const record = this.owner.encode({ op: 'dropIndex', db: this.db, coll: this.name, name });
    super.dropIndex(name);
    this.owner.append(record);
  }
}
