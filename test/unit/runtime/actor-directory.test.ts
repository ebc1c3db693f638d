import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { botMachine } from '../../../machines/bot.machine.ts';
import { correspondentQueueMachine } from '../../../machines/correspondent-queue.machine.ts';
import { mediaJobMachine } from '../../../machines/media-job.machine.ts';
import type { MediaJobEvent, MediaJobInput } from '../../../machines/media-job.machine.ts';
import { createActorDirectory } from '../../../src/observability/actor-directory.ts';
import type { DirectoryChange } from '../../../src/observability/actor-directory.ts';
import { createInspectionHub } from '../../../src/runtime/actors/inspection-hub.ts';
import type { InspectionHub } from '../../../src/runtime/actors/inspection-hub.ts';

const LIMITS = { maxMessages: 10, maxCharacters: 1000, maxAgeDays: 1, maxCharactersPerMessage: 500 };

function setup(options: Parameters<typeof createActorDirectory>[1] = {}) {
  const hub = createInspectionHub();
  let now = 1_000;
  const directory = createActorDirectory(hub, { clock: () => (now += 1), ...options });
  const changes: DirectoryChange[] = [];
  directory.subscribe((c) => void changes.push(c));
  return { hub, directory, changes };
}

function bot(hub: InspectionHub, id: string) {
  return createActor(botMachine, { input: { botId: id, maxReconnectAttempts: null }, inspect: hub.inspect, id }).start();
}

/** The runtime's way with media jobs: every decision restores a fresh actor from the last snapshot. */
function jobHost(hub: InspectionHub, input: MediaJobInput) {
  const first = createActor(mediaJobMachine, { input, inspect: hub.inspect, id: input.jobId }).start();
  let persisted = first.getPersistedSnapshot();
  first.stop();
  return (event: MediaJobEvent) => {
    const actor = createActor(mediaJobMachine, { snapshot: persisted, inspect: hub.inspect, id: input.jobId } as never).start();
    actor.send(event);
    persisted = actor.getPersistedSnapshot();
    actor.stop();
  };
}

const jobInput = (jobId: string): MediaJobInput => ({
  jobId, botId: 'b1', correspondentId: 'c1', messageId: 1, kind: 'image', caption: 'a private caption', fileName: null, maxAttempts: 3,
});

