import { jidNormalizedUser, proto } from 'baileys';
import type { WAMessage, WAMessageKey } from 'baileys';
import { describe, expect, it } from 'vitest';
import { normalizeInbound } from '../../../src/adapters/baileys/baileys-inbound.ts';
import type { InboundContext } from '../../../src/adapters/baileys/baileys-inbound.ts';
import type { LidMappings } from '../../../src/adapters/baileys/baileys-socket.ts';
import { OWNER_SENDER_ID } from '../../../src/adapters/simulator/simulator-inbound.ts';
import type { MediaBytes } from '../../../src/ports/media-store.port.ts';
import type { InboundMedia, InboundMessage } from '../../../src/ports/provider.port.ts';

const PN = '4915112345678@s.whatsapp.net';
const LID = '123456789012345@lid';
const GROUP = '120363000000000001@g.us';
const MEMBER_PN = '4917600000001@s.whatsapp.net';
const MEMBER_LID = '987654321098765@lid';
const SECONDS = 1_700_000_000;

/** The key fields Baileys adds beside the protobuf ones, which `fromObject` would drop. */
type KeyExtras = Pick<WAMessageKey, 'remoteJidAlt' | 'participantAlt' | 'addressingMode'>;

/** A real `proto.WebMessageInfo`, as the socket emits it: 64-bit fields become Longs. */
function wa(fields: Record<string, unknown>, extras: KeyExtras = {}): WAMessage {
  const info = proto.WebMessageInfo.fromObject({
    key: { remoteJid: PN, fromMe: false, id: 'MSG-1' },
    messageTimestamp: SECONDS,
    pushName: 'Alice',
    ...fields,
  });
  return Object.assign(info, { key: { ...info.key, ...extras } });
}

/** Keeps LID → PN pairs as the auth state does, answering with a device-qualified JID like Baileys. */
class MemoryLidMappings implements LidMappings {
  readonly stored: { lid: string; pn: string }[] = [];
  private readonly pns = new Map<string, string>();

  async getPNForLID(lid: string): Promise<string | null> {
    const pn = this.pns.get(jidNormalizedUser(lid));
    return pn === undefined ? null : pn.replace('@', ':0@');
  }

  async storeLIDPNMappings(pairs: { lid: string; pn: string }[]): Promise<void> {
    for (const pair of pairs) {
      this.stored.push(pair);
      this.pns.set(jidNormalizedUser(pair.lid), jidNormalizedUser(pair.pn));
    }
  }
}

interface Run {
  readonly result: InboundMessage | null;
  /** The message each download was made for, and the function handed out. */
  readonly downloads: { readonly message: WAMessage; readonly fn: () => Promise<MediaBytes> }[];
}

async function run(message: WAMessage, lidMappings: LidMappings = new MemoryLidMappings()): Promise<Run> {
  const downloads: Run['downloads'] = [];
  const ctx: InboundContext = {
    lidMappings,
    download(forMessage) {
      const fn = () => Promise.resolve(new Uint8Array([1, 2, 3]));
      downloads.push({ message: forMessage, fn });
      return fn;
    },
  };
  return { result: await normalizeInbound(message, ctx), downloads };
}

/** An inbound message without its download function, which a snapshot cannot show. */
type Plain = Omit<InboundMessage, 'media'> & { readonly media: Omit<InboundMedia, 'download'> | null };

/** Normalizes a message that must be kept, checking that its download is the provider's own. */
async function normalized(fields: Record<string, unknown>, extras: KeyExtras = {}, lidMappings?: LidMappings): Promise<Plain> {
  const message = wa(fields, extras);
  const { result, downloads } = await run(message, lidMappings);
  if (result === null) throw new Error('the message was dropped');
  if (result.media === null) {
    expect(downloads).toHaveLength(0);
    return { ...result, media: null };
  }
  // Handed through untouched, and made for the message as received (wrappers and all).
  expect(downloads).toHaveLength(1);
  expect(result.media.download).toBe(downloads[0]!.fn);
  expect(downloads[0]!.message).toBe(message);
  const { download: _download, ...media } = result.media;
  return { ...result, media };
}

