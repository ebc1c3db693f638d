import type { SimulatorInboundAccepted, SimulatorInboundBody, SimulatorOutboundMessage, SimulatorSessionView } from './dto/simulator.dto.ts';

/** The provider kind whose bots accept simulated inbound messages. */
export const SIMULATOR_PROVIDER = 'simulator';

/** The operator-facing side of the simulator provider (the adapter's hub satisfies it). */
export interface SimulatorControl {
  inbound(botId: string, payload: SimulatorInboundBody): Promise<SimulatorInboundAccepted>;
  /** What the bot sent, oldest first; the same on every instance. */
  outbound(botId: string): Promise<readonly SimulatorOutboundMessage[]>;
  /** The bot's provider sessions, newest last; the same on every instance. */
  sessions(botId: string): Promise<readonly SimulatorSessionView[]>;
  /** Drops what a deleted bot sent and its sessions, so a bot created under its id starts with empty logs. */
  forget(botId: string): Promise<void>;
}
