import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { Logger } from '../../logging/logger.ts';
import type { InspectionHub } from '../../runtime/actors/inspection-hub.ts';

/**
 * Streams every actor's inspection events to Stately's visual inspector (`INSPECT=1`). The
 * bridge server listens on `port`; open https://stately.ai/inspect and point it at
 * ws://localhost:<port>. Parley's own /inspect page needs none of this and works offline.
 */
export function startStatelyInspector(options: { port: number; hub: InspectionHub; logger: Logger }): { stop(): void } {
  const server = createInspectorServer({ port: options.port, autoOpen: false });
  const inspector = createWebSocketInspector({ url: `ws://127.0.0.1:${options.port}` });
  inspector.start();
  const unsubscribe = options.hub.subscribe((event) => inspector.inspect.next?.(event));
  options.logger.info({ port: options.port }, `Stately inspector bridge on ws://127.0.0.1:${options.port}`);
  return {
    stop() {
      unsubscribe();
      inspector.stop();
      server.stop();
    },
  };
}
