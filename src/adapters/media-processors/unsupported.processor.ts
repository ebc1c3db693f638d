import type { MediaProcessor } from '../../ports/media-processor.port.ts';
import { baseMime } from './mime.ts';

/** For media no processor reads: a visible note naming the type, so the reader knows what arrived. */
export const unsupportedProcessor: MediaProcessor = async (media) => ({
  status: 'unreadable',
  reason: `unsupported media type ${baseMime(media.mimetype) || 'unknown'}`,
});
