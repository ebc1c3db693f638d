import { isMediaKind } from './media-kind.ts';
import type { MediaKind } from './media-kind.ts';

/**
 * A worker pool as configured. A pool serves every (kind, mime type) pair it lists; an empty
 * `kinds` or `mimetypes` list means "any". `mimetypes` entries are exact (`audio/ogg`) or a
 * family (`audio/*`). A pool with both lists empty is the catch-all.
 */
export interface MediaPoolRoute {
  readonly name: string;
  readonly kinds: readonly MediaKind[];
  readonly mimetypes: readonly string[];
  readonly processor: string;
  readonly concurrency: number;
}

/** What a job is routed by. */
export interface MediaRouteKey {
  readonly kind: MediaKind;
  readonly mimetype: string;
}

/**
 * Picks the pool for a job: the most specific matching route wins, a named kind before a mime
 * type (so a sticker goes to the sticker pool even though `image/webp` is also an image type),
 * then an exact mime type before a family before "any". `null` when nothing matches.
 */
export function resolvePool<T extends MediaPoolRoute>(pools: readonly T[], key: MediaRouteKey): T | null {
  let best: { pool: T; score: number } | null = null;
  for (const pool of pools) {
    const score = routeScore(pool, key);
    if (score !== null && (best === null || score > best.score)) best = { pool, score };
  }
  return best?.pool ?? null;
}

/**
 * Lists every configuration error at once: duplicate pool names, duplicate routes (the same
 * kind/mime pair in two pools), a missing catch-all, unknown kinds or processors, concurrency
 * below 1. Empty when the configuration is valid.
 */
export function validatePools(pools: readonly MediaPoolRoute[], knownProcessors: readonly string[]): string[] {
  const errors: string[] = [];
  const names = new Set<string>();
  const routes: Record<string, string> = {};
  for (const pool of pools) {
    if (names.has(pool.name)) errors.push(`pool "${pool.name}" is defined more than once`);
    names.add(pool.name);
    if (!knownProcessors.includes(pool.processor)) errors.push(`pool "${pool.name}" uses unknown processor "${pool.processor}"`);
    if (!Number.isInteger(pool.concurrency) || pool.concurrency < 1) {
      errors.push(`pool "${pool.name}" needs concurrency >= 1 (got ${pool.concurrency})`);
    }
    for (const kind of pool.kinds) {
      if (!isMediaKind(kind)) errors.push(`pool "${pool.name}" lists unknown kind "${String(kind)}"`);
    }
    for (const route of routeKeys(pool)) {
      const owner = routes[route];
      if (owner !== undefined && owner !== pool.name) errors.push(`route ${route} is claimed by both "${owner}" and "${pool.name}"`);
      routes[route] ??= pool.name;
    }
  }
  if (!pools.some((p) => p.kinds.length === 0 && p.mimetypes.length === 0)) {
    errors.push('no catch-all pool (one with no kinds and no mime types) for media nothing else accepts');
  }
  return errors;
}

function routeKeys(pool: MediaPoolRoute): string[] {
  const kinds = pool.kinds.length ? pool.kinds : ['*'];
  const mimes = pool.mimetypes.length ? pool.mimetypes.map((m) => m.toLowerCase()) : ['*'];
  return kinds.flatMap((k) => mimes.map((m) => `${k} ${m}`));
}

function routeScore(pool: MediaPoolRoute, key: MediaRouteKey): number | null {
  const kindScore = pool.kinds.length === 0 ? 0 : pool.kinds.includes(key.kind) ? 1 : null;
  if (kindScore === null) return null;
  const mimeScore = pool.mimetypes.length === 0 ? 0 : bestMimeMatch(pool.mimetypes, key.mimetype);
  if (mimeScore === null) return null;
  return kindScore * 10 + mimeScore;
}

function bestMimeMatch(patterns: readonly string[], mimetype: string): number | null {
  const mime = mimetype.toLowerCase().split(';')[0]?.trim() ?? '';
  const family = `${mime.split('/')[0]}/*`;
  let best: number | null = null;
  for (const raw of patterns) {
    const pattern = raw.toLowerCase();
    const score = pattern === mime ? 2 : pattern === family ? 1 : null;
    if (score !== null && (best === null || score > best)) best = score;
  }
  return best;
}
