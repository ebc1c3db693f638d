import { createInspector } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import type { Logger } from '../../logging/logger.ts';
import type { InspectionHub } from '../../runtime/actors/inspection-hub.ts';
import { startBridgeServer } from './bridge-server.ts';
import type { BridgeServer, FailureThrottle } from './bridge-server.ts';
import { createInspectionRedactor } from './redact-inspection.ts';
import type { WireEvent } from './redact-inspection.ts';

export interface StatelyInspectorOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly hub: InspectionHub;
  readonly logger: Logger;
  /** Keys that may watch: the API key, and the read-only inspector key when set. */
  readonly keys: readonly string[];
  /** Origins besides the bridge's own page whose pages may connect. */
  readonly allowedOrigins: readonly string[];
  /** Counts failed keys; the one the HTTP API uses, so guessing here spends the same budget. */
  readonly throttle: FailureThrottle;
  /** Forward message bodies and phone numbers as they are. */
  readonly showContent?: boolean;
}

export interface StatelyInspector {
  readonly bridge: BridgeServer;
  stop(): Promise<void>;
}

/**
 * Streams every actor's inspection events to Stately's visual inspector (`INSPECT=1`) through a
 * bridge on loopback: open http://127.0.0.1:<port>/ and enter a key. `@statelyai/inspect` still
 * shapes the inspector's events; what goes out is redacted unless `showContent`. Parley's own
 * /inspect page needs none of this and works offline.
 */
export async function startStatelyInspector(options: StatelyInspectorOptions): Promise<StatelyInspector> {
  const bridge = await startBridgeServer({ port: options.port, keys: options.keys, allowedOrigins: options.allowedOrigins, throttle: options.throttle });
  const redact = options.showContent === true ? (event: WireEvent) => event : createInspectionRedactor();
  const inspector = createInspector({
    send(event) {
      try {
        bridge.broadcast(JSON.stringify(redact(event as unknown as WireEvent)));
      } catch (err) {
        options.logger.debug({ err }, 'an inspection event could not be forwarded to the Stately bridge');
      }
    },
  });
  // The package's `inspect.next` converts on a later tick, where a throw is uncaught and ends the
  // process, and it reads `getSnapshot()` off actor references, which Parley's decided actors
  // (no running actor behind them) do not have. Its direct calls run here, inside this catch.
  const unsubscribe = options.hub.subscribe((event) => {
    try {
      forward(inspector, event);
    } catch (err) {
      options.logger.debug({ err }, 'an inspection event could not be shaped for the Stately bridge');
    }
  });
  const { port } = bridge.address();
  options.logger.info({ port }, `Stately inspector bridge on http://127.0.0.1:${port}/ (loopback only; it asks for API_KEY or INSPECT_KEY)`);
  if (options.showContent === true) options.logger.warn('INSPECT_SHOW_CONTENT=1: the Stately bridge forwards message bodies and phone numbers unredacted');
  return {
    bridge,
    async stop() {
      unsubscribe();
      await bridge.close();
    },
  };
}

type Inspector = ReturnType<typeof createInspector>;
type ActorLike = Parameters<Inspector['actor']>[0];

function forward(inspector: Inspector, event: InspectionEvent): void {
  const actorRef = event.actorRef as unknown as ActorLike;
  switch (event.type) {
    case '@xstate.actor':
      inspector.actor(actorRef);
      return;
    case '@xstate.event':
      inspector.event(actorRef, event.event, event.sourceRef === undefined ? {} : { source: event.sourceRef as unknown as ActorLike });
      return;
    case '@xstate.snapshot': {
      // The parts the inspector draws; the snapshot object also links back to its machine.
      const { status, value, context, output } = event.snapshot as unknown as Parameters<Inspector['snapshot']>[1];
      inspector.snapshot(actorRef, { status, value, context, output }, { event: event.event });
      return;
    }
    default:
      return;
  }
}