describe('actor directory', () => {
  it('follows a bot through its states with event, from and to', () => {
    const { hub, directory } = setup();
    const actor = bot(hub, 'b1');
    actor.send({ type: 'bot.start' });
    actor.send({ type: 'provider.connected' });
    const entry = directory.get('b1')!;
    expect(entry).toMatchObject({ id: 'b1', kind: 'bot', botId: 'b1', state: 'connected' });
    expect(entry.transitions.map(({ event, from, to }) => ({ event, from, to }))).toEqual([
      { event: 'xstate.init', from: null, to: 'stopped' },
      { event: 'bot.start', from: 'stopped', to: 'starting' },
      { event: 'provider.connected', from: 'starting', to: 'connected' },
    ]);
    expect(entry.context).toMatchObject({ attempt: 0, qrAvailable: false, lastError: null });
  });

  it('says that a QR code exists without ever holding it', () => {
    const { hub, directory } = setup();
    const actor = bot(hub, 'b1');
    actor.send({ type: 'bot.start' });
    actor.send({ type: 'provider.qr', qr: 'QR-SECRET-PAYLOAD' });
    expect(directory.get('b1')!.context['qrAvailable']).toBe(true);
    expect(JSON.stringify(directory.list())).not.toContain('QR-SECRET-PAYLOAD');
  });

  it('keys media jobs by actor id across the short-lived instances that decide them', () => {
    const { hub, directory } = setup();
    const decide = jobHost(hub, jobInput('job-1'));
    decide({ type: 'job.claimed', owner: 'w1', leaseUntil: 99_000, attempt: 1 });
    decide({ type: 'job.heartbeat', attempt: 1, leaseUntil: 120_000 });
    decide({ type: 'job.completed', attempt: 1, outcome: { status: 'processed', text: 'the private result' } });
    decide({ type: 'job.delivered' });
    expect(directory.list()).toHaveLength(1);
    const entry = directory.get('job-1')!;
    expect(entry).toMatchObject({ kind: 'media-job', botId: 'b1', state: 'delivered' });
    // Restarting an instance in the state it was stored in is not a transition, and stopping one is not either.
    expect(entry.transitions.map((t) => `${t.event}:${t.from}>${t.to}`)).toEqual([
      'xstate.init:null>pending',
      'job.claimed:pending>processing',
      'job.heartbeat:processing>processing',
      'job.completed:processing>completed',
      'job.delivered:completed>delivered',
    ]);
    expect(entry.context).toMatchObject({ kind: 'image', attempt: 1, hasResult: true, correspondentId: 'c1' });
    const json = JSON.stringify(entry);
    expect(json).not.toContain('the private result');
    expect(json).not.toContain('a private caption');
  });

  it('shows nested states as dotted paths', () => {
    const { hub, directory } = setup();
    const decide = jobHost(hub, jobInput('job-2'));
    decide({ type: 'bot.stopped' });
    expect(directory.get('job-2')!.state).toBe('holding.idle');
  });

  it('summarizes a queue by counts, never by message bodies or sender numbers', () => {
    const { hub, directory } = setup();
    const queue = createActor(correspondentQueueMachine, { input: { botId: 'b1', correspondentId: 'c1', limits: LIMITS }, inspect: hub.inspect, id: 'b1|c1' }).start();
    queue.send({
      type: 'message.text-received', now: 5_000,
      message: { content: 'a private message body', sender: { id: '+4915112345678', displayName: 'Alice' }, source: 'user', originatingAt: null, group: null, providerMessageId: 'p1' },
    });
    const entry = directory.get('b1|c1')!;
    expect(entry).toMatchObject({ kind: 'correspondent-queue', botId: 'b1', state: 'active' });
    expect(entry.context).toMatchObject({ correspondentId: 'c1', messages: 1, placeholders: 0, characters: 22, maxMessages: 10 });
    const json = JSON.stringify(entry);
    for (const secret of ['a private message body', '+4915112345678', 'Alice']) expect(json).not.toContain(secret);
  });

  it('keeps only the last transitions of an actor', () => {
    const { hub, directory } = setup({ maxTransitions: 3 });
    const actor = bot(hub, 'b1');
    for (let i = 0; i < 5; i++) actor.send({ type: 'provider.qr', qr: `qr-${i}` });
    expect(directory.get('b1')!.transitions).toHaveLength(3);
  });

  it('forgets the least recently updated actor of a kind beyond its limit, and says so', () => {
    const { hub, directory, changes } = setup({ maxActors: { 'media-job': 2 } });
    jobHost(hub, jobInput('j1'));
    const j2 = jobHost(hub, jobInput('j2'));
    j2({ type: 'bot.stopped' });
    jobHost(hub, jobInput('j1'))({ type: 'bot.stopped' });
    jobHost(hub, jobInput('j3'));
    bot(hub, 'b1');
    expect(directory.list().map((e) => e.id)).toEqual(['b1', 'j3', 'j1']);
    expect(changes).toContainEqual({ type: 'removed', id: 'j2' });
  });

  it('drops a throwing listener without losing the hub or the other listeners', () => {
    const { hub, directory, changes } = setup();
    directory.subscribe(() => {
      throw new Error('broken page');
    });
    const actor = bot(hub, 'b1');
    actor.send({ type: 'bot.start' });
    expect(directory.listenerCount()).toBe(1);
    expect(changes.filter((c) => c.type === 'actor')).toHaveLength(2);
    expect(directory.get('b1')!.state).toBe('starting');
  });

  it('forgets an actor on request and stops listening when closed', () => {
    const { hub, directory, changes } = setup();
    const actor = bot(hub, 'b1');
    directory.remove('b1');
    expect(directory.get('b1')).toBeUndefined();
    expect(changes.at(-1)).toEqual({ type: 'removed', id: 'b1' });
    directory.close();
    actor.send({ type: 'bot.start' });
    expect(directory.list()).toEqual([]);
  });

  it('forgets every actor of a bot the hub reports removed, and no actor of another bot', () => {
    const { hub, directory, changes } = setup();
    bot(hub, 'b1');
    bot(hub, 'b2');
    createActor(correspondentQueueMachine, { input: { botId: 'b1', correspondentId: 'c1', limits: LIMITS }, inspect: hub.inspect, id: 'b1|c1' }).start();
    jobHost(hub, jobInput('job-3'));
    hub.botRemoved('b1');
    expect(directory.list().map((e) => e.id)).toEqual(['b2']);
    expect(changes.filter((c) => c.type === 'removed').map((c) => (c.type === 'removed' ? c.id : '')).sort()).toEqual(['b1', 'b1|c1', 'job-3']);
  });

  it('ignores late snapshots of a removed bot\'s actors until a bot actor of that id appears again', () => {
    const { hub, directory } = setup();
    bot(hub, 'b1');
    const decide = jobHost(hub, jobInput('job-4'));
    directory.removeBot('b1');
    decide({ type: 'job.claimed', owner: 'w1', leaseUntil: 99_000, attempt: 1 });
    expect(directory.list()).toEqual([]);

    bot(hub, 'b1');
    jobHost(hub, jobInput('job-5'));
    expect(directory.list().map((e) => e.id).sort()).toEqual(['b1', 'job-5']);
    expect(directory.get('b1')!.transitions).toHaveLength(1);
  });

  it('stops hearing removals when closed', () => {
    const { hub, directory } = setup();
    bot(hub, 'b1');
    directory.close();
    hub.botRemoved('b1');
    expect(directory.get('b1')).toBeDefined();
  });
});
