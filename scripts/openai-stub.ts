/**
 * A local OpenAI-compatible server for trying Parley without a model: transcriptions answer with a
 * digest of the audio, image descriptions with a digest of the image, and chat replies quote the
 * conversation's last message back. The test suite's fake server, on a fixed port.
 *
 *   npm run openai-stub            # http://127.0.0.1:8000/v1
 *   OPENAI_STUB_PORT=9000 npm run openai-stub
 */
import { startFakeOpenAi } from '../test/support/fake-openai-server.ts';

const port = Number(process.env['OPENAI_STUB_PORT'] ?? 8000);
const stub = await startFakeOpenAi({ port });
stub.reply('chat', (call) => {
  if (call.route !== 'chat') return '';
  if (call.images.length > 0) return `An image (${call.images[0]?.width ?? '?'}×${call.images[0]?.height ?? '?'} px).`;
  const users = call.turns.filter((t) => t.role === 'user');
  const last = users.at(-1)?.content ?? '';
  return `You said: "${last}" (${users.length} message${users.length === 1 ? '' : 's'} of yours in view).`;
});
console.log(`OpenAI-compatible stub listening on ${stub.url}`);
process.on('SIGINT', () => void stub.close().then(() => process.exit(0)));
