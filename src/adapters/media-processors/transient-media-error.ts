/**
 * A failure worth trying again later (rate limit, server error, network, timeout): thrown, so the
 * job retries with backoff. Messages name the service and the status only, never a response
 * body, since the SDK's own messages can quote the key.
 */
export class TransientMediaError extends Error {
  override readonly name = 'TransientMediaError';
}