const quotedText = 'This is a rather long message that the reply refers to, and it goes on well past eighty characters.';

describe('normalizeInbound: text', () => {
  it('takes a plain conversation message', async () => {
    expect(await normalized({ message: { conversation: 'Hello there' } })).toMatchSnapshot();
  });

  it('prefixes a reply with an excerpt of the quoted text, cut at 80 characters', async () => {
    const message = { extendedTextMessage: { text: 'I agree', contextInfo: { stanzaId: 'Q-1', participant: PN, quotedMessage: { conversation: quotedText } } } };
    expect(await normalized({ message })).toMatchSnapshot();
  });

  it('quotes a media message by its label and caption, on one line', async () => {
    const quotedMessage = { imageMessage: { caption: 'Our\nnew office', mimetype: 'image/jpeg' } };
    const message = { extendedTextMessage: { text: 'Nice!', contextInfo: { quotedMessage } } };
    expect((await normalized({ message })).text).toMatchInlineSnapshot(`"[Reply to: "[Image] Our new office"] Nice!"`);
  });

  it('unwraps an ephemeral (disappearing) message', async () => {
    expect(await normalized({ message: { ephemeralMessage: { message: { extendedTextMessage: { text: 'Gone soon' } } } } })).toMatchSnapshot();
  });
});

describe('normalizeInbound: media', () => {
  it('takes an image with its caption and a 64-bit fileLength', async () => {
    const message = wa({ message: { imageMessage: { mimetype: 'image/jpeg', caption: 'Look', fileLength: 5_000_000_000 } } });
    // fromObject stores uint64 as a Long whose high word is set here.
    const fileLength = message.message?.imageMessage?.fileLength;
    expect(typeof fileLength === 'object' && fileLength !== null && fileLength.high).toBe(1);
    expect((await run(message)).result?.media?.sizeBytes).toBe(5_000_000_000);
    expect(await normalized({ message: { imageMessage: { mimetype: 'image/jpeg', caption: 'Look', fileLength: 5_000_000_000 } } })).toMatchSnapshot();
  });

  it('puts the quote of a media reply in its caption', async () => {
    const message = { imageMessage: { mimetype: 'image/png', fileLength: 10, contextInfo: { quotedMessage: { conversation: 'Send a photo?' } } } };
    expect((await normalized({ message })).media).toMatchSnapshot();
  });

  it('takes a video and a GIF (a looping video)', async () => {
    expect(await normalized({ message: { videoMessage: { mimetype: 'video/mp4', caption: 'Clip', fileLength: 2048 } } })).toMatchSnapshot();
    expect((await normalized({ message: { videoMessage: { mimetype: 'video/mp4', gifPlayback: true, fileLength: 99 } } })).media).toMatchSnapshot();
  });

  it('takes audio as audio and a push-to-talk recording as voice', async () => {
    expect((await normalized({ message: { audioMessage: { mimetype: 'audio/mpeg', fileLength: 4000 } } })).media).toMatchSnapshot();
    expect(await normalized({ message: { audioMessage: { mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds: 3, fileLength: 1500 } } })).toMatchSnapshot();
  });

  it('takes a document with its file name, and unwraps a document with caption', async () => {
    const document = { mimetype: 'application/pdf', fileName: 'invoice.pdf', fileLength: 12_345 };
    expect((await normalized({ message: { documentMessage: document } })).media).toMatchSnapshot();
    const wrapped = { documentWithCaptionMessage: { message: { documentMessage: { ...document, caption: 'March invoice' } } } };
    expect(await normalized({ message: wrapped })).toMatchSnapshot();
  });

  it('takes a sticker, defaulting the mimetype and leaving the size unknown when absent', async () => {
    expect((await normalized({ message: { stickerMessage: { isAnimated: false } } })).media).toMatchSnapshot();
  });

  it('unwraps view-once media of every generation', async () => {
    const image = { imageMessage: { mimetype: 'image/jpeg', viewOnce: true, fileLength: 700 } };
    const v2 = await normalized({ message: { viewOnceMessageV2: { message: image } } });
    expect(v2).toMatchSnapshot();
    expect(await normalized({ message: { viewOnceMessage: { message: image } } })).toEqual(v2);
    expect(await normalized({ message: { viewOnceMessageV2Extension: { message: image } } })).toEqual(v2);
  });
});

