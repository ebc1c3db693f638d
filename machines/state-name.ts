import type { StateValue } from 'xstate';

/**
 * The top-level state of a snapshot value (`{ holding: 'claimed' }` → `holding`), the name stored
 * in an actor document's `state` field for queries and indexes.
 */
export function topLevelState(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [first] = Object.keys(value);
  return first ?? '';
}

/** The full dotted path of a snapshot value (`{ holding: 'claimed' }` → `holding.claimed`). */
export function statePath(value: StateValue): string {
  if (typeof value === 'string') return value;
  const [first] = Object.entries(value);
  if (first === undefined) return '';
  const [key, child] = first;
  return child === undefined ? key : `${key}.${statePath(child)}`;
}
