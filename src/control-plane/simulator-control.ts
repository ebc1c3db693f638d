import type { SimulatorInboundAccepted, SimulatorInboundBody, SimulatorOutboundMessage } from './dto/simulator.dto.ts';

/** The provider kind whose bots accept simulated inbound messages. */
export const SIMULATOR_PROVIDER = 'simulator';

/** The operator-facing side of the simulator provider (the adapter's hub satisfies it). */
export interface SimulatorControl {
  inbound(botId: string, payload: SimulatorInboundBody): Promise<SimulatorInboundAccepted>;
  outbound(botId: string): readonly SimulatorOutboundMessage[];
  /** Drops what a deleted bot sent, so a bot created under its id starts with an empty log. */
  forget(botId: string): void;
}
