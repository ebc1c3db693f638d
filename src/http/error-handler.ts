import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
    const first = err.validation[0];
    // Ajv reports a missing or extra property on its parent object; name the property itself.
    const child = first?.params?.['missingProperty'] ?? first?.params?.['additionalProperty'];
    const path = (first?.instancePath ?? '') + (child === undefined ? '' : `/${String(child)}`);
    const field = `${err.validationContext ?? 'request'}${path.replace(/\//g, '.')}`;
    return ParleyError.of('VALIDATION_FAILED', { field, problem: first?.message ?? 'invalid' });
  }
  const known = err.code === undefined ? undefined : FASTIFY_ERRORS[err.code];
  if (known !== undefined) return known(err, request);
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return ParleyError.of('VALIDATION_FAILED', { field: 'request', problem: err.message });
  }
  return ParleyError.of('INTERNAL', { reason: err.message }, { cause: err });
}
