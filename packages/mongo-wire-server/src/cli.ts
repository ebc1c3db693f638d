import { parseArgs } from 'node:util';
import { startWireServer } from './index.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    host: { type: 'string', default: '127.0.0.1' },
    verbose: { type: 'boolean', default: false },
  },
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid --port ${values.port}\n`);
  process.exit(2);
}

const write = (level: string) => (obj: object, msg: string) => process.stderr.write(`${level} ${msg} ${JSON.stringify(obj)}\n`);
const logger = { debug: values.verbose ? write('debug') : () => {}, warn: write('warn') };

const server = await startWireServer({ host: values.host, port, logger });
process.stdout.write(`parley wire server listening on ${server.uri}\n`);

const shutdown = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
