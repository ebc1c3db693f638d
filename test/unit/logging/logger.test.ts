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

  it('strips secret options from connection strings, keeping the others', () => {
    expect(redactUri('mongodb://db:27017/parley?tls=true&tlsCertificateKeyFilePassword=hunter2&authSource=admin')).toBe(
      'mongodb://db:27017/parley?tls=true&tlsCertificateKeyFilePassword=[redacted]&authSource=admin',
    );
    const aws = redactUri('mongodb+srv://AKIAEXAMPLE:s3cr3t@cluster0.example.net/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:FQoGZXIvYXdzEJr');
    expect(aws).toBe('mongodb+srv://[redacted]@cluster0.example.net/?authMechanism=MONGODB-AWS&authMechanismProperties=[redacted]');
    for (const uri of [
      'mongodb://db/?sslPEMKeyPassword=hunter2',
      'mongodb://db/?proxyHost=p&proxyPassword=hunter2',
      'mongodb://db/?AUTHMECHANISMPROPERTIES=TOKEN_RESOURCE:hunter2',
      'mongodb://db/?w=1;tlsCertificateKeyFilePassword=hunter2',
      'mongodb://db/?tlsCertificateKeyFile%50assword=hunter2',
      // An unescaped "/" or "@" in a password is still user information.
      'mongodb://admin:hun/ter@2@db:27017/?appName=parley',
    ]) {
      expect(redactUri(uri), uri).not.toMatch(/hunter|hun\/ter/);
    }
    expect(redactUri('mongodb://db/?appName=parley&retryWrites=true')).toBe('mongodb://db/?appName=parley&retryWrites=true');
  });

  it('redacts the secret fields of secrets at rest and provider credentials', () => {
    const { logger, lines } = capture();
    logger.info({ secretKey: 'key-material-1', bot: { creds: { noiseKey: 'noise-2' }, sealed: { data: 'cipher-3' } }, cloud: { appSecret: 'app-4', verifyToken: 'verify-5' }, hook: { webhookSecret: 'whsec_6' } }, 'secrets');
    const out = lines.join('');
    for (const secret of ['key-material-1', 'noise-2', 'cipher-3', 'app-4', 'verify-5', 'whsec_6']) expect(out).not.toContain(secret);
  });

  it('hides phone-number-like path segments and query values in request URLs', () => {
    expect(redactPath('/v1/bots/b1/correspondents/4915112345678/messages?token=abc')).toBe(
      '/v1/bots/b1/correspondents/[redacted]/messages?token=[redacted]',
    );
  });
});
