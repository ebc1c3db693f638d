import fc from 'fast-check';
import { resolveSchema } from './openapi-document.ts';
import type { DocumentedOperation, HttpMethod, JsonSchema, OpenApiDocument, Parameter } from './openapi-document.ts';

/**
 * fast-check arbitraries for requests to an operation of an OpenAPI document, built from the
 * document's own schemas: mostly valid values (so the happy paths run), and single mutations that
 * break one rule or lean on what parsers and stores find awkward.
 */

/** A request ready for `app.inject`, with a note of what it tries. */
export interface FuzzRequest {
  readonly method: HttpMethod;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload?: string;
  readonly tries: string;
}

export interface FuzzContext {
  readonly doc: OpenApiDocument;
  /** Ids that exist, by the path segment they follow (`bots`, `jobs`, ...), so valid ids are hit too. */
  readonly fixtures: Readonly<Record<string, readonly string[]>>;
  /** The headers of an authorized request. */
  readonly auth: Readonly<Record<string, string>>;
  /** The body limit of the app; a body above it must be refused. */
  readonly bodyLimit: number;
}

const MAX_DEPTH = 3;
const NASTY_KEYS = ['$set', '$where', 'a.b', '.', '$', '', '__proto__', 'constructor', 'k\u0000'] as const;
const NASTY_STRINGS = ['nul\u0000byte', '\ud800', ' ', '\u202e', '../../etc/passwd', '{"$gt":""}', '%00', 'ü'.repeat(300)] as const;
const nested = (depth: number, leaf: unknown, wrap: (inner: unknown) => unknown): unknown => (depth === 0 ? leaf : wrap(nested(depth - 1, leaf, wrap)));
const DEEP = [nested(200, 1, (inner) => ({ a: inner })), nested(200, 1, (inner) => [inner])] as const;

const scalar: fc.Arbitrary<unknown> = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constantFrom(...NASTY_STRINGS));

/** Any JSON, keys chosen to be awkward for a document store. */
function freeForm(depth: number): fc.Arbitrary<Record<string, unknown>> {
  const value = depth >= MAX_DEPTH ? scalar : fc.oneof(scalar, freeForm(depth + 1), fc.array(scalar, { maxLength: 3 }));
  const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...NASTY_KEYS));
  return fc.oneof({ weight: 6, arbitrary: fc.dictionary(key, value, { maxKeys: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(...DEEP).map((deep) => ({ deep })) });
}

/** Values `schema` accepts; strings stay short unless the schema wants them long. */
export function validValue(doc: OpenApiDocument, schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolveSchema(doc, schema);
  const base = validBase(doc, s, depth);
  return s.nullable === true ? fc.oneof({ weight: 3, arbitrary: base }, { weight: 1, arbitrary: fc.constant(null) }) : base;
}

function validBase(doc: OpenApiDocument, s: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (s.enum !== undefined) return fc.constantFrom(...s.enum);
  switch (s.type) {
    case 'string':
      return validString(s);
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validValue(doc, s.items ?? {}, depth + 1), { maxLength: 3 });
    case 'object':
      return validObject(doc, s, depth);
    default:
      return scalar;
  }
}

function validString(s: JsonSchema): fc.Arbitrary<string> {
  const fits = (v: string) => v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity);
  if (s.pattern !== undefined) return fc.stringMatching(new RegExp(s.pattern)).filter(fits);
  const min = s.minLength ?? 0;
  const short = fc.string({ minLength: min, maxLength: Math.max(min, Math.min(s.maxLength ?? 24, 24)), unit: 'grapheme' });
  const awkward = fc.constantFrom(...NASTY_STRINGS).filter(fits);
  const longest = s.maxLength === undefined ? [] : [{ weight: 1, arbitrary: fc.constant('x'.repeat(s.maxLength)) }];
  return fc.oneof({ weight: 6, arbitrary: short }, { weight: 2, arbitrary: awkward }, ...longest);
}

/** Alternatives declared as `oneOf` of single `required` clauses: exactly one of them is present. */
function exactlyOneOf(s: JsonSchema): string[] {
  return (s.oneOf ?? []).flatMap((clause) => (clause.required?.length === 1 ? [clause.required[0]!] : []));
}

