import { describe, expect, it } from 'vitest';
import { CloudPayloadError, parseNotification } from '../../../src/adapters/cloud-api/cloud-api-inbound.ts';
import type { CloudInboundContext, CloudNotification } from '../../../src/adapters/cloud-api/cloud-api-inbound.ts';
import type { MediaBytes } from '../../../src/ports/media-store.port.ts';
import type { InboundMessage } from '../../../src/ports/provider.port.ts';

// Values from Meta's messages webhook reference examples.
const WABA_ID = '102290129340398';
const PHONE_NUMBER_ID = '106540352242922';
const DISPLAY_NUMBER = '15550783881';
const USER = '16505551234';
const USER_NAME = 'Sheena Nelson';
const TIMESTAMP = '1749416383';
const WAMID = 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=';
const QUOTED_WAMID = 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NjlCQUNCMDM0NTI3NjNBNkEA';
const SHA256 = 'SOPVI7aQqRzDG0OQ6JEu6K7pb4Kk3KVhdEUwsyIJBKA=';
const BSUID = 'US.13491208655302741918';

type Obj = Record<string, unknown>;

const METADATA = { display_phone_number: DISPLAY_NUMBER, phone_number_id: PHONE_NUMBER_ID };
const SHEENA = { profile: { name: USER_NAME }, wa_id: USER };

function envelope(...entries: Obj[]): Obj {
  return { object: 'whatsapp_business_account', entry: entries };
}

function entry(...values: Obj[]): Obj {
  return { id: WABA_ID, changes: values.map((value) => ({ value, field: 'messages' })) };
}

function messagesValue(messages: unknown[], contacts: Obj[] = [SHEENA], metadata: Obj = METADATA): Obj {
  return { messaging_product: 'whatsapp', metadata, contacts, messages };
}

/** One user message as Meta wraps it: a single entry, change and contact. */
function inbound(message: Obj): Obj {
  return envelope(entry(messagesValue([{ from: USER, id: WAMID, timestamp: TIMESTAMP, ...message }])));
}

interface MediaCall {
  readonly mediaId: string;
  readonly expected: { readonly mimetype: string; readonly sha256: string | null };
  readonly fn: () => Promise<MediaBytes>;
}

function fakeContext(quotes: Readonly<Record<string, string>> = {}): { ctx: CloudInboundContext; mediaCalls: MediaCall[]; quoteCalls: string[][] } {
  const mediaCalls: MediaCall[] = [];
  const quoteCalls: string[][] = [];
  const ctx: CloudInboundContext = {
    phoneNumberId: PHONE_NUMBER_ID,
    media(mediaId, expected) {
      const fn = async (): Promise<MediaBytes> => new TextEncoder().encode(`bytes of ${mediaId}`);
      mediaCalls.push({ mediaId, expected, fn });
      return fn;
    },
    async quotedText(correspondentId, wamid) {
      quoteCalls.push([correspondentId, wamid]);
      return quotes[wamid] ?? null;
    },
  };
  return { ctx, mediaCalls, quoteCalls };
}

/** Messages as plain data for snapshots: the download function is checked apart. */
function plain(messages: readonly InboundMessage[]): unknown[] {
  return messages.map((message) => (message.media === null ? message : { ...message, media: { ...message.media, download: '<download>' } }));
}

async function parseOne(message: Obj, quotes?: Readonly<Record<string, string>>): Promise<InboundMessage> {
  const result = await parseNotification(inbound(message), fakeContext(quotes).ctx);
  expect(result.skipped).toBe(0);
  expect(result.messages).toHaveLength(1);
  return result.messages[0]!;
}

