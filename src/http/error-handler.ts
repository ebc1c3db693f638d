import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { ParleyError, errorStatus, isParleyError } from '../domain/errors.ts';
import type { ErrorBody } from './schemas/common.schemas.ts';

/**
 * The longest path parameter accepted, in characters as sent: ids are up to 256 characters, and a
 * percent-encoded one is up to three times as long.
 */
export const MAX_PARAM_LENGTH = 768;

/** Fastify's own refusals, said in the catalogue's terms. */
const FASTIFY_ERRORS: Readonly<Record<string, (err: FastifyError, request: FastifyRequest) => ParleyError>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (_err, request) => ParleyError.of('PAYLOAD_TOO_LARGE', { limit: request.routeOptions.bodyLimit }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (_err, request) => ParleyError.of('UNSUPPORTED_MEDIA_TYPE', { type: request.headers['content-type'] ?? '(none)' }),
  FST_ERR_BAD_URL: (_err, request) => ParleyError.of('BAD_URL', { path: request.url.split('?')[0] ?? '' }),
  FST_ERR_MAX_PARAM_LENGTH: () => ParleyError.of('URI_TOO_LONG', { limit: MAX_PARAM_LENGTH }),
  FST_ERR_CTP_EMPTY_JSON_BODY: (err) => ParleyError.of('VALIDATION_FAILED', { field: 'body', problem: err.message }),
  FST_ERR_CTP_INVALID_JSON_BODY: (err) => ParleyError.of('VALIDATION_FAILED', { field: 'body', problem: err.message }),
};

/**
 * Maps every thrown error to `{error:{code,message}}` with the status the catalogue fixes for the
 * code. Server errors (5xx) answer with a generic message and the request id: their own message
 * may quote the store driver or name internals, so it goes to the log only, like the stack.
 */
/**
 * Fastify's answer to a path it cannot route (bad percent-encoding, an overlong parameter), in
 * the same shape as every other error: pass it as the `frameworkErrors` option.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = errorResponse(toParleyError(err, request), request.id);
  void reply.status(status).send(body);
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const parley = toParleyError(err, request);
    const { status, body } = errorResponse(parley, request.id);
    if (status >= 500) request.log.error({ err, code: parley.code }, 'request failed');
    else request.log.debug({ code: parley.code }, 'request rejected');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = errorResponse(ParleyError.of('NOT_FOUND', { resource: `Route ${request.method} ${request.url.split('?')[0]}` }), request.id);
    void reply.status(status).send(body);
  });
}

/**
 * Refuses requests that still arrive while the server closes (pipelined, or on a kept-alive
 * connection) with 503 SHUTTING_DOWN. It stands in for Fastify's `return503OnClosing`, whose body
 * is not in the API's error shape; turn that option off where this is installed.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw ParleyError.of('SHUTTING_DOWN');
  });
}

/** The status and body an error is answered with. */
export function errorResponse(err: ParleyError, requestId: string): { status: number; body: ErrorBody } {
  const status = errorStatus(err.code);
  if (status >= 500) {
    return { status, body: { error: { code: err.code, message: `${STATUS_CODES[status] ?? 'Server error'}; the log has the details under request ${requestId}` } } };
  }
  const body: ErrorBody = { error: { code: err.code, message: err.message } };
  if (err.details !== undefined) body.error.details = { ...err.details };
  return { status, body };
}

function toParleyError(err: FastifyError, request: FastifyRequest): ParleyError {
  if (isParleyError(err)) return err;
  if (err.validation !== undefined) {
    const context = err.validationContext ?? 'request';
    const choice = exactlyOneOfFailure(err.validation);
    if (choice !== null) return ParleyError.of('VALIDATION_FAILED', { field: fieldName(context, choice.path, choice.names[0]), problem: `exactly one of ${listed(choice.names)} is required` });
    const first = err.validation[0];
    // Ajv reports a missing or extra property on its parent object; name the property itself.
    const child = first?.params?.['missingProperty'] ?? first?.params?.['additionalProperty'];
    return ParleyError.of('VALIDATION_FAILED', { field: fieldName(context, first?.instancePath ?? '', child), problem: first?.message ?? 'invalid' });
  }
  const known = err.code === undefined ? undefined : FASTIFY_ERRORS[err.code];
  if (known !== undefined) return known(err, request);
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return ParleyError.of('VALIDATION_FAILED', { field: 'request', problem: err.message });
  }
  return ParleyError.of('INTERNAL', { reason: err.message }, { cause: err });
}

function fieldName(context: string, instancePath: string, child: unknown): string {
  const path = instancePath + (child === undefined ? '' : `/${String(child)}`);
  return `${context}${path.replace(/\//g, '.')}`;
}

/**
 * A failed `oneOf` of single `required` clauses (what `exactlyOneOf` declares). Ajv lists it last,
 * after one error per clause, and words it "must match exactly one schema in oneOf"; its clauses
 * come with the error because the app's Ajv runs `verbose`.
 */
function exactlyOneOfFailure(errors: readonly FastifySchemaValidationError[]): { path: string; names: [string, ...string[]] } | null {
  const last = errors.at(-1);
  if (last?.keyword !== 'oneOf' || !('schema' in last) || !Array.isArray(last.schema)) return null;
  const names: string[] = [];
  for (const clause of last.schema) {
    const required: unknown = typeof clause === 'object' && clause !== null && 'required' in clause ? clause.required : undefined;
    if (!Array.isArray(required) || required.length !== 1 || typeof required[0] !== 'string') return null;
    names.push(required[0]);
  }
  const [first, ...rest] = names;
  return first === undefined ? null : { path: last.instancePath, names: [first, ...rest] };
}

function listed(names: readonly string[]): string {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
