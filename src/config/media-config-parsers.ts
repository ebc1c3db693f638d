import { MEDIA_PROCESSOR_NAMES, parsePools } from '../domain/media-pools.ts';
import { validatePools } from '../domain/media-routing.ts';
import type { MediaPoolRoute } from '../domain/media-routing.ts';
import { bad, ok } from './config-parsers.ts';
import type { Parsed } from './config-parsers.ts';

/** `MEDIA_POOLS`: a JSON array of pools, every problem of shape and routing named at once; unset keeps the built-in pools. */
export function mediaPools(raw: string | undefined): Parsed<readonly MediaPoolRoute[] | undefined> {
  if (raw === undefined || raw.trim() === '') return ok(undefined);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return bad('is not valid JSON');
  }
  const { pools, problems } = parsePools(json);
  const all = [...problems, ...(problems.length > 0 ? [] : validatePools(pools, MEDIA_PROCESSOR_NAMES))];
  return all.length === 0 ? ok(pools) : bad(`has ${all.length} problem${all.length === 1 ? '' : 's'}: ${all.join('; ')}`);
}

/** An optional value that must match `pattern`. */
export function optionalText(pattern: RegExp, problem: string) {
  return (raw: string | undefined): Parsed<string | undefined> => {
    if (raw === undefined || raw.trim() === '') return ok(undefined);
    return pattern.test(raw.trim()) ? ok(raw.trim()) : bad(`${problem}, got "${raw}"`);
  };
}

/** A value that must match `pattern`, `fallback` when unset. */
export function text(pattern: RegExp, problem: string, fallback: string) {
  return (raw: string | undefined): Parsed<string> => {
    const value = raw?.trim() || fallback;
    return pattern.test(value) ? ok(value) : bad(`${problem}, got "${raw}"`);
  };
}
