import { DAY_MS } from './queue-limits.ts';
import { isPlaceholder, sumSizes } from './queue-message.ts';
import type { QueueLimits, QueueMessage, QueueWindow } from './queue-message.ts';

/** Which limit removed a message from the window. */
export type EvictionReason = 'age' | 'count' | 'characters';

/** A message dropped from the window (never from history) and the limit that dropped it. */
export interface EvictedMessage {
  readonly message: QueueMessage;
  readonly reason: EvictionReason;
}

/**
 * The window is over a count or character limit and nothing left in it may be evicted: every
 * remaining message is a placeholder or was shielded for this pass.
 */
export interface OverLimitReport {
  readonly exceeded: readonly ('count' | 'characters')[];
  readonly messages: number;
  readonly maxMessages: number;
  readonly characters: number;
  readonly maxCharacters: number;
  readonly protectedMessages: number;
}

/** The window after a limit pass, what it dropped, and whether it is still over a limit. */
export interface EvictionResult {
  readonly window: QueueWindow;
  readonly evicted: readonly EvictedMessage[];
  readonly overLimit: OverLimitReport | null;
}

/**
 * Applies the age, count and character limits, oldest message first. Placeholders are never
 * evicted, nor are messages whose ids are in `shieldedIds` (the message just accepted or
 * finalized, which listeners are about to see). Each candidate is judged by its own age, so an
 * old placeholder at the head cannot drag younger messages out. Every pass is a single scan, so it
 * always terminates; when only protected messages remain over a limit, `overLimit` says so.
 */
export function enforceLimits(
  window: QueueWindow,
  limits: QueueLimits,
  now: number,
  shieldedIds: readonly number[] = [],
): EvictionResult {
  const evictable = (m: QueueMessage): boolean => !isPlaceholder(m) && !shieldedIds.includes(m.id);
  const maxAgeMs = limits.maxAgeDays * DAY_MS;
  const expired = (m: QueueMessage): boolean => evictable(m) && now - m.acceptedAt > maxAgeMs;

  // Count and size after age eviction, measured without copying: on most passes (a message added
  // below the limits) nothing is evicted and the window keeps its array.
  let freshCount = 0;
  let freshChars = 0;
  for (const m of window.messages) {
    if (expired(m)) continue;
    freshCount += 1;
    freshChars += m.size;
  }
  let excessCount = freshCount - limits.maxMessages;
  let excessChars = freshChars - limits.maxCharacters;
  if (freshCount === window.messages.length && excessCount <= 0 && excessChars <= 0) {
    const next: QueueWindow = { messages: window.messages, totalChars: freshChars, nextId: window.nextId };
    return { window: next, evicted: [], overLimit: null };
  }

  // One pass in window order: what age drops first, then the oldest evictable survivors while
  // the window is still over a count or character limit.
  const byAge: EvictedMessage[] = [];
  const byLimit: EvictedMessage[] = [];
  const kept = window.messages.filter((m) => {
    if (expired(m)) {
      byAge.push({ message: m, reason: 'age' });
      return false;
    }
    if (!evictable(m) || (excessCount <= 0 && excessChars <= 0)) return true;
    byLimit.push({ message: m, reason: excessCount > 0 ? 'count' : 'characters' });
    excessCount -= 1;
    excessChars -= m.size;
    return false;
  });

  const next: QueueWindow = { messages: kept, totalChars: sumSizes(kept), nextId: window.nextId };
  return { window: next, evicted: [...byAge, ...byLimit], overLimit: measureOverLimit(next, limits, shieldedIds) };
}

/** Reports whether the window exceeds its count or character limit, or `null` when within. */
export function measureOverLimit(
  window: QueueWindow,
  limits: QueueLimits,
  shieldedIds: readonly number[] = [],
): OverLimitReport | null {
  const exceeded: ('count' | 'characters')[] = [];
  if (window.messages.length > limits.maxMessages) exceeded.push('count');
  if (window.totalChars > limits.maxCharacters) exceeded.push('characters');
  if (exceeded.length === 0) return null;
  return {
    exceeded,
    messages: window.messages.length,
    maxMessages: limits.maxMessages,
    characters: window.totalChars,
    maxCharacters: limits.maxCharacters,
    protectedMessages: window.messages.filter((m) => isPlaceholder(m) || shieldedIds.includes(m.id)).length,
  };
}
