import { parseArgs } from 'node:util';
import { startWireServer } from './index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    host: { type: 'string', default: '127.0.0.1' },
    verbose: { type: 'boolean', default: false },
    'data-dir': { type: 'string' },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid --port ${values.port}\n`);
  process.exit(2);
}

const write = (level: string) => (obj: object, msg: string) => process.stderr.write(`${level} ${msg} ${JSON.stringify(obj)}\n`);
const logger = { debug: values.verbose ? write('debug') : () => {}, warn: write('warn') };

const server = await startWireServer({ host: values.host, port, logger, dataDir: values['data-dir'] }).catch((err: unknown) => {
  process.stderr.write(`cannot start: ${(err as Error).message}\n`);
  process.exit(1);
});
process.stdout.write(`parley wire server listening on ${server.uri}; data ${server.storage}\n`);

const shutdown = (): void => {
  void server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`stopping failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
