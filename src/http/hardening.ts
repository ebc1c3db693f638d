import type { FastifyInstance } from 'fastify';
import { registerBodyLimits } from './body-limits.ts';
import { closeAfterRefusals, refuseUnknownRoutesEarly } from './connection-guards.ts';
import type { HttpLimits } from './http-limits.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { registerStreamLimits } from './stream-limits.ts';

/**
 * Everything that bounds what one client can make the server hold, and the headers every answer
 * needs. Call on the root instance before any route is added: the route-level parts attach
 * through `onRoute`.
 */
export function installHardening(app: FastifyInstance, limits: HttpLimits, bodyLimit: number): void {
  refuseUnknownRoutesEarly(app);
  closeAfterRefusals(app);
  registerSecurityHeaders(app);
  registerBodyLimits(app, { bodyLimit, mediaBodyLimit: limits.mediaBodyLimit, maxConcurrentLargeBodies: limits.maxConcurrentLargeBodies });
  registerStreamLimits(app, { maxStreams: limits.maxEventStreams, maxStreamsPerClient: limits.maxEventStreamsPerClient });
}