const TEXT_KINDS: readonly (readonly [string, Obj])[] = [
  ['text', { type: 'text', text: { body: 'Does it come in another color?' } }],
  [
    'location',
    {
      type: 'location',
      location: {
        address: '101 Forest Ave, Palo Alto, CA 94301',
        latitude: 37.44216251868683,
        longitude: -122.16153582049394,
        name: 'Philz Coffee',
        url: 'https://philzcoffee.com/',
      },
    },
  ],
  ['location without name', { type: 'location', location: { latitude: 52.52, longitude: 13.405 } }],
  [
    'contacts',
    {
      type: 'contacts',
      contacts: [
        {
          addresses: [{ city: 'Menlo Park', country: 'United States', country_code: 'us', state: 'CA', street: '1 Hacker Way', type: 'HOME', zip: '94025' }],
          birthday: '1999-01-23',
          emails: [{ email: 'bjohnson@whatsapp.com', type: 'HOME' }],
          name: { first_name: 'Barbara', last_name: 'Johnson', middle_name: 'Joana', formatted_name: 'Barbara J. Johnson' },
          org: { company: 'WhatsApp', department: 'Design', title: 'Manager' },
          phones: [
            { phone: '+1 (940) 555-1234', type: 'HOME' },
            { phone: '+1 (650) 555-1234', type: 'WORK', wa_id: '16505551234' },
          ],
          urls: [{ url: 'https://www.luckyshrub.com', type: 'WORK' }],
        },
        { name: { formatted_name: 'Ada Lovelace', first_name: 'Ada' }, phones: [] },
      ],
    },
  ],
  ['interactive button_reply', { context: { from: DISPLAY_NUMBER, id: QUOTED_WAMID }, type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'change-button', title: 'Change' } } }],
  [
    'interactive list_reply',
    {
      context: { from: DISPLAY_NUMBER, id: QUOTED_WAMID },
      type: 'interactive',
      interactive: { type: 'list_reply', list_reply: { id: 'priority_express', title: 'Express Shipping', description: 'Next day to 2 days' } },
    },
  ],
  ['interactive list_reply without description', { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'row-1', title: 'Standard' } } }],
  ['interactive nfm_reply', { type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{"flow_token":"x"}' } } }],
  ['button', { context: { from: DISPLAY_NUMBER, id: QUOTED_WAMID }, type: 'button', button: { payload: 'Unsubscribe from Promos', text: 'Unsubscribe from Promos' } }],
  ['system', { type: 'system', system: { body: `User ${USER_NAME} changed from ${USER} to 12195555358`, wa_id: '12195555358', type: 'user_changed_number' } }],
  [
    'unsupported',
    {
      errors: [{ code: 131051, title: 'Message type unknown', message: 'Message type unknown', error_data: { details: 'Message type is currently not supported.' } }],
      type: 'unsupported',
      unsupported: { type: 'edit' },
    },
  ],
  ['unknown with errors', { errors: [{ code: 131051, title: 'Message type unknown', details: 'Message type is not currently supported' }], type: 'unknown' }],
  ['order (not read by Parley)', { type: 'order', order: { catalog_id: '194836987003835', product_items: [] } }],
];

describe('parseNotification: message kinds', () => {
  it.each(TEXT_KINDS)('normalizes %s', async (_name, message) => {
    const result = await parseNotification(inbound(message), fakeContext().ctx);
    expect(result.skipped).toBe(0);
    expect(result.statuses).toEqual([]);
    expect(plain(result.messages)).toMatchSnapshot();
  });

  it('says [Unsupported message: unsupported] when Meta names no inner type and no error', async () => {
    expect((await parseOne({ type: 'unsupported' })).text).toBe('[Unsupported message: unsupported]');
  });

  it('writes one [Contact] line per shared contact', async () => {
    const contacts = TEXT_KINDS.find(([name]) => name === 'contacts')![1];
    expect((await parseOne(contacts)).text).toBe('[Contact] Barbara J. Johnson: +1 (940) 555-1234, +1 (650) 555-1234\n[Contact] Ada Lovelace');
  });

  it('words a location like the Baileys provider', async () => {
    const location = TEXT_KINDS.find(([name]) => name === 'location')![1];
    expect((await parseOne(location)).text).toBe(
      '[Location] 37.44216251868683, -122.16153582049394 — Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 https://philzcoffee.com/',
    );
  });
});

const MEDIA_KINDS_CASES: readonly (readonly [string, Obj, { id: string; mimetype: string; kind: string }])[] = [
  [
    'image with caption',
    { type: 'image', image: { caption: 'Is this the one?', mime_type: 'image/jpeg', sha256: SHA256, id: '1003383421387256', url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256' } },
    { id: '1003383421387256', mimetype: 'image/jpeg', kind: 'image' },
  ],
  ['voice note', { type: 'audio', audio: { mime_type: 'audio/ogg; codecs=opus', sha256: SHA256, id: '1003383421387257', voice: true } }, { id: '1003383421387257', mimetype: 'audio/ogg; codecs=opus', kind: 'voice' }],
  ['audio file', { type: 'audio', audio: { mime_type: 'audio/mpeg', sha256: SHA256, id: '1003383421387258', voice: false } }, { id: '1003383421387258', mimetype: 'audio/mpeg', kind: 'audio' }],
  ['video', { type: 'video', video: { mime_type: 'video/mp4', sha256: SHA256, id: '1003383421387259' } }, { id: '1003383421387259', mimetype: 'video/mp4', kind: 'video' }],
  [
    'document with filename and caption',
    { type: 'document', document: { caption: 'Lucky Shrub Invoice', filename: 'lucky-shrub-invoice.pdf', mime_type: 'application/pdf', sha256: SHA256, id: '1003383421387260' } },
    { id: '1003383421387260', mimetype: 'application/pdf', kind: 'document' },
  ],
  ['sticker', { type: 'sticker', sticker: { mime_type: 'image/webp', sha256: SHA256, id: '1003383421387261', animated: false } }, { id: '1003383421387261', mimetype: 'image/webp', kind: 'sticker' }],
];

describe('parseNotification: media', () => {
  it.each(MEDIA_KINDS_CASES)('normalizes %s', async (_name, message, want) => {
    const { ctx, mediaCalls } = fakeContext();
    const result = await parseNotification(inbound(message), ctx);
    expect(plain(result.messages)).toMatchSnapshot();
    const [only] = result.messages;
    expect(only?.text).toBeNull();
    expect(only?.media?.kind).toBe(want.kind);
    expect(mediaCalls).toEqual([{ mediaId: want.id, expected: { mimetype: want.mimetype, sha256: SHA256 }, fn: expect.any(Function) }]);
    expect(only?.media?.download).toBe(mediaCalls[0]?.fn);
    expect(new TextDecoder().decode((await only!.media!.download()) as Uint8Array)).toBe(`bytes of ${want.id}`);
  });

  it('passes a null sha256 and the kind fallback mimetype when Meta omits them', async () => {
    const { ctx, mediaCalls } = fakeContext();
    const result = await parseNotification(inbound({ type: 'audio', audio: { id: 'm-1', voice: true } }), ctx);
    expect(result.messages[0]?.media).toMatchObject({ kind: 'voice', mimetype: 'audio/ogg; codecs=opus', caption: null, fileName: null, sizeBytes: null });
    expect(mediaCalls.map(({ mediaId, expected }) => ({ mediaId, expected }))).toEqual([{ mediaId: 'm-1', expected: { mimetype: 'audio/ogg; codecs=opus', sha256: null } }]);
  });

  it('skips a media message without a media id: there is nothing to download', async () => {
    const { ctx, mediaCalls } = fakeContext();
    const result = await parseNotification(inbound({ type: 'image', image: { mime_type: 'image/jpeg', caption: 'lost' } }), ctx);
    expect(result).toEqual({ messages: [], statuses: [], skipped: 1 });
    expect(mediaCalls).toEqual([]);
  });
});

describe('parseNotification: reactions', () => {
  it('marks a reaction and says which emoji', async () => {
    const message = await parseOne({ type: 'reaction', reaction: { message_id: QUOTED_WAMID, emoji: '\uD83D\uDC4D' } });
    expect(message).toMatchSnapshot();
    expect(message).toMatchObject({ reaction: true, text: '[Reaction 👍]', media: null });
  });

  it('says [Reaction removed] when Meta omits the emoji', async () => {
    const message = await parseOne({ type: 'reaction', reaction: { message_id: QUOTED_WAMID } });
    expect(message).toMatchSnapshot();
    expect(message).toMatchObject({ reaction: true, text: '[Reaction removed]' });
  });

  it('says [Reaction removed] for an empty emoji too', async () => {
    expect((await parseOne({ type: 'reaction', reaction: { message_id: QUOTED_WAMID, emoji: '' } })).text).toBe('[Reaction removed]');
  });
});

describe('parseNotification: replies and forwards', () => {
  const reply = { context: { from: USER, id: QUOTED_WAMID }, type: 'text', text: { body: 'Yes, that one' } };

  it('quotes the earlier message when Parley knows its text', async () => {
    const { ctx, quoteCalls } = fakeContext({ [QUOTED_WAMID]: 'Which colour would you like?\nWe have red and blue.' });
    const result = await parseNotification(inbound(reply), ctx);
    expect(plain(result.messages)).toMatchSnapshot();
    expect(result.messages[0]?.text).toBe('[Reply to: "Which colour would you like? We have red and blue."] Yes, that one');
    expect(quoteCalls).toEqual([[USER, QUOTED_WAMID]]);
  });

  it('cuts a long quote to 80 characters with …', async () => {
    const message = await parseOne(reply, { [QUOTED_WAMID]: 'é'.repeat(100) });
    expect(message.text).toBe(`[Reply to: "${'é'.repeat(80)}…"] Yes, that one`);
  });

  it('says [Reply to an earlier message] when the quoted text is unknown', async () => {
    const message = await parseOne(reply);
    expect(message).toMatchSnapshot();
    expect(message.text).toBe('[Reply to an earlier message] Yes, that one');
  });

  it('puts the quote at the head of a media caption', async () => {
    const image = { context: { from: USER, id: QUOTED_WAMID }, type: 'image', image: { caption: 'this one', mime_type: 'image/jpeg', sha256: SHA256, id: 'img-1' } };
    const message = await parseOne(image, { [QUOTED_WAMID]: 'Send a photo' });
    expect(message.text).toBeNull();
    expect(message.media?.caption).toBe('[Reply to: "Send a photo"] this one');
    const bare = await parseOne({ ...image, image: { mime_type: 'image/jpeg', id: 'img-2' } });
    expect(bare.media?.caption).toBe('[Reply to an earlier message]');
  });

  it('marks a forwarded message', async () => {
    const message = await parseOne({ context: { forwarded: true }, type: 'text', text: { body: 'Look at this' } });
    expect(message.text).toBe('[Forwarded] Look at this');
    const often = await parseOne({ context: { frequently_forwarded: true }, type: 'video', video: { mime_type: 'video/mp4', id: 'vid-1', caption: 'lol' } });
    expect(often.media?.caption).toBe('[Forwarded] lol');
  });
});

describe('parseNotification: senders', () => {
  it('matches display names by wa_id, and leaves null a sender with no contact', async () => {
    const value = messagesValue(
      [
        { from: '4915112345678', id: 'wamid.A', timestamp: TIMESTAMP, type: 'text', text: { body: 'one' } },
        { from: USER, id: 'wamid.B', timestamp: TIMESTAMP, type: 'text', text: { body: 'two' } },
        { from: '4917600000001', id: 'wamid.C', timestamp: TIMESTAMP, type: 'text', text: { body: 'three' } },
      ],
      [SHEENA, { profile: { name: 'Jonas' }, wa_id: '4915112345678' }],
    );
    const result = await parseNotification(envelope(entry(value)), fakeContext().ctx);
    expect(result.messages.map((message) => message.sender)).toEqual([
      { id: '4915112345678', displayName: 'Jonas' },
      { id: USER, displayName: USER_NAME },
      { id: '4917600000001', displayName: null },
    ]);
  });

  it('uses the business-scoped user id when Meta hides the phone number', async () => {
    const contacts = [{ profile: { name: 'Sheena', username: '@sheena' }, user_id: BSUID }];
    const value = messagesValue(
      [
        { from_user_id: BSUID, id: 'wamid.D', timestamp: TIMESTAMP, type: 'text', text: { body: 'hi' } },
        { user_id: BSUID, id: 'wamid.E', timestamp: TIMESTAMP, type: 'text', text: { body: 'again' } },
      ],
      contacts,
    );
    const result = await parseNotification(envelope(entry(value)), fakeContext().ctx);
    expect(result.skipped).toBe(0);
    expect(result.messages).toMatchSnapshot();
    expect(result.messages.map((message) => [message.correspondentId, message.sender])).toEqual([
      [BSUID, { id: BSUID, displayName: 'Sheena' }],
      [BSUID, { id: BSUID, displayName: 'Sheena' }],
    ]);
  });

  it('keeps the phone number as correspondent when both are given, matching the contact by user_id', async () => {
    const value = messagesValue([{ from: USER, from_user_id: BSUID, id: 'wamid.F', timestamp: TIMESTAMP, type: 'text', text: { body: 'hi' } }], [{ profile: { name: 'Sheena' }, user_id: BSUID }]);
    const result = await parseNotification(envelope(entry(value)), fakeContext().ctx);
    expect(result.messages[0]?.sender).toEqual({ id: USER, displayName: 'Sheena' });
  });

  it('stamps originatingAt in ms, null when the timestamp is absent or not a number', async () => {
    expect((await parseOne({ type: 'text', text: { body: 'x' } })).originatingAt).toBe(1_749_416_383_000);
    expect((await parseOne({ timestamp: undefined, type: 'text', text: { body: 'x' } })).originatingAt).toBeNull();
    expect((await parseOne({ timestamp: 'soon', type: 'text', text: { body: 'x' } })).originatingAt).toBeNull();
  });
});

describe('parseNotification: batches', () => {
  it('reads several entries, changes and messages in order', async () => {
    const message = (id: string, body: string): Obj => ({ from: USER, id, timestamp: TIMESTAMP, type: 'text', text: { body } });
    const payload = envelope(
      entry(messagesValue([message('wamid.1', 'first'), message('wamid.2', 'second')]), messagesValue([message('wamid.3', 'third')])),
      entry(messagesValue([message('wamid.4', 'fourth')]), messagesValue([message('wamid.5', 'fifth'), message('wamid.6', 'sixth')])),
    );
    const result = await parseNotification(payload, fakeContext().ctx);
    expect(result.skipped).toBe(0);
    expect(result.messages.map((m) => [m.providerMessageId, m.text])).toEqual([
      ['wamid.1', 'first'],
      ['wamid.2', 'second'],
      ['wamid.3', 'third'],
      ['wamid.4', 'fourth'],
      ['wamid.5', 'fifth'],
      ['wamid.6', 'sixth'],
    ]);
  });

  it("skips changes for another phone number and other fields, keeping the bot's", async () => {
    const mine = messagesValue([{ from: USER, id: 'wamid.mine', timestamp: TIMESTAMP, type: 'text', text: { body: 'for the bot' } }]);
    const theirs = messagesValue([{ from: USER, id: 'wamid.theirs', timestamp: TIMESTAMP, type: 'text', text: { body: 'for another number' } }], [SHEENA], {
      display_phone_number: '15550001111',
      phone_number_id: '999999999999999',
    });
    const payload = envelope({
      id: WABA_ID,
      changes: [
        { value: theirs, field: 'messages' },
        { value: mine, field: 'messages' },
        { value: { event: 'APPROVED', message_template_id: 123 }, field: 'message_template_status_update' },
      ],
    });
    const result = await parseNotification(payload, fakeContext().ctx);
    expect(result.messages.map((m) => m.providerMessageId)).toEqual(['wamid.mine']);
    expect(result.skipped).toBe(2);
  });
});

describe('parseNotification: statuses', () => {
  const base = { id: WAMID, timestamp: '1750263773', recipient_id: USER };
  const pricing = { billable: true, pricing_model: 'PMP', category: 'utility' };
  const failedError = {
    code: 131047,
    title: 'Re-engagement message',
    message: 'Re-engagement message',
    error_data: { details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
    href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
  };

  function statusesPayload(statuses: Obj[]): Obj {
    return envelope(entry({ messaging_product: 'whatsapp', metadata: METADATA, statuses }));
  }

  it('reads sent, delivered, read and failed', async () => {
    const result: CloudNotification = await parseNotification(
      statusesPayload([
        { ...base, status: 'sent', conversation: { id: 'c1', expiration_timestamp: '1750350173', origin: { type: 'utility' } }, pricing },
        { ...base, status: 'delivered', pricing },
        { ...base, status: 'read' },
        { ...base, status: 'failed', errors: [failedError] },
      ]),
      fakeContext().ctx,
    );
    expect(result.messages).toEqual([]);
    expect(result.skipped).toBe(0);
    expect(result.statuses).toMatchSnapshot();
    expect(result.statuses.map((s) => s.status)).toEqual(['sent', 'delivered', 'read', 'failed']);
    expect(result.statuses[0]).toEqual({ wamid: WAMID, recipientId: USER, status: 'sent', at: 1_750_263_773_000, error: null });
    expect(result.statuses[3]?.error).toEqual({
      code: 131047,
      title: 'Re-engagement message',
      details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    });
  });

  it('takes the message as details when Meta gives no error_data, and skips unknown statuses', async () => {
    const result = await parseNotification(
      statusesPayload([
        { ...base, status: 'failed', errors: [{ code: 130472, title: "User's number is part of an experiment", message: 'Experiment' }] },
        { ...base, status: 'failed' },
        { ...base, status: 'deleted' },
        { status: 'read', recipient_id: USER },
      ]),
      fakeContext().ctx,
    );
    expect(result.statuses.map((s) => s.error)).toEqual([{ code: 130472, title: "User's number is part of an experiment", details: 'Experiment' }, null]);
    expect(result.skipped).toBe(2);
  });
});

describe('parseNotification: malformed payloads', () => {
  it.each([
    ['not an object', null],
    ['an array', [1, 2]],
    ['a string', 'whatsapp_business_account'],
    ['another object type', { object: 'page', entry: [] }],
    ['no entry array', { object: 'whatsapp_business_account', entry: { id: WABA_ID } }],
  ])('rejects %s with CloudPayloadError', async (_name, payload) => {
    await expect(parseNotification(payload, fakeContext().ctx)).rejects.toBeInstanceOf(CloudPayloadError);
  });

  it('names the fault without echoing the payload', async () => {
    await expect(parseNotification({ object: 'secret-object', entry: [] }, fakeContext().ctx)).rejects.toThrow(/^object is not whatsapp_business_account$/);
  });

  it('accepts an empty entry list', async () => {
    expect(await parseNotification(envelope(), fakeContext().ctx)).toEqual({ messages: [], statuses: [], skipped: 0 });
  });

  it('skips a message without id or sender, and malformed entries and lists, keeping the rest', async () => {
    const good = { from: USER, id: 'wamid.good', timestamp: TIMESTAMP, type: 'text', text: { body: 'kept' } };
    const payload = envelope(
      entry(
        messagesValue([
          { from: USER, timestamp: TIMESTAMP, type: 'text', text: { body: 'no id' } },
          { id: 'wamid.nofrom', timestamp: TIMESTAMP, type: 'text', text: { body: 'no sender' } },
          'not a message',
          good,
        ]),
        { messaging_product: 'whatsapp', metadata: METADATA, messages: { not: 'a list' } },
      ),
      { id: WABA_ID },
      { id: WABA_ID, changes: ['not a change', { field: 'messages' }] },
    );
    const result = await parseNotification(payload, fakeContext().ctx);
    expect(result.messages.map((m) => m.providerMessageId)).toEqual(['wamid.good']);
    expect(result.skipped).toBe(7);
  });
});
