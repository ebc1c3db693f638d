import { generateMessageIDV2 } from 'baileys';
import type { UserFacingSocketConfig, WAMessage, WAMessageKey, proto } from 'baileys';
import { ParleyError } from '../../domain/errors.ts';
import type { Logger } from '../../logging/logger.ts';
import type { AuthStateStore } from '../../ports/auth-state-store.port.ts';
import type { ProviderHandlers, ProviderSession } from '../../ports/provider.port.ts';
import { normalizeInbound } from './baileys-inbound.ts';
import { mediaDownloader } from './baileys-media.ts';
import type { BaileysSocket, MakeSocket } from './baileys-socket.ts';
import { baileysLogger } from './baileys-logger.ts';
import { decideClose } from './disconnect-policy.ts';
import { closeStatus, createIngestLane, RecentSet, toJid } from './session-parts.ts';
import { loadMongoAuthState } from './mongo-auth-state.ts';
import type { MongoAuthState } from './mongo-auth-state.ts';

/** How a Baileys session pairs. */
export interface PairingPolicy {
  /** QR codes shown in a row without a scan before the bot fails with the reason. */
  readonly maxQrCodes: number;
  /** How long each QR code lives; Baileys issues the next one then. */
  readonly qrTimeoutMs: number;
  /** How long a pairing-code request waits for the socket to be ready (its first QR code). */
  readonly readyWaitMs: number;
}

export interface BaileysSessionDeps {
  readonly botId: string;
  readonly handlers: ProviderHandlers;
  readonly authState: AuthStateStore;
  readonly makeSocket: MakeSocket;
  readonly logger: Logger;
  readonly pairing: PairingPolicy;
  /** What this bot sent under a message id, for WhatsApp's retry receipts (`getMessage`). */
  readonly sentText: (key: WAMessageKey) => Promise<string | null>;
  /** Extra socket settings (tests point `waWebSocketUrl` at a local address). */
  readonly socketConfig?: Partial<UserFacingSocketConfig>;
  readonly clock?: () => number;
}

interface OpenSocket {
  readonly sock: BaileysSocket;
  readonly generation: number;
  open: boolean;
  /** Showed a QR code: connected to WhatsApp and not linked, so a pairing code can be asked for. */
  awaitingPairing: boolean;
}

/**
 * Whether the account is linked. Baileys sets `registered` only when a pairing code succeeds; a QR
 * scan leaves it false and sets `me`. A pairing code under way sets `me` too, with `pairingCode`.
 */
function isLinked({ state: { creds } }: MongoAuthState): boolean {
  return creds.registered || (creds.me !== undefined && creds.pairingCode === undefined);
}

/**
 * One bot's WhatsApp Web session through Baileys. Every `start` builds a new socket (a closed one
 * is dead); a socket's close becomes one provider event by the disconnect table, and events of a
 * socket this session already let go of are ignored. Inbound `notify` and `append` upserts (the
 * offline replay arrives as `append`) go to Parley one at a time in arrival order; this session's
 * own sends, echoed back by Baileys, are recognized by id and not stored twice.
 */
