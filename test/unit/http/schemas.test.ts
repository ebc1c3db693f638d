import Fastify from 'fastify';
import type { FastifySchema } from 'fastify';
import { describe, expect, it } from 'vitest';
import { BotList, PairingCodeBody, QrView } from '../../../src/control-plane/dto/bot.dto.ts';
import { CorrespondentList, HistoryList, HistoryQuery, QueueMessageList } from '../../../src/control-plane/dto/conversation.dto.ts';
import { JobList, JobListQuery } from '../../../src/control-plane/dto/job.dto.ts';
import { SendMessageAccepted, SendMessageBody } from '../../../src/control-plane/dto/message.dto.ts';
import { SimulatorInboundAccepted, SimulatorInboundBody, SimulatorOutboundList } from '../../../src/control-plane/dto/simulator.dto.ts';
import { installErrorHandler } from '../../../src/http/error-handler.ts';
import { CorrespondentParams, ErrorBody } from '../../../src/http/schemas/common.schemas.ts';

/** Answers `payload` through a route using `schema`, so both Ajv and the serializer see it. */
async function roundTrip(schema: FastifySchema, request: { method: 'GET' | 'POST'; url: string; payload?: object }, payload: unknown, status = 200) {
  const instance = Fastify({ logger: false });
  installErrorHandler(instance);
  instance.route({ method: request.method, url: '/bots/:id/:cid', schema, handler: async (_req, reply) => reply.status(status).send(payload) });
  const res = await instance.inject(request);
  await instance.close();
  return res;
}

