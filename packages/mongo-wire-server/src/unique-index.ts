import { canonicalKey, formatValue } from './bson-format.ts';
import type { Doc } from './bson-values.ts';
import { CommandError, ErrorCodes } from './errors.ts';
import { compileFilter, type Predicate } from './matcher.ts';
import { collectLeaves, splitPath } from './paths.ts';

/** Index definition as reported by listIndexes. */
export interface IndexSpec {
  v: number;
  key: Doc;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Doc;
  expireAfterSeconds?: number;
  [option: string]: unknown;
}

/** One index entry a document produces: the canonical key and the values that make it up. */
export interface IndexEntry {
  readonly key: string;
  readonly values: readonly unknown[];
}

/** Builds the duplicate-key error exactly as mongod words it. */
export function duplicateKeyError(ns: string, spec: IndexSpec, values: readonly unknown[], prefix = ''): CommandError {
  const fields = Object.keys(spec.key);
  const keyValue: Doc = {};
  fields.forEach((f, i) => {
    keyValue[f] = values[i] ?? null;
  });
  const shown = fields.map((f) => `${f}: ${formatValue(keyValue[f])}`).join(', ');
  return new CommandError(ErrorCodes.DuplicateKey, `${prefix}E11000 duplicate key error collection: ${ns} index: ${spec.name} dup key: { ${shown} }`, {
    keyPattern: spec.key,
    keyValue,
  });
}

/**
 * Enforcement structure for one unique secondary index: canonical key → owning document's `_id` key.
 * Arrays produce one entry per element (multikey); missing fields index as null unless sparse.
 */
export class UniqueIndex {
  readonly spec: IndexSpec;
  private readonly fields: (readonly string[])[];
  private readonly partial: Predicate | undefined;
  private readonly owners = new Map<string, string>();

  constructor(spec: IndexSpec) {
    this.spec = spec;
    this.fields = Object.keys(spec.key).map(splitPath);
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : undefined;
  }

  /** Entries `doc` contributes (none when excluded by sparse or partialFilterExpression). */
  entriesOf(doc: Doc): IndexEntry[] {
    if (this.partial && !this.partial(doc)) return [];
    const perField = this.fields.map((parts) => {
      const leaves = collectLeaves(doc, parts);
      return leaves.length === 0 ? [undefined] : leaves;
    });
    if (this.spec.sparse && perField.every((vals) => vals.every((v) => v === undefined))) return [];
    let combos: unknown[][] = [[]];
    for (const vals of perField) combos = combos.flatMap((prefix) => vals.map((v) => [...prefix, v]));
    const seen = new Map<string, IndexEntry>();
    for (const values of combos) {
      const key = values.length === 1 ? canonicalKey(values[0]) : values.map(canonicalKey).join('|');
      if (!seen.has(key)) seen.set(key, { key, values });
    }
    return [...seen.values()];
  }

  /** The first entry already owned by a different document, if any. */
  conflict(entries: readonly IndexEntry[], idKey: string): IndexEntry | undefined {
    return entries.find((e) => {
      const owner = this.owners.get(e.key);
      return owner !== undefined && owner !== idKey;
    });
  }

  add(entries: readonly IndexEntry[], idKey: string): void {
    for (const e of entries) this.owners.set(e.key, idKey);
  }

  remove(entries: readonly IndexEntry[], idKey: string): void {
    for (const e of entries) if (this.owners.get(e.key) === idKey) this.owners.delete(e.key);
  }
}
