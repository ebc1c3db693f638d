import type { SimulatorOutboundCaps, SimulatorSent, SimulatorSession, SimulatorWorld } from '../../ports/simulator-world.port.ts';

/**
 * The simulator's world in this process's memory: what a single process without a shared store
 * (and unit tests) runs on. Arrays are kept in insertion order, which is the order of the records.
 */
export function createMemorySimulatorWorld(): SimulatorWorld {
  const sessionsByBot = new Map<string, SimulatorSession[]>();
  const botOfSession = new Map<string, string>();
  const sentByBot = new Map<string, { log: SimulatorSent[]; chars: number }>();

  function update(sessionId: string, change: (session: SimulatorSession) => SimulatorSession): void {
    const botId = botOfSession.get(sessionId);
    const list = botId === undefined ? undefined : sessionsByBot.get(botId);
    const index = list?.findIndex((s) => s.sessionId === sessionId) ?? -1;
    if (list === undefined || index < 0) return;
    list[index] = change(list[index]!);
  }

  return {
    sessionStarted(start, keep) {
      if (botOfSession.has(start.sessionId)) return Promise.resolve();
      const list = sessionsByBot.get(start.botId) ?? [];
      list.push({ ...start, connectedAt: null, endedAt: null, endReason: null });
      botOfSession.set(start.sessionId, start.botId);
      // Stable: sessions started in the same millisecond keep the order they were recorded in.
      list.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
      for (const dropped of list.splice(0, Math.max(0, list.length - keep))) botOfSession.delete(dropped.sessionId);
      sessionsByBot.set(start.botId, list);
      return Promise.resolve();
    },
    sessionConnected(sessionId, at) {
      update(sessionId, (s) => ({ ...s, connectedAt: at }));
      return Promise.resolve();
    },
    sessionEnded(sessionId, at, reason) {
      update(sessionId, (s) => (s.endedAt === null ? { ...s, endedAt: at, endReason: reason } : s));
      return Promise.resolve();
    },
    sessions(botId) {
      return Promise.resolve([...(sessionsByBot.get(botId) ?? [])]);
    },
    recordOutbound(message, caps) {
      const entry = sentByBot.get(message.botId) ?? { log: [], chars: 0 };
      sentByBot.set(message.botId, entry);
      if (entry.log.some((m) => m.providerMessageId === message.providerMessageId)) return Promise.resolve();
      entry.log.push({ ...message });
      entry.log.sort((a, b) => a.sentAt - b.sentAt);
      entry.chars += message.text.length;
      trim(entry, caps);
      return Promise.resolve();
    },
    outbound(botId) {
      return Promise.resolve([...(sentByBot.get(botId)?.log ?? [])]);
    },
    forget(botId) {
      for (const session of sessionsByBot.get(botId) ?? []) botOfSession.delete(session.sessionId);
      sessionsByBot.delete(botId);
      sentByBot.delete(botId);
      return Promise.resolve();
    },
  };
}

// The newest message stays even when it alone exceeds the budget: a test reads what was sent last.
function trim(entry: { log: SimulatorSent[]; chars: number }, caps: SimulatorOutboundCaps): void {
  while (entry.log.length > 1 && (entry.log.length > caps.maxMessages || entry.chars > caps.maxChars)) {
    entry.chars -= entry.log.shift()?.text.length ?? 0;
  }
}
