import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore } from '../../support/test-store.ts';
import type { TestStore } from '../../support/test-store.ts';
import { connectedBot, eventually, startRuntime } from '../../support/runtime-harness.ts';
import type { Harness } from '../../support/runtime-harness.ts';

describe('runtime', () => {
  let t: TestStore;
  let h: Harness;
  beforeAll(async () => {
    t = await openTestStore('parley_runtime');
    h = await startRuntime(t.store);
  });
  afterAll(async () => {
    await h.runtime.shutdown();
    await t.dispose();
  });

  it('writes text to history on arrival and notifies listeners once', async () => {
    const bot = await connectedBot(h);
    await h.provider.text(bot, '4915550001', 'hello');
    const rows = await t.store.history.list(bot, '4915550001');
    expect(rows.map((r) => [r.seq, r.content, r.status])).toEqual([[1, 'hello', 'final']]);
    await eventually(() => h.delivered.filter((d) => d.botId === bot), (d) => d.length === 1);
    expect(h.delivered.filter((d) => d.botId === bot)[0]).toMatchObject({ content: 'hello', messageId: 1, recovered: false });
  });

  it('turns media into a placeholder, processes it and finalizes it in place', async () => {
    const bot = await connectedBot(h);
    await h.provider.media(bot, '4915550002', 'voice', 'M1', 'listen');
    const [placeholder] = await t.store.history.list(bot, '4915550002');
    expect(placeholder).toMatchObject({ seq: 1, status: 'placeholder' });
    const final = await eventually(() => t.store.history.list(bot, '4915550002'), (r) => r[0]?.status === 'final');
    expect(final).toHaveLength(1);
    expect(final[0]!.content).toBe('[Voice message] text of voice\nCaption: listen');
    const delivered = await eventually(() => h.delivered.filter((d) => d.botId === bot), (d) => d.length === 1);
    expect(delivered[0]).toMatchObject({ content: '[Voice message] text of voice\nCaption: listen', mediaJobId: null });
    const job = await eventually(() => t.store.mediaJobs.list({ botId: bot }), (j) => j[0]?.state === 'delivered');
    expect(job[0]).toMatchObject({ attempt: 1, state: 'delivered' });
  });
});
