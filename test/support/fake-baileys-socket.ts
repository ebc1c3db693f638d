import { EventEmitter } from 'node:events';
import { proto } from 'baileys';
import type { AnyMessageContent, BaileysEventMap, MiscMessageGenerationOptions, UserFacingSocketConfig, WAMessage, WAPresence } from 'baileys';
import type { BaileysSocket, LidMappings, MakeSocket } from '../../src/adapters/baileys/baileys-socket.ts';

/** What a fake socket was asked to send. */
export interface SentByFake {
  readonly jid: string;
  readonly content: AnyMessageContent;
  readonly messageId: string | undefined;
}

/**
 * A stand-in for Baileys' socket: the same events, driven by the test. Messages are real `proto`
 * objects; a send echoes back as an `append` upsert with `fromMe`, as Baileys' own send does.
 */
export class FakeSocket implements BaileysSocket {
  readonly #emitter = new EventEmitter();
  readonly ev = {
    on: <T extends keyof BaileysEventMap>(event: T, listener: (arg: BaileysEventMap[T]) => void): void => void this.#emitter.on(event, listener),
    removeAllListeners: <T extends keyof BaileysEventMap>(event: T): void => void this.#emitter.removeAllListeners(event),
  };
  readonly sent: SentByFake[] = [];
  readonly presences: { type: WAPresence; jid: string | undefined }[] = [];
  readonly pairingRequests: string[] = [];
  ended = false;
  user: { id: string; lid?: string } | undefined = undefined;
  /** What `updateMediaMessage` answers; by default the message unchanged. */
  reupload: (message: WAMessage) => Promise<WAMessage> = (message) => Promise.resolve(message);

  readonly config: UserFacingSocketConfig;
  readonly signalRepository: { readonly lidMapping: LidMappings };

  constructor(config: UserFacingSocketConfig, signalRepository: { readonly lidMapping: LidMappings }) {
    this.config = config;
    this.signalRepository = signalRepository;
  }

  emit<T extends keyof BaileysEventMap>(event: T, arg: BaileysEventMap[T]): void {
    this.#emitter.emit(event, arg);
  }
  listeners(event: keyof BaileysEventMap): number {
    return this.#emitter.listenerCount(event);
  }

  /** WhatsApp accepted the connection. */
  open(userId = '4915100000000:1@s.whatsapp.net'): void {
    this.user = { id: userId };
    this.emit('connection.update', { connection: 'open' });
  }
  qr(code: string): void {
    this.emit('connection.update', { qr: code });
  }
  /** The socket closed with Baileys' `DisconnectReason` status (Boom's `output.statusCode`). */
  close(statusCode: number, message = 'closed'): void {
    this.emit('connection.update', { connection: 'close', lastDisconnect: { error: boom(message, statusCode), date: new Date() } });
  }
  upsert(messages: proto.IWebMessageInfo[], type: 'notify' | 'append' = 'notify'): void {
    this.emit('messages.upsert', { messages: messages.map(waMessage), type });
  }

  async sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage | undefined> {
    if (this.ended) throw boom('Connection Closed', 428);
    const messageId = options?.messageId;
    this.sent.push({ jid, content, messageId });
    const text = 'text' in content && typeof content.text === 'string' ? content.text : '';
    const echo = waMessage({ key: { remoteJid: jid, fromMe: true, id: messageId ?? 'ECHO' }, message: { conversation: text }, messageTimestamp: Math.floor(Date.now() / 1000) });
    this.emit('messages.upsert', { messages: [echo], type: 'append' });
    return Promise.resolve(echo);
  }
  sendPresenceUpdate(type: WAPresence, toJid?: string): Promise<void> {
    this.presences.push({ type, jid: toJid });
    return Promise.resolve();
  }
  requestPairingCode(phoneNumber: string): Promise<string> {
    this.pairingRequests.push(phoneNumber);
    return Promise.resolve('ABCD1234');
  }
  updateMediaMessage(message: WAMessage): Promise<WAMessage> {
    return this.reupload(message);
  }
  end(): void {
    this.ended = true;
  }
}

/** An error shaped like Baileys' Boom errors: the status on `output.statusCode`. */
export function boom(message: string, statusCode: number): Error {
  return Object.assign(new Error(message), { output: { statusCode } });
}

/** A real `proto` message as Baileys hands it over (its key always set). */
export function waMessage(info: proto.IWebMessageInfo): WAMessage {
  const message = proto.WebMessageInfo.fromObject(info);
  const key = message.key ?? proto.MessageKey.create();
  return Object.assign(message, { key });
}

/** LID mappings in memory, as the socket's signal repository keeps them. */
export function memoryLidMappings(): LidMappings & { readonly pairs: Map<string, string> } {
  const pairs = new Map<string, string>();
  return {
    pairs,
    getPNForLID: (lid) => Promise.resolve(pairs.get(lid.replace(/:\d+@/, '@')) ?? null),
    storeLIDPNMappings: (list) => {
      for (const { lid, pn } of list) pairs.set(lid, pn);
      return Promise.resolve();
    },
  };
}

/** A `makeSocket` that records every socket it builds; the LID mappings outlive sockets, like the auth state. */
export function fakeSockets() {
  const sockets: FakeSocket[] = [];
  const lidMapping = memoryLidMappings();
  const makeSocket: MakeSocket = (config) => {
    const socket = new FakeSocket(config, { lidMapping });
    sockets.push(socket);
    return socket;
  };
  return {
    makeSocket,
    sockets,
    lidMapping,
    /** The newest socket. */
    get last(): FakeSocket {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error('no socket was made');
      return socket;
    },
  };
}
