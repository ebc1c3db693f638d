import { formatValue } from '../bson-format.ts';
import { isPlainObject, type Doc } from '../bson-values.ts';
import { fail } from '../errors.ts';
import { isIndexPart } from '../paths.ts';

/** Where a path's last component lives: a document field or an array slot. */
export type Slot = { readonly kind: 'object'; readonly container: Doc; readonly key: string } | { readonly kind: 'array'; readonly container: unknown[]; readonly index: number };

function notViable(part: string, parentName: string, value: unknown): never {
  fail('PathNotViable', `Cannot create field '${part}' in element {${parentName}: ${formatValue(value)}}`);
}

/**
 * Walks to the container holding the last component of `parts`. With `create`, missing intermediate
 * documents are created (arrays are padded with nulls); otherwise a missing step yields undefined.
 */
export function locate(doc: Doc, parts: readonly string[], create: boolean): Slot | undefined {
  let cur: unknown = doc;
  let curName = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const last = i === parts.length - 1;
    let slot: Slot;
    if (Array.isArray(cur)) {
      if (!isIndexPart(part)) {
        if (!create) return undefined;
        notViable(part, curName, cur);
      }
      slot = { kind: 'array', container: cur, index: Number(part) };
    } else if (isPlainObject(cur)) {
      slot = { kind: 'object', container: cur, key: part };
    } else {
      if (!create) return undefined;
      notViable(part, curName, cur);
    }
    if (last) return slot;
    let next = read(slot);
    if (next === undefined) {
      if (!create) return undefined;
      next = {};
      write(slot, next);
    }
    cur = next;
    curName = part;
  }
  return undefined;
}

/** Current value in a slot. */
export function read(slot: Slot): unknown {
  return slot.kind === 'object' ? slot.container[slot.key] : slot.container[slot.index];
}

/** Stores a value in a slot, padding arrays with nulls up to the index. */
export function write(slot: Slot, value: unknown): void {
  if (slot.kind === 'object') {
    slot.container[slot.key] = value;
    return;
  }
  while (slot.container.length < slot.index) slot.container.push(null);
  slot.container[slot.index] = value;
}

/** Value at a path (undefined when any step is missing or not traversable). */
export function getAt(doc: Doc, parts: readonly string[]): unknown {
  const slot = locate(doc, parts, false);
  return slot === undefined ? undefined : read(slot);
}

/** Sets a value, creating intermediate documents. */
export function setAt(doc: Doc, parts: readonly string[], value: unknown): void {
  write(locate(doc, parts, true) as Slot, value);
}

/** Removes a field; array elements become null as in `$unset`. Returns whether anything was there. */
export function unsetAt(doc: Doc, parts: readonly string[]): boolean {
  const slot = locate(doc, parts, false);
  if (slot === undefined || read(slot) === undefined) return false;
  if (slot.kind === 'object') delete slot.container[slot.key];
  else slot.container[slot.index] = null;
  return true;
}
