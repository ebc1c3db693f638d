import { describe, expect, it } from 'vitest';
import { canonicalCorrespondent } from '../../../src/domain/whatsapp-id.ts';

describe('the conversation a correspondent id names', () => {
  it('turns a phone number into the JID WhatsApp Web keys the chat by, with or without +', () => {
    expect(canonicalCorrespondent('baileys', '4915112345678')).toBe('4915112345678@s.whatsapp.net');
    expect(canonicalCorrespondent('baileys', '+4915112345678')).toBe('4915112345678@s.whatsapp.net');
  });

  it('leaves JIDs, LIDs, groups and other providers\' ids as they are', () => {
    for (const id of ['4915112345678@s.whatsapp.net', '123456789@lid', '120363000000000000@g.us', 'alice']) {
      expect(canonicalCorrespondent('baileys', id)).toBe(id);
    }
    expect(canonicalCorrespondent('simulator', '4915112345678')).toBe('4915112345678');
  });
});

describe('the conversation a Cloud API correspondent id names', () => {
  it('drops the + of a phone number, as Meta\'s wa_id has none', () => {
    expect(canonicalCorrespondent('cloud-api', '+16315551234')).toBe('16315551234');
    expect(canonicalCorrespondent('cloud-api', '16315551234')).toBe('16315551234');
  });
});
