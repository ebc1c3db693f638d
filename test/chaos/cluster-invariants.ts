/**
 * Per-bot invariants of a cluster run, checked on what the store holds after the fact: the
 * simulator's session log (who ran each bot when) and the history rows. Pure functions over
 * plain data, so each check can be shown to fail on a doctored log.
 */

/** One provider session as the simulator logged it; times in epoch ms. */
export interface Session {
  readonly botId: string;
  readonly sessionId: string;
  readonly instanceId: string;
  readonly startedAt: number;
  readonly connectedAt: number | null;
  readonly endedAt: number | null;
  readonly endReason: string | null;
}

/** One life of a cluster member: from spawn to its death, and the spans it spent frozen. */
export interface Life {
  readonly instanceId: string;
  readonly spawnedAt: number;
  /** When it died: the moment of a SIGKILL, or when a graceful stop had exited; null while it runs. */
  readonly endedAt: number | null;
  readonly killed: boolean;
  /** SIGSTOP..SIGCONT spans; `to` null while still frozen. */
  readonly frozen: readonly { readonly from: number; readonly to: number | null }[];
}

type Span = readonly [number, number];

/** The life a session was started in: same instance id, spawned before it started, not dead yet. */
export function lifeOf(s: Session, lives: readonly Life[]): Life | undefined {
  return lives.find((l) => l.instanceId === s.instanceId && l.spawnedAt <= s.startedAt && (l.endedAt === null || s.startedAt <= l.endedAt));
}

/**
 * When a session stopped running. A SIGKILLed process never writes `endedAt`: its sessions end
 * at the kill. One still open in a live process runs until `now`.
 */
export function sessionEnd(s: Session, lives: readonly Life[], now: number): number {
  if (s.endedAt !== null) return s.endedAt;
  return lifeOf(s, lives)?.endedAt ?? now;
}

/**
 * The spans a session could act: from start to end, minus the spans its process was frozen
 * (a stopped process sends and receives nothing), each frozen span extended by `wakeGraceMs`
 * after SIGCONT, the time a woken process is allowed to notice it lost the bot.
 */
export function activeSpans(s: Session, lives: readonly Life[], now: number, wakeGraceMs = 0): Span[] {
  let spans: Span[] = [[s.startedAt, sessionEnd(s, lives, now)]];
  for (const f of lifeOf(s, lives)?.frozen ?? []) {
    const cut: Span = [f.from, (f.to ?? now) + wakeGraceMs];
    spans = spans.flatMap(([a, b]): Span[] => [...(cut[0] > a ? [[a, Math.min(b, cut[0])] as const] : []), ...(cut[1] < b ? [[Math.max(a, cut[1]), b] as const] : [])]).filter(([a, b]) => b > a);
  }
  return spans;
}

/** Pairs of sessions of one bot that ran at the same moment, with how long they overlapped. */
export function overlappingSessions(sessions: readonly Session[], lives: readonly Life[], now: number, wakeGraceMs = 0): string[] {
  const found: string[] = [];
  const spans = sessions.map((s) => ({ s, spans: activeSpans(s, lives, now, wakeGraceMs) }));
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i]!;
      const b = spans[j]!;
      if (a.s.botId !== b.s.botId) continue;
      let overlap = 0;
      for (const [a0, a1] of a.spans) for (const [b0, b1] of b.spans) overlap += Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
      if (overlap > 0) found.push(`${a.s.botId}: ${a.s.instanceId}/${a.s.sessionId} and ${b.s.instanceId}/${b.s.sessionId} ran together for ${overlap} ms`);
    }
  }
  return found;
}

/**
 * The longest time within [from, to] when no session of the bot was connected (its sessions
 * given), i.e. the longest outage a correspondent could see.
 */
export function longestOutage(sessions: readonly Session[], lives: readonly Life[], from: number, to: number): number {
  const connected = sessions
    .filter((s) => s.connectedAt !== null)
    .map((s): Span => [s.connectedAt!, sessionEnd(s, lives, to)])
    .sort((x, y) => x[0] - y[0]);
  let covered = from;
  let longest = 0;
  for (const [a, b] of connected) {
    if (b <= covered) continue;
    if (a > covered) longest = Math.max(longest, Math.min(a, to) - covered);
    covered = Math.max(covered, b);
    if (covered >= to) break;
  }
  return Math.max(longest, to - covered);
}

/** What one phone sent to one bot, in order, and which of those sends were acknowledged with 202. */
export interface Conversation {
  readonly botId: string;
  readonly correspondentId: string;
  /** Provider message ids in send order. */
  readonly sent: readonly string[];
  readonly acked: ReadonlySet<string>;
}

/** A history row as stored. */
export interface StoredRow {
  readonly botId: string;
  readonly correspondentId: string;
  readonly seq: number;
  readonly providerMessageId: string | null;
  readonly direction: string;
}

/**
 * Every acknowledged message stored exactly once, nothing stored that was not sent, seq unique,
 * and seq order equal to send order, per conversation. Empty when all hold.
 */
export function historyProblems(conversations: readonly Conversation[], rows: readonly StoredRow[]): string[] {
  const problems: string[] = [];
  const byConversation = Map.groupBy(rows.filter((r) => r.direction === 'inbound'), (r) => `${r.botId}|${r.correspondentId}`);
  for (const c of conversations) {
    const key = `${c.botId}|${c.correspondentId}`;
    const stored = [...(byConversation.get(key) ?? [])].sort((a, b) => a.seq - b.seq);
    byConversation.delete(key);
    const position = new Map(c.sent.map((id, i) => [id, i]));
    const count = new Map<string, number>();
    for (const r of stored) count.set(r.providerMessageId ?? '(none)', (count.get(r.providerMessageId ?? '(none)') ?? 0) + 1);
    for (const id of c.acked) if (!count.has(id)) problems.push(`${key}: acknowledged ${id} is not stored`);
    for (const [id, n] of count) {
      if (n > 1) problems.push(`${key}: ${id} stored ${n} times`);
      if (!position.has(id)) problems.push(`${key}: ${id} stored but never sent`);
    }
    const seqs = stored.map((r) => r.seq);
    if (new Set(seqs).size !== seqs.length) problems.push(`${key}: a seq is used twice: ${seqs.join(',')}`);
    const order = stored.map((r) => position.get(r.providerMessageId ?? '') ?? -1);
    if (order.some((p, i) => i > 0 && p <= order[i - 1]!)) {
      problems.push(`${key}: seq order differs from send order: ${stored.map((r) => `${r.seq}:${r.providerMessageId}`).join(' ')}`);
    }
  }
  for (const [key, extra] of byConversation) problems.push(`${key}: ${extra.length} rows in a conversation nobody sent to`);
  return problems;
}
