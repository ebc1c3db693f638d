import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactPath, redactUri } from '../../../src/logging/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('debug', stream), lines };
}

describe('logger', () => {
  it('redacts secrets, phone numbers and message bodies at any depth', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        apiKey: 'sk-secret-1',
        authorization: 'Bearer sk-secret-2',
        from: '+4915112345678',
        message: { text: 'my private words', jid: '4915112345678@s.whatsapp.net', caption: 'holiday' },
        req: { headers: { authorization: 'Bearer sk-secret-3' } },
        job: { id: 'job-1', result: { transcript: 'spoken words' } },
      },
      'inbound',
    );
    const out = lines.join('');
    for (const secret of ['sk-secret-1', 'sk-secret-2', 'sk-secret-3', '4915112345678', 'my private words', 'holiday', 'spoken words']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('job-1');
    expect(out).toContain('[redacted]');
  });

  it('scopes child loggers', () => {
    const { logger, lines } = capture();
    logger.child({ scope: 'store' }).info('ready');
    expect(JSON.parse(lines[0]!)).toMatchObject({ scope: 'store', msg: 'ready', service: 'parley' });
  });

  it('strips credentials from connection strings', () => {
    expect(redactUri('mongodb://admin:hunter2@db:27017/parley')).toBe('mongodb://[redacted]@db:27017/parley');
    expect(redactUri('mongodb://db:27017')).toBe('mongodb://db:27017');
  });

  it('hides phone-number-like path segments and query values in request URLs', () => {
    expect(redactPath('/v1/bots/b1/correspondents/4915112345678/messages?token=abc')).toBe(
      '/v1/bots/b1/correspondents/[redacted]/messages?token=[redacted]',
    );
  });
});