export function createBaileysSession(deps: BaileysSessionDeps): ProviderSession {
  const { botId, handlers, pairing } = deps;
  const clock = deps.clock ?? Date.now;
  const log = deps.logger.child({ scope: 'baileys', botId });
  const socketLog = baileysLogger(log);
  const ownSends = new RecentSet<string>(2000);
  const sentTexts = new Map<string, string>();
  const lane = createIngestLane(log);
  let generation = 0;
  let current: OpenSocket | null = null;
  let auth: MongoAuthState | null = null;
  let qrShown = 0;
  let previousStatus: number | null = null;
  let readyWaiters: Array<() => void> = [];

  const download = mediaDownloader({
    reupload: (message) => {
      const live = current;
      if (live === null || !live.open) return Promise.reject(new Error('no open WhatsApp connection to ask for a re-upload'));
      return live.sock.updateMediaMessage(message);
    },
    logger: log,
  });

  async function getMessage(key: WAMessageKey): Promise<proto.IMessage | undefined> {
    const id = key.id ?? '';
    const text = sentTexts.get(id) ?? (await deps.sentText(key).catch(() => null));
    return text === null || text === undefined ? undefined : { conversation: text };
  }

  function release(socket: OpenSocket): void {
    if (current === socket) current = null;
    for (const event of ['connection.update', 'creds.update', 'messages.upsert'] as const) socket.sock.ev.removeAllListeners(event);
  }

  function onQr(socket: OpenSocket, qr: string): void {
    qrShown += 1;
    if (qrShown > pairing.maxQrCodes) {
      release(socket);
      void Promise.resolve(socket.sock.end(undefined)).catch(() => undefined);
      handlers.onEvent({ type: 'provider.failed', error: `pairing: ${pairing.maxQrCodes} QR codes were shown and none was scanned; start the bot again to pair` });
      return;
    }
    socket.awaitingPairing = true;
    for (const wake of readyWaiters) wake();
    readyWaiters = [];
    handlers.onEvent({ type: 'provider.qr', qr, expiresAt: clock() + pairing.qrTimeoutMs });
  }

  function onClose(socket: OpenSocket, error: unknown): void {
    release(socket);
    const { statusCode, message } = closeStatus(error);
    // Pairing: this session showed QR codes and has not connected since (a scan's 515 comes then).
    const decision = decideClose({ statusCode, message, pairing: qrShown > 0, previousStatusCode: previousStatus });
    previousStatus = statusCode;
    log.info({ statusCode, decision: decision.type }, 'WhatsApp connection closed');
    // Logged out: the keys are worthless now (the bot machine clears them from the store); the next start pairs afresh.
    if (decision.type === 'provider.logged-out') auth = null;
    handlers.onEvent(decision);
  }

  function wire(socket: OpenSocket, state: MongoAuthState): void {
    const { sock } = socket;
    const live = () => current === socket;
    sock.ev.on('creds.update', () => lane.saveCreds(() => state.saveCreds()));
    sock.ev.on('connection.update', (update) => {
      if (!live()) return;
      if (update.qr !== undefined) onQr(socket, update.qr);
      if (update.connection === 'open' && !socket.open) {
        socket.open = true;
        qrShown = 0;
        previousStatus = null;
        handlers.onEvent({ type: 'provider.connected' });
      }
      if (update.connection === 'close') onClose(socket, update.lastDisconnect?.error);
    });
    sock.ev.on('messages.upsert', ({ messages, type }) => {
      // `notify`: live; `append`: sent while the bot was away (or Baileys' echo of our own send).
      if (type !== 'notify' && type !== 'append') return;
      for (const message of messages) lane.ingest(() => ingest(message));
    });
  }

  async function ingest(message: WAMessage): Promise<void> {
    const id = message.key.id;
    if (message.key.fromMe === true && id !== null && id !== undefined && ownSends.has(id)) return;
    const normalized = await normalizeInbound(message, { lidMappings: lidMappings(), download });
    if (normalized === null) return;
    await handlers.onMessage(normalized);
  }

  // Mappings live in the auth state; with no socket open there is nothing new to learn or ask.
  function lidMappings() {
    const live = current;
    return live === null
      ? { getPNForLID: () => Promise.resolve(null), storeLIDPNMappings: () => Promise.resolve() }
      : live.sock.signalRepository.lidMapping;
  }

  function openSocket(): OpenSocket {
    const live = current;
    if (live === null || !live.open) throw ParleyError.of('CONFLICT', { reason: `bot ${botId} is not connected to WhatsApp` });
    return live;
  }

  return {
    async start() {
      const mine = ++generation;
      const state = auth ?? (await loadMongoAuthState(deps.authState, botId, socketLog));
      // A stop while the keys loaded wins: no socket is opened behind its back.
      if (mine !== generation) return;
      auth = state;
      // Never two sockets on one account: one still held (its close not reported) is let go first.
      const stale = current;
      if (stale !== null) {
        release(stale);
        void Promise.resolve(stale.sock.end(undefined)).catch(() => undefined);
      }
      const sock = deps.makeSocket({
        auth: state.state,
        logger: socketLog,
        markOnlineOnConnect: false,
        syncFullHistory: false,
        qrTimeout: pairing.qrTimeoutMs,
        getMessage,
        ...deps.socketConfig,
      });
      const socket: OpenSocket = { sock, generation: mine, open: false, awaitingPairing: false };
      current = socket;
      wire(socket, state);
      handlers.onEvent({ type: 'provider.connecting' });
    },

    async stop() {
      generation += 1;
      qrShown = 0;
      previousStatus = null;
      const socket = current;
      if (socket === null) return;
      release(socket);
      await Promise.resolve(socket.sock.end(undefined)).catch((err: unknown) => log.debug({ err }, 'socket end failed'));
      await lane.idle();
    },

    async send(to, text) {
      const { sock } = openSocket();
      // Chosen before sending, so Baileys' immediate echo of this very message is known as ours.
      const id = generateMessageIDV2(sock.user?.id);
      ownSends.add(id);
      sentTexts.set(id, text);
      if (sentTexts.size > 500) sentTexts.delete(sentTexts.keys().next().value ?? '');
      await sock.sendMessage(toJid(to), { text }, { messageId: id });
      return { providerMessageId: id };
    },

    async sendPresence(to, presence) {
      const live = current;
      if (live === null || !live.open) return;
      await live.sock.sendPresenceUpdate(presence, toJid(to));
    },

    async requestPairingCode(phoneNumber) {
      const digits = phoneNumber.replace(/^\+/, '');
      if (!/^\d{6,20}$/.test(digits)) throw ParleyError.of('VALIDATION_FAILED', { field: 'body.phoneNumber', problem: 'must be the number in international format, digits only' });
      if (auth !== null && isLinked(auth)) throw ParleyError.of('ALREADY_PAIRED', { id: botId });
      const socket = await readyForPairing();
      try {
        return await socket.sock.requestPairingCode(digits);
      } catch (err) {
        throw ParleyError.of('PROVIDER_ERROR', { reason: `WhatsApp did not issue a pairing code: ${err instanceof Error ? err.message : String(err)}` });
      }
    },
  };

  /** The socket once it is up and unlinked (its first QR code), within `readyWaitMs`. */
  async function readyForPairing(): Promise<OpenSocket> {
    const now = current;
    if (now?.awaitingPairing === true) return now;
    if (now === null) throw ParleyError.of('PAIRING_NOT_READY', { id: botId, reason: 'no connection is open' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pairing.readyWaitMs);
      readyWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    const after = current;
    if (after?.awaitingPairing !== true) throw ParleyError.of('PAIRING_NOT_READY', { id: botId, reason: 'the connection to WhatsApp is not up yet' });
    return after;
  }
}