describe('normalizeInbound: locations, contacts, reactions, edits', () => {
  it('tells a location by coordinates, name, address and URL', async () => {
    const locationMessage = { degreesLatitude: 52.520008, degreesLongitude: 13.404954, name: 'Alexanderplatz', address: '10178 Berlin', url: 'https://maps.example/alex' };
    expect((await normalized({ message: { locationMessage } })).text).toMatchInlineSnapshot(`"[Location] 52.520008, 13.404954 — Alexanderplatz, 10178 Berlin https://maps.example/alex"`);
    expect((await normalized({ message: { locationMessage: { degreesLatitude: -33.8688, degreesLongitude: 151.2093 } } })).text).toMatchInlineSnapshot(`"[Location] -33.8688, 151.2093"`);
    const live = { liveLocationMessage: { degreesLatitude: 48.1351, degreesLongitude: 11.582, caption: 'On my way' } };
    expect(await normalized({ message: live })).toMatchSnapshot();
  });

  it('tells a contact card by name and numbers, one line per contact', async () => {
    const vcard = (name: string, tels: string[]) => ['BEGIN:VCARD', 'VERSION:3.0', `FN:${name}`, ...tels, 'END:VCARD'].join('\n');
    const bob = vcard('Bob Builder', ['TEL;type=CELL;type=VOICE;waid=4915199999999:+49 151 99999999', 'item1.TEL:+1 555 0100']);
    expect(await normalized({ message: { contactMessage: { displayName: 'Bob', vcard: bob } } })).toMatchSnapshot();
    const contacts = [
      { displayName: 'Bob', vcard: bob },
      { vcard: vcard('Carol', ['TEL;waid=4930123:+49 30 123']) },
      { displayName: 'No Number', vcard: vcard('No Number', []) },
    ];
    expect((await normalized({ message: { contactsArrayMessage: { displayName: '3 contacts', contacts } } })).text).toMatchSnapshot();
  });

  it('marks a reaction, with its own id, and its removal', async () => {
    const target = { remoteJid: PN, fromMe: true, id: 'BOT-REPLY-1' };
    expect(await normalized({ key: { remoteJid: PN, id: 'REACT-1' }, message: { reactionMessage: { key: target, text: '👍', senderTimestampMs: 1 } } })).toMatchSnapshot();
    expect((await normalized({ key: { remoteJid: PN, id: 'REACT-2' }, message: { reactionMessage: { key: target, text: '' } } })).text).toMatchInlineSnapshot(`"[Reaction removed]"`);
  });

  it('turns an edit into a new message with the edit’s own id', async () => {
    const edit = { protocolMessage: { type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, key: { remoteJid: PN, id: 'MSG-1' }, editedMessage: { conversation: 'Hello, corrected' } } };
    const wrapped = await normalized({ key: { remoteJid: PN, id: 'EDIT-1' }, message: { editedMessage: { message: edit } } });
    expect(wrapped).toMatchSnapshot();
    // Newer clients send the protocol message unwrapped.
    expect(await normalized({ key: { remoteJid: PN, id: 'EDIT-1' }, message: edit })).toEqual(wrapped);
    const captionEdit = { ...edit.protocolMessage, editedMessage: { imageMessage: { caption: 'Better caption' } } };
    expect((await normalized({ key: { remoteJid: PN, id: 'EDIT-2' }, message: { protocolMessage: captionEdit } })).text).toMatchInlineSnapshot(`"[Edited] Better caption"`);
  });

  it('says so for a content type it does not know, rather than dropping it', async () => {
    const poll = { pollCreationMessageV3: { name: 'Lunch?', options: [{ optionName: 'Yes' }, { optionName: 'No' }], selectableOptionsCount: 1 } };
    expect(await normalized({ message: poll })).toMatchSnapshot();
    expect((await normalized({ message: { buttonsMessage: { contentText: 'Pick one' } } })).text).toMatchInlineSnapshot(`"[Unsupported message: buttonsMessage]"`);
  });
});