function validObject(doc: OpenApiDocument, s: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const properties = s.properties ?? {};
  const names = Object.keys(properties);
  if (names.length === 0 && s.additionalProperties !== false) return freeForm(depth);
  const choices = exactlyOneOf(s);
  const model = Object.fromEntries(names.map((name) => [name, validValue(doc, properties[name]!, depth + 1)]));
  const record = fc.record(model, { requiredKeys: [...new Set([...(s.required ?? []), ...choices])] });
  if (choices.length === 0) return record;
  return fc.tuple(record, fc.constantFrom(...choices)).map(([value, chosen]) => {
    const out: Record<string, unknown> = { ...value };
    for (const other of choices) if (other !== chosen) delete out[other];
    return out;
  });
}

const OTHER_TYPES: Readonly<Record<string, unknown>> = { string: 'text', integer: 7, number: 1.5, boolean: true, array: [1], object: { k: 1 }, null: null };

/** Values of every other JSON type than `type`. */
function wrongType(type: string | undefined): fc.Arbitrary<unknown> {
  const others = Object.entries(OTHER_TYPES).filter(([t]) => t !== type && !(type === 'number' && t === 'integer'));
  return fc.constantFrom(...others.map(([, value]) => value));
}

/** Values that break `schema` in one place, or push it where parsers and stores get nervous. */
export function invalidValue(doc: OpenApiDocument, schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolveSchema(doc, schema);
  const options: fc.Arbitrary<unknown>[] = [wrongType(s.type), fc.constantFrom(...DEEP)];
  if (s.enum !== undefined) options.push(fc.constantFrom('not-a-listed-value', ''));
  if (s.type === 'string') {
    options.push(fc.constantFrom(...NASTY_STRINGS), fc.constant('x'.repeat((s.maxLength ?? 70_000) + 1)));
    if ((s.minLength ?? 0) > 0) options.push(fc.constant(''));
    if (s.pattern !== undefined) options.push(fc.string({ maxLength: 70 }).filter((v) => !new RegExp(s.pattern!).test(v)));
  }
  if (s.type === 'integer' || s.type === 'number') {
    options.push(fc.constantFrom(0.5, -1, 2 ** 53, '12abc', (s.minimum ?? -(2 ** 60)) - 1, (s.maximum ?? 2 ** 60) + 1));
  }
  if (s.type === 'object' && depth < MAX_DEPTH) options.push(...objectMutations(doc, s, depth));
  return fc.oneof(...options);
}

function objectMutations(doc: OpenApiDocument, s: JsonSchema, depth: number): fc.Arbitrary<unknown>[] {
  const valid = validObject(doc, s, depth).map((v) => (typeof v === 'object' && v !== null ? { ...v } : {}));
  const names = Object.keys(s.properties ?? {});
  const mutations: fc.Arbitrary<unknown>[] = [
    // One field broken, the rest valid.
    ...names.map((name) => fc.tuple(valid, invalidValue(doc, s.properties![name]!, depth + 1)).map(([v, bad]) => ({ ...v, [name]: bad }))),
    // An unknown field, with an awkward name.
    fc.tuple(valid, fc.constantFrom('unexpected', ...NASTY_KEYS), scalar).map(([v, key, value]) => ({ ...v, [key]: value })),
    // Every alternative at once, or none of them.
    fc.tuple(valid, fc.boolean()).map(([v, none]) => {
      const out: Record<string, unknown> = { ...v };
      for (const name of exactlyOneOf(s)) if (none) delete out[name];
      else out[name] ??= 'x';
      return out;
    }),
  ];
  // A required field missing.
  for (const name of s.required ?? []) mutations.push(valid.map((v) => Object.fromEntries(Object.entries(v).filter(([key]) => key !== name))));
  return mutations;
}

// A lone surrogate cannot be percent-encoded; raw segments carry its (invalid) UTF-8 bytes instead.
const encoded = (value: unknown) => encodeURIComponent(String(value).toWellFormed());
const RAW_SEGMENTS = ['%E0%A4%A', '%', '%zz', '%00', '%2F', '%C3%28', '%ED%A0%80', '%F0%9F%98', '..', '.', 'a'.repeat(800), '%25'.repeat(300), encodeURIComponent('😀\u0000')] as const;

