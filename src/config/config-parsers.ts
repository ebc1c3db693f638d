import path from 'node:path';
import { decodeSecretKey } from './secret-key.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface ConfigOption<T> {
  /** Environment variable name. */
  readonly env: string;
  /** One line for the README's configuration table. */
  readonly doc: string;
  /** Default shown in docs; `undefined` means "unset". */
  readonly defaultText: string;
  /** Secrets are never echoed back in error messages. */
  readonly secret?: boolean;
  readonly parse: (raw: string | undefined) => Parsed<T>;
}

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const bad = (problem: string): Parsed<never> => ({ ok: false, problem });

export function integer(min: number, max: number, fallback: number) {
  return (raw: string | undefined): Parsed<number> => {
    if (raw === undefined || raw.trim() === '') return ok(fallback);
    if (!/^-?\d+$/.test(raw.trim())) return bad(`must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) return bad(`must be between ${min} and ${max}, got ${n}`);
    return ok(n);
  };
}

export function oneOf<const T extends string>(values: readonly T[], fallback: T) {
  return (raw: string | undefined): Parsed<T> => {
    if (raw === undefined || raw.trim() === '') return ok(fallback);
    const v = raw.trim().toLowerCase();
    return (values as readonly string[]).includes(v) ? ok(v as T) : bad(`must be one of ${values.join(', ')}, got "${raw}"`);
  };
}

export function optionalUrl(protocols: readonly string[]) {
  return (raw: string | undefined): Parsed<string | undefined> => {
    if (raw === undefined || raw.trim() === '') return ok(undefined);
    const scheme = raw.trim().split(':', 1)[0]?.toLowerCase() ?? '';
    if (!protocols.includes(scheme)) return bad(`must start with ${protocols.map((p) => `${p}://`).join(' or ')}`);
    if (scheme.startsWith('http')) {
      try {
        new URL(raw.trim());
      } catch {
        return bad('is not a valid URL');
      }
    }
    return ok(raw.trim());
  };
}

export function directory(fallback: string) {
  return (raw: string | undefined): Parsed<string> => {
    const value = raw === undefined || raw.trim() === '' ? fallback : raw.trim();
    if (value.includes('\0')) return bad('must be a file-system path');
    return ok(path.resolve(value));
  };
}

export function optionalSecret(minLength: number) {
  return (raw: string | undefined): Parsed<string | undefined> => {
    if (raw === undefined || raw === '') return ok(undefined);
    if (raw.trim() !== raw || /\s/.test(raw)) return bad('must not contain whitespace');
    if (raw.length < minLength) return bad(`must be at least ${minLength} characters long`);
    return ok(raw);
  };
}

export function flag(raw: string | undefined): Parsed<boolean> {
  const v = raw?.trim().toLowerCase() ?? '';
  if (['', '0', 'false', 'off', 'no'].includes(v)) return ok(false);
  if (['1', 'true', 'on', 'yes'].includes(v)) return ok(true);
  return bad(`must be 1 or 0, got "${raw}"`);
}

/** Comma-separated web origins (`scheme://host[:port]`, nothing after); `none` for an empty list. */
export function origins(fallback: readonly string[]) {
  return (raw: string | undefined): Parsed<readonly string[]> => {
    if (raw === undefined || raw.trim() === '') return ok(fallback);
    if (raw.trim().toLowerCase() === 'none') return ok([]);
    const list = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    for (const entry of list) {
      let origin: string;
      try {
        origin = new URL(entry).origin;
      } catch {
        return bad(`has "${entry}", which is not an origin such as https://stately.ai`);
      }
      if (origin !== entry) return bad(`has "${entry}"; write the origin alone: "${origin}"`);
    }
    return ok(list);
  };
}

/** Comma-separated 32-byte keys (base64 or hex); a bad one is named by its position, never echoed. */
export function secretKeys(raw: string | undefined): Parsed<Uint8Array[]> {
  if (raw === undefined || raw.trim() === '') return ok([]);
  const keys: Uint8Array[] = [];
  for (const [i, text] of raw.split(',').entries()) {
    const key = decodeSecretKey(text);
    if (key === null) return bad(`key ${i + 1} is not 32 bytes as base64 or 64 hex digits`);
    keys.push(key);
  }
  return ok(keys);
}