describe('normalizeInbound: chats and senders', () => {
  it('files a group message under the group, from the participant’s number, and remembers its LID', async () => {
    const mappings = new MemoryLidMappings();
    const key = { remoteJid: GROUP, fromMe: false, id: 'G-1', participant: MEMBER_LID };
    expect(await normalized({ key, pushName: 'Dana', message: { conversation: 'Hi all' } }, { participantAlt: MEMBER_PN, addressingMode: 'lid' }, mappings)).toMatchSnapshot();
    expect(mappings.stored).toEqual([{ lid: MEMBER_LID, pn: MEMBER_PN }]);
    // The same member later without the alternate JID is still known by number.
    const later = await normalized({ key: { ...key, id: 'G-2' }, message: { conversation: 'Again' } }, {}, mappings);
    expect(later.sender).toEqual({ id: MEMBER_PN, displayName: 'Alice' });
  });

  it('takes a group participant addressed by number as is, remembering the LID beside it', async () => {
    const mappings = new MemoryLidMappings();
    const key = { remoteJid: GROUP, id: 'G-3', participant: `${MEMBER_PN.replace('@', ':7@')}` };
    const result = await normalized({ key, message: { conversation: 'From my laptop' } }, { participantAlt: MEMBER_LID }, mappings);
    expect(result.sender.id).toBe(MEMBER_PN);
    expect(mappings.stored).toEqual([{ lid: MEMBER_LID, pn: MEMBER_PN }]);
  });

  it('files a LID-addressed one-to-one message under the number and remembers the pair', async () => {
    const mappings = new MemoryLidMappings();
    const key = { remoteJid: LID, id: 'L-1' };
    expect(await normalized({ key, message: { conversation: 'Via LID' } }, { remoteJidAlt: PN, addressingMode: 'lid' }, mappings)).toMatchSnapshot();
    expect(mappings.stored).toEqual([{ lid: LID, pn: PN }]);
  });

  it('files a later LID-only message in the same chat once the mapping is stored', async () => {
    const mappings = new MemoryLidMappings();
    await mappings.storeLIDPNMappings([{ lid: LID, pn: PN }]);
    // The store answers "4915112345678:0@s.whatsapp.net"; the chat id carries no device.
    const result = await normalized({ key: { remoteJid: LID, id: 'L-2' }, message: { conversation: 'LID only' } }, {}, mappings);
    expect(result.correspondentId).toBe(PN);
    expect(result.sender).toEqual({ id: PN, displayName: 'Alice' });
    const byNumber = await normalized({ key: { remoteJid: PN, id: 'P-1' }, message: { conversation: 'By number' } }, {}, mappings);
    expect(byNumber.correspondentId).toBe(result.correspondentId);
  });

  it('keeps the LID of an unknown LID-only chat', async () => {
    const result = await normalized({ key: { remoteJid: LID, id: 'L-3' }, message: { conversation: 'Who am I' } });
    expect(result.correspondentId).toBe(LID);
    expect(result.sender).toEqual({ id: LID, displayName: 'Alice' });
  });

  it('marks the owner’s own message, sent from the phone, as from the account into the chat', async () => {
    const mappings = new MemoryLidMappings();
    const key = { remoteJid: LID, fromMe: true, id: 'OWN-1' };
    expect(await normalized({ key, pushName: 'Owner', message: { conversation: 'I’ll answer this one' } }, { remoteJidAlt: PN }, mappings)).toMatchSnapshot();
    expect(OWNER_SENDER_ID).toBe('me');
  });

  it('files the owner’s own group message under the group, from the account', async () => {
    const key = { remoteJid: GROUP, fromMe: true, id: 'OWN-2', participant: MEMBER_LID };
    const result = await normalized({ key, message: { conversation: 'Owner here' } });
    expect([result.correspondentId, result.group, result.sender, result.fromMe]).toEqual([GROUP, GROUP, { id: OWNER_SENDER_ID, displayName: null }, true]);
  });

  it('stamps the message with its time in milliseconds, from a Long or a number, else null', async () => {
    const message = wa({ message: { conversation: 'x' } });
    expect(typeof message.messageTimestamp).toBe('object');
    expect((await run(message)).result?.originatingAt).toBe(SECONDS * 1000);
    expect((await run(Object.assign(wa({ message: { conversation: 'x' } }), { messageTimestamp: 42 }))).result?.originatingAt).toBe(42_000);
    expect((await run(wa({ messageTimestamp: null, message: { conversation: 'x' } }))).result?.originatingAt).toBeNull();
  });
});

