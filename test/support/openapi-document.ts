import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';

/** The subset of JSON Schema (OpenAPI 3.0 flavour) the served document uses. */
export interface JsonSchema {
  readonly $ref?: string;
  readonly type?: string;
  readonly nullable?: boolean;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
}

export interface MediaType {
  readonly schema?: JsonSchema;
}

export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema: JsonSchema;
}

export interface Operation {
  readonly tags?: readonly string[];
  readonly summary?: string;
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly required?: boolean; readonly content: Readonly<Record<string, MediaType>> };
  readonly responses: Readonly<Record<string, { readonly description: string; readonly content?: Readonly<Record<string, MediaType>> }>>;
  readonly security?: readonly unknown[];
}

export interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components: { readonly schemas?: Readonly<Record<string, JsonSchema>> };
}

const METHODS = { get: 'GET', put: 'PUT', post: 'POST', delete: 'DELETE', patch: 'PATCH', options: 'OPTIONS', head: 'HEAD' } as const;
export type HttpMethod = (typeof METHODS)[keyof typeof METHODS];
const METHOD_OF_KEY = new Map<string, HttpMethod>(Object.entries(METHODS));

/** One documented method on one path, e.g. `POST /v1/bots/{id}/start`. */
export interface DocumentedOperation {
  readonly method: HttpMethod;
  readonly path: string;
  readonly operation: Operation;
}

export function operationsOf(doc: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([key, operation]) => {
      const method = METHOD_OF_KEY.get(key);
      return method === undefined ? [] : [{ method, path, operation }];
    }),
  );
}

const LOCAL_REF = '#/components/schemas/';

/** The schema a `$ref` into `components.schemas` names, or `schema` itself when it is no reference. */
export function resolveSchema(doc: OpenApiDocument, schema: JsonSchema): JsonSchema {
  if (schema.$ref === undefined) return schema;
  const name = schema.$ref.startsWith(LOCAL_REF) ? schema.$ref.slice(LOCAL_REF.length) : undefined;
  const target = name === undefined ? undefined : doc.components.schemas?.[name];
  if (target === undefined) throw new Error(`unresolvable $ref ${schema.$ref}`);
  return resolveSchema(doc, target);
}

export type BodyCheck = (body: unknown) => string | null;

/**
 * Compiles response schemas of `doc` into checks that return Ajv's complaint, or null. Each
 * schema is compiled inside a copy of the document's components, so its `$ref`s resolve.
 */
export function responseChecks(doc: OpenApiDocument): (schema: JsonSchema) => BodyCheck {
  // OpenAPI 3.0 schemas carry keywords JSON Schema does not know (`nullable` Ajv reads itself,
  // `example` and the like it must ignore); the formats used are standard ones.
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  const cache = new Map<JsonSchema, BodyCheck>();
  return (schema) => {
    const cached = cache.get(schema);
    if (cached !== undefined) return cached;
    const validate = ajv.compile({ allOf: [schema], components: doc.components });
    const check: BodyCheck = (body) => (validate(body) === true ? null : ajv.errorsText(validate.errors, { dataVar: 'body' }));
    cache.set(schema, check);
    return check;
  };
}