describe('contract schemas', () => {
  it('serialize bot lists with ISO dates and nullable fields', async () => {
    const bot = {
      id: 'b1', provider: 'simulator', state: 'connected', desiredState: 'running', pendingMediaJobs: 2,
      queues: { correspondents: 1, messages: 3, placeholders: 1 }, lastError: null, owner: null, createdAt: new Date(0), updatedAt: new Date(1000),
    };
    const hosted = { ...bot, id: 'b2', owner: { instanceId: 'inst-a', epoch: 3, leaseUntil: new Date(2000) } };
    const res = await roundTrip({ response: { 200: BotList } }, { method: 'GET', url: '/bots/a/b' }, { bots: [bot, hosted] });
    const iso = { createdAt: '1970-01-01T00:00:00.000Z', updatedAt: '1970-01-01T00:00:01.000Z' };
    expect(res.json()).toEqual({ bots: [{ ...bot, ...iso }, { ...hosted, ...iso, owner: { instanceId: 'inst-a', epoch: 3, leaseUntil: '1970-01-01T00:00:02.000Z' } }] });
  });

  it('serialize the live queue and history', async () => {
    const message = {
      id: 1, content: '[Image] pending', source: 'user', mediaJobId: 'job-1', acceptedAt: new Date(5), size: 15,
      sender: { id: '1555', displayName: null }, providerMessageId: 'WA-1', group: null, originatingAt: null,
    };
    const queue = await roundTrip({ params: CorrespondentParams, response: { 200: QueueMessageList } }, { method: 'GET', url: '/bots/b1/1555' }, { messages: [message] });
    expect(queue.json()).toEqual({ messages: [{ ...message, acceptedAt: '1970-01-01T00:00:00.005Z' }] });
    const row = {
      seq: 1, providerMessageId: null, direction: 'inbound', source: 'user', sender: '1555', kind: 'text', content: 'hi',
      status: 'final', mediaJobId: null, acceptedAt: new Date(0), finalizedAt: null,
    };
    const history = await roundTrip({ querystring: HistoryQuery, response: { 200: HistoryList } }, { method: 'GET', url: '/bots/b1/1555?limit=10' }, { messages: [row] });
    expect(history.json()).toEqual({ messages: [{ ...row, acceptedAt: '1970-01-01T00:00:00.000Z' }] });
  });

  it('serialize correspondents, jobs, QR, send and simulator answers', async () => {
    const cases: [FastifySchema, unknown][] = [
      [{ response: { 200: CorrespondentList } }, { correspondents: [{ id: 'c', messages: 1, characters: 2, placeholders: 0, lastAcceptedAt: null }], nextCursor: null }],
      [{ querystring: JobListQuery, response: { 200: JobList } }, { jobs: [{ id: 'j', botId: 'b', correspondentId: 'c', messageId: 4, kind: 'voice', mimetype: 'audio/ogg', pool: 'audio', sizeBytes: 12, state: 'failed', statePath: 'failed.notified', attempt: 3, error: 'boom', createdAt: '1970-01-01T00:00:00.000Z', updatedAt: '1970-01-01T00:00:00.000Z' }], nextCursor: 'abc' }],
      [{ querystring: JobListQuery, response: { 200: JobList } }, { jobs: [], nextCursor: null }],
      [{ response: { 200: QrView } }, { qr: null, dataUrl: null, expiresAt: null }],
      [{ response: { 200: QrView } }, { qr: '2@abc', dataUrl: 'data:image/png;base64,iVBORw0KGgo=', expiresAt: '2026-11-30T03:00:00.000Z' }],
      [{ response: { 200: SendMessageAccepted } }, { id: 'o1', state: 'pending' }],
      [{ response: { 200: SimulatorInboundAccepted } }, { messageId: 'SIM-1' }],
      [{ response: { 200: SimulatorOutboundList } }, { messages: [{ to: 'a', text: 'b', providerMessageId: 'p', sentAt: 1 }] }],
      [{ response: { 200: ErrorBody } }, { error: { code: 'NOT_FOUND', message: 'no', details: { id: 'x' } } }],
    ];
    for (const [schema, payload] of cases) {
      const res = await roundTrip(schema, { method: 'GET', url: '/bots/a/b' }, payload);
      expect(res.json()).toEqual(payload);
    }
  });

  it.each<[string, FastifySchema, { method: 'GET' | 'POST'; url: string; payload?: object }, RegExp]>([
    ['a send without text', { body: SendMessageBody }, { method: 'POST', url: '/bots/a/b', payload: { to: '1555' } }, /'text'/],
    ['an unknown job state', { querystring: JobListQuery }, { method: 'GET', url: '/bots/a/b?state=lost' }, /^querystring\.state: /],
    ['a bad bot id', { params: CorrespondentParams }, { method: 'GET', url: '/bots/Bad_Id/x' }, /^params\.id: /],
    ['a pairing number with letters', { body: PairingCodeBody }, { method: 'POST', url: '/bots/a/b', payload: { phoneNumber: 'abc' } }, /^body\.phoneNumber: /],
    ['an inbound media of unknown kind', { body: SimulatorInboundBody }, { method: 'POST', url: '/bots/a/b', payload: { from: 'a', media: { kind: 'gif', mimetype: 'x', dataBase64: 'AA==' } } }, /^body\.media\.kind: /],
    ['a history limit out of range', { querystring: HistoryQuery }, { method: 'GET', url: '/bots/a/b?limit=0' }, /^querystring\.limit: /],
    ['a job page over 1000', { querystring: JobListQuery }, { method: 'GET', url: '/bots/a/b?limit=1001' }, /^querystring\.limit: must be <= 1000$/],
    ['an empty job cursor', { querystring: JobListQuery }, { method: 'GET', url: '/bots/a/b?after=' }, /^querystring\.after: /],
  ])('reject %s with 400 VALIDATION_FAILED', async (_label, schema, request, message) => {
    const res = await roundTrip(schema, request, {});
    expect(res.statusCode).toBe(400);
    expect(res.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(message) });
  });

  it('accept a simulator inbound with a null group', async () => {
    const res = await roundTrip({ body: SimulatorInboundBody }, { method: 'POST', url: '/bots/a/b', payload: { from: 'a', text: 'x', group: null } }, { ok: true });
    expect(res.statusCode).toBe(200);
  });
});
