import type { MediaKind } from '../domain/media-kind.ts';

/** The provider kind whose bots accept simulated inbound messages. */
export const SIMULATOR_PROVIDER = 'simulator';

/** A simulated inbound message, as `POST /v1/bots/:id/simulator/inbound` takes it. */
export interface SimulatorInboundRequest {
  readonly from: string;
  readonly text?: string;
  readonly media?: { readonly kind: MediaKind; readonly mimetype: string; readonly dataBase64: string; readonly fileName?: string; readonly caption?: string };
  readonly corrupt?: boolean;
  readonly providerMessageId?: string;
  readonly group?: string | null;
  readonly displayName?: string;
}

export interface SimulatorOutboundView {
  readonly to: string;
  readonly text: string;
  readonly providerMessageId: string;
  readonly sentAt: number;
}

/** The operator-facing side of the simulator provider (the adapter's hub satisfies it). */
export interface SimulatorControl {
  inbound(botId: string, payload: SimulatorInboundRequest): Promise<{ messageId: string }>;
  outbound(botId: string): readonly SimulatorOutboundView[];
  /** Drops what a deleted bot sent, so a bot created under its id starts with an empty log. */
  forget(botId: string): void;
}