describe('normalizeInbound: not conversation messages', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['a status update', { key: { remoteJid: 'status@broadcast', id: 'S-1', participant: PN }, message: { imageMessage: { caption: 'My day' } } }],
    ['a broadcast list message', { key: { remoteJid: '1700000000@broadcast', id: 'B-1', participant: PN }, message: { conversation: 'To all' } }],
    ['a newsletter post', { key: { remoteJid: '120363000000000002@newsletter', id: 'N-1' }, message: { conversation: 'News' } }],
    ['a message without id', { key: { remoteJid: PN }, message: { conversation: 'No id' } }],
    ['a message without chat', { key: { id: 'X-1' }, message: { conversation: 'No chat' } }],
    ['a revoke', { message: { protocolMessage: { type: proto.Message.ProtocolMessage.Type.REVOKE, key: { remoteJid: PN, id: 'MSG-0' } } } }],
    ['a history sync notification', { message: { protocolMessage: { type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION } } }],
    ['an app state key share', { message: { protocolMessage: { type: proto.Message.ProtocolMessage.Type.APP_STATE_SYNC_KEY_SHARE } } }],
    ['an ephemeral setting', { message: { protocolMessage: { type: proto.Message.ProtocolMessage.Type.EPHEMERAL_SETTING, ephemeralExpiration: 86400 } } }],
    ['an edit without its new content', { message: { protocolMessage: { type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT, key: { id: 'MSG-0' } } } }],
    ['a sender key distribution alone', { message: { senderKeyDistributionMessage: { groupId: GROUP, axolotlSenderKeyDistributionMessage: new Uint8Array([1]) } } }],
    ['a stub without content', { messageStubType: proto.WebMessageInfo.StubType.GROUP_PARTICIPANT_ADD, messageStubParameters: [PN] }],
    ['a poll vote', { message: { pollUpdateMessage: { pollCreationMessageKey: { id: 'P-0' } } } }],
    ['a keep-in-chat toggle', { message: { keepInChatMessage: { key: { id: 'MSG-0' } } } }],
    ['a pin', { message: { pinInChatMessage: { key: { id: 'MSG-0' } } } }],
    ['only message context info', { message: { messageContextInfo: { messageSecret: new Uint8Array([1]) } } }],
  ];
  it.each(cases)('drops %s', async (_name, fields) => {
    expect((await run(wa(fields))).result).toBeNull();
  });

  it('keeps the content that comes with a sender key distribution', async () => {
    const message = { senderKeyDistributionMessage: { groupId: GROUP }, conversation: 'First in group' };
    expect((await normalized({ key: { remoteJid: GROUP, id: 'G-9', participant: MEMBER_PN }, message })).text).toBe('First in group');
  });
});
