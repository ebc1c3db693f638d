import type { Doc } from '../bson-values.ts';

/** Per-document facts an operator may need. */
export interface OpContext {
  readonly isInsert: boolean;
  readonly id: unknown;
  readonly now: Date;
}

/** Applies one operator to one concrete path of a (private, mutable) document copy. */
export type FieldOp = (doc: Doc, parts: readonly string[], arg: unknown, ctx: OpContext) => void;
