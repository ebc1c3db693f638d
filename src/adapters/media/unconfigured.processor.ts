import type { MediaProcessor } from '../../ports/media-processor.port.ts';

/**
 * The processor used until media pools are configured: every job completes with a visible note
 * instead of a transcript, so a conversation never waits on a placeholder that cannot resolve.
 */
export const unconfiguredProcessor: MediaProcessor = async () => ({
  status: 'unreadable',
  reason: 'media processing is not configured on this server',
});
