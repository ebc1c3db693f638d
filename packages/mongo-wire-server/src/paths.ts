import { isPlainObject } from './bson-values.ts';

const splitCache = new Map<string, readonly string[]>();

/** Dotted path split into its components (memoised: the same few paths recur on every command). */
export function splitPath(path: string): readonly string[] {
  let parts = splitCache.get(path);
  if (parts === undefined) {
    parts = path.split('.');
    if (splitCache.size > 10_000) splitCache.clear();
    splitCache.set(path, parts);
  }
  return parts;
}

/** True when a path component addresses an array position. */
export function isIndexPart(part: string): boolean {
  if (part.length === 0 || part.length > 9) return false;
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Value at an exact path: documents by field, arrays only by numeric position. */
export function getPath(doc: unknown, parts: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const part of parts) {
    if (Array.isArray(cur)) {
      if (!isIndexPart(part)) return undefined;
      cur = cur[Number(part)];
    } else if (isPlainObject(cur)) {
      cur = cur[part];
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

function collect(value: unknown, parts: readonly string[], i: number, out: unknown[]): void {
  if (i === parts.length) {
    if (Array.isArray(value)) out.push(...value);
    else out.push(value);
    return;
  }
  const part = parts[i] as string;
  if (Array.isArray(value)) {
    if (isIndexPart(part)) {
      collect(value[Number(part)], parts, i + 1, out);
      return;
    }
    for (const el of value) if (isPlainObject(el)) collect(el[part], parts, i + 1, out);
    return;
  }
  collect(isPlainObject(value) ? value[part] : undefined, parts, i + 1, out);
}

/**
 * Every value a path reaches, descending through arrays on the way and expanding a terminal array
 * into its elements — the values an index (or sort, or distinct) sees for a document.
 * A missing terminal contributes `undefined`; an empty terminal array contributes nothing.
 */
export function collectLeaves(doc: unknown, parts: readonly string[]): unknown[] {
  const out: unknown[] = [];
  collect(doc, parts, 0, out);
  return out;
}