/** A path segment for `param` of `path`: an existing id, a valid or invalid value, or a raw segment. */
function pathSegment(ctx: FuzzContext, path: string, param: Parameter): fc.Arbitrary<string> {
  const collection = path.slice(0, path.indexOf(`{${param.name}}`)).split('/').filter(Boolean).at(-1) ?? '';
  const known = ctx.fixtures[collection] ?? [];
  return fc.oneof(
    ...(known.length > 0 ? [{ weight: 6, arbitrary: fc.constantFrom(...known).map(encoded) }] : []),
    { weight: 2, arbitrary: validValue(ctx.doc, param.schema).map(encoded) },
    { weight: 1, arbitrary: invalidValue(ctx.doc, param.schema).map(encoded) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  );
}

/** A query string: each parameter absent, valid or invalid, sometimes with an unknown or raw one. */
function queryString(ctx: FuzzContext, params: readonly Parameter[]): fc.Arbitrary<string> {
  const pair = (name: string) => (value: unknown) => `${encoded(name)}=${encoded(value)}`;
  const each = params.map((p) =>
    fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: validValue(ctx.doc, p.schema).map(pair(p.name)) }, { weight: 1, arbitrary: invalidValue(ctx.doc, p.schema).map(pair(p.name)) }),
  );
  const extra = fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('unexpected=1', 'a=%E0%A4%A', '%00=%00', 'limit=1&limit=2', '__proto__[x]=1', 'q'.repeat(5000)) });
  return fc.tuple(fc.tuple(...each), extra).map(([parts, more]) => {
    const all = [...parts, more].filter((p): p is string => p !== null);
    return all.length === 0 ? '' : `?${all.join('&')}`;
  });
}

interface Body {
  readonly payload?: string;
  readonly contentType?: string;
  readonly tries: string;
}

const WRONG_TYPES = ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16'] as const;

/** A body for `schema` (or none documented): valid, mutated, or not acceptable JSON at all. */
function body(ctx: FuzzContext, schema: JsonSchema | undefined): fc.Arbitrary<Body> {
  const json = (tries: string) => (value: unknown) => ({ payload: JSON.stringify(value), contentType: 'application/json', tries });
  const junk = fc.oneof(
    fc
      .constantFrom('{"a":', 'undefined', '', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', `${'['.repeat(5000)}${']'.repeat(5000)}`)
      .map((payload) => ({ payload, contentType: 'application/json', tries: 'body that is no acceptable JSON' })),
    fc.constantFrom(...WRONG_TYPES).map((contentType) => ({ payload: '{"a":1}', contentType, tries: `body as ${contentType}` })),
    fc.constant({ payload: JSON.stringify({ big: 'x'.repeat(ctx.bodyLimit) }), contentType: 'application/json', tries: 'body over the limit' }),
  );
  if (schema === undefined) return fc.oneof({ weight: 4, arbitrary: fc.constant({ tries: 'no body' }) }, { weight: 1, arbitrary: freeForm(0).map(json('unexpected body')) }, { weight: 1, arbitrary: junk });
  return fc.oneof(
    { weight: 4, arbitrary: validValue(ctx.doc, schema).map(json('valid body')) },
    { weight: 3, arbitrary: invalidValue(ctx.doc, schema).map(json('mutated body')) },
    { weight: 1, arbitrary: junk },
  );
}

/** Requests to `op`, from its documented parameters and body. */
export function requestArbitrary(ctx: FuzzContext, { method, path, operation }: DocumentedOperation): fc.Arbitrary<FuzzRequest> {
  const params = operation.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const authorized = fc.oneof({ weight: 20, arbitrary: fc.constant(ctx.auth) }, { weight: 1, arbitrary: fc.constantFrom<Readonly<Record<string, string>>>({}, { authorization: 'Bearer wrong' }) });
  return fc
    .record({
      segments: fc.tuple(...pathParams.map((p) => pathSegment(ctx, path, p))),
      query: queryString(ctx, params.filter((p) => p.in === 'query')),
      body: body(ctx, operation.requestBody?.content['application/json']?.schema),
      headers: authorized,
    })
    .map(({ segments, query, body: b, headers }) => {
      const url = pathParams.reduce((u, p, i) => u.replace(`{${p.name}}`, segments[i]!), path) + query;
      return {
        method,
        url,
        headers: b.contentType === undefined ? headers : { ...headers, 'content-type': b.contentType },
        ...(b.payload === undefined ? {} : { payload: b.payload }),
        tries: b.tries,
      };
    });
}
