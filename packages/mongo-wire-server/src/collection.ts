import { canonicalKey } from './bson-format.ts';
import type { Doc } from './bson-values.ts';
import { SecondaryIndexes } from './secondary-index.ts';
import { duplicateKeyError, UniqueIndex, type IndexEntry, type IndexSpec } from './unique-index.ts';

const ID_INDEX: IndexSpec = { v: 2, key: { _id: 1 }, name: '_id_' };

/**
 * One collection: documents in natural (insertion) order, keyed by canonical `_id` for O(1) lookup.
 * Stored documents are never mutated; updates swap in a new object at the same position.
 */
export class Collection {
  private dbName: string;
  private collName: string;
  readonly options: Doc;
  private readonly docs = new Map<string, Doc>();
  private specs: IndexSpec[] = [ID_INDEX];
  private uniques: UniqueIndex[] = [];
  /** Field lookups of the secondary indexes, which the query planner narrows candidates with. */
  readonly lookups = new SecondaryIndexes();

  constructor(db: string, name: string, options: Doc = {}) {
    this.dbName = db;
    this.collName = name;
    this.options = options;
  }

  get db(): string {
    return this.dbName;
  }

  get name(): string {
    return this.collName;
  }

  /** Moves the collection to a new namespace (renameCollection); data and indexes come along. */
  moveTo(db: string, name: string): void {
    this.dbName = db;
    this.collName = name;
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  get size(): number {
    return this.docs.size;
  }

  /** Documents in natural order. */
  values(): IterableIterator<Doc> {
    return this.docs.values();
  }

  /** Document whose `_id` equals `id` (MongoDB equality), if any. */
  byId(id: unknown): Doc | undefined {
    return this.docs.get(canonicalKey(id));
  }

  /** Documents stored under these canonical `_id` keys, in natural order. */
  byIdKeys(idKeys: Iterable<string>): Doc[] {
    const docs: Doc[] = [];
    for (const idKey of this.lookups.naturalOrder(idKeys)) {
      const doc = this.docs.get(idKey);
      if (doc) docs.push(doc);
    }
    return docs;
  }

  /** Index specifications, `_id_` first. */
  indexes(): readonly IndexSpec[] {
    return this.specs;
  }

  private entriesFor(doc: Doc): IndexEntry[][] {
    return this.uniques.map((u) => u.entriesOf(doc));
  }

  private checkUnique(all: IndexEntry[][], idKey: string): void {
    this.uniques.forEach((u, i) => {
      const clash = u.conflict(all[i] ?? [], idKey);
      if (clash) throw duplicateKeyError(this.ns, u.spec, clash.values);
    });
  }

  /** Adds a document (which must carry `_id`), enforcing every unique index first. */
  insert(doc: Doc): void {
    const idKey = canonicalKey(doc._id);
    if (this.docs.has(idKey)) throw duplicateKeyError(this.ns, ID_INDEX, [doc._id]);
    const entries = this.entriesFor(doc);
    this.checkUnique(entries, idKey);
    this.uniques.forEach((u, i) => u.add(entries[i] ?? [], idKey));
    this.docs.set(idKey, doc);
    this.lookups.insert(doc, idKey);
  }

  /** Swaps `current` for `next` (same `_id`); nothing changes if a unique index would be violated. */
  replace(current: Doc, next: Doc): void {
    const idKey = canonicalKey(current._id);
    const before = this.entriesFor(current);
    const after = this.entriesFor(next);
    this.checkUnique(after, idKey);
    this.uniques.forEach((u, i) => {
      u.remove(before[i] ?? [], idKey);
      u.add(after[i] ?? [], idKey);
    });
    this.docs.set(idKey, next);
    this.lookups.replace(current, next, idKey);
  }

  remove(doc: Doc): void {
    const idKey = canonicalKey(doc._id);
    this.uniques.forEach((u) => u.remove(u.entriesOf(doc), idKey));
    this.docs.delete(idKey);
    this.lookups.remove(doc, idKey);
  }

  /** Adds an index; a unique one is first built over existing documents and refused on duplicates. */
  addIndex(spec: IndexSpec): void {
    if (spec.unique && spec.name !== '_id_') {
      const index = new UniqueIndex(spec);
      for (const [idKey, doc] of this.docs) {
        const entries = index.entriesOf(doc);
        const clash = index.conflict(entries, idKey);
        if (clash) throw duplicateKeyError(this.ns, spec, clash.values, `Index build failed: ${this.ns} :: caused by :: `);
        index.add(entries, idKey);
      }
      this.uniques.push(index);
    }
    this.specs.push(spec);
    this.lookups.add(spec, this.docs);
  }

  /** Removes a secondary index by name. */
  dropIndex(name: string): void {
    this.specs = this.specs.filter((s) => s.name !== name);
    this.uniques = this.uniques.filter((u) => u.spec.name !== name);
    this.lookups.drop(name);
  }
}
