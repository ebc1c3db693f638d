import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthThrottle } from '../../src/http/auth-throttle.ts';
import { requestArbitrary } from '../support/openapi-arbitrary.ts';
import type { FuzzRequest } from '../support/openapi-arbitrary.ts';
import { operationsOf, responseChecks } from '../support/openapi-document.ts';
import type { BodyCheck, DocumentedOperation, JsonSchema, OpenApiDocument } from '../support/openapi-document.ts';
import { eventually } from '../support/runtime-harness.ts';
import { openTestStore } from '../support/test-store.ts';
import type { TestStore } from '../support/test-store.ts';
import { AUTH, botInState, runningBot, startApi, voiceNote } from './api-harness.ts';
import type { Api } from './api-harness.ts';

/**
 * Every operation the OpenAPI document lists, fed requests generated from its own schemas (valid
 * ones and mutations), must answer below 500 with a status the document lists for it and a body
 * the schema for that status accepts. Routes are found in the document, so new ones are covered
 * as soon as they are documented. A failure names the seed; `FUZZ_SEED` replays it, `FUZZ_RUNS`
 * sets the requests per operation.
 */
const SEED = Number(process.env['FUZZ_SEED'] ?? 1_337);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 60);
// Small, so a body over the limit is cheap to send.
const BODY_LIMIT = 128 * 1024;

describe('every documented route under fuzzed requests', () => {
  let t: TestStore;
  let api: Api;
  beforeAll(async () => {
    t = await openTestStore('parley_route_fuzz');
    // One request in 21 goes without the key; the failed-authentication throttle would soon
    // refuse the fixtures' own requests, and it has tests of its own.
    api = await startApi(t.store, { bodyLimit: BODY_LIMIT, authThrottle: createAuthThrottle({ maxFailures: 1_000_000 }) });
    api.processor.failing.add('fz-broken');
    api.whatsapp.failSendsTo('fz-gone', Number.POSITIVE_INFINITY);
  });
  afterAll(async () => {
    await api.close();
    await t.dispose();
  });

  it('answers below 500, with a documented status and a body its schema accepts', async () => {
    const doc = (await api.request('GET', '/docs/json', undefined, {})).json<OpenApiDocument>();
    const checkFor = responseChecks(doc);
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(15);
    const failures: string[] = [];
    for (const [index, op] of operations.entries()) {
      const ctx = { doc, fixtures: await fixtures(api), auth: AUTH, bodyLimit: BODY_LIMIT };
      const property = fc.asyncProperty(requestArbitrary(ctx, op), async (request) => {
        const problem = await contractProblem(op, request, checkFor);
        if (problem !== null) throw new Error(problem);
      });
      const outcome = await fc.check(property, { seed: SEED + index, numRuns: RUNS });
      if (outcome.failed) {
        const error = outcome.errorInstance instanceof Error ? outcome.errorInstance.message : String(outcome.errorInstance);
        failures.push(`${op.method} ${op.path} ${error}\n(FUZZ_SEED=${SEED}) ${fc.defaultReportMessage(outcome)}`);
      }
    }
    if (failures.length > 0) throw new Error(`${failures.length} operation(s) broke their contract:\n\n${failures.join('\n\n')}`);
  }, Math.max(90_000, RUNS * 1_500));

  /** What is wrong with the answer to `request`, or null when it keeps the documented contract. */
  async function contractProblem(op: DocumentedOperation, request: FuzzRequest, checkFor: (schema: JsonSchema) => BodyCheck): Promise<string | null> {
    const res = await api.app.inject({ method: request.method, url: request.url, headers: request.headers, ...(request.payload === undefined ? {} : { payload: request.payload }) });
    const status = res.statusCode;
    const said = `answered ${status} to ${request.tries} (${res.body.slice(0, 300)})`;
    if (status >= 500) return `${said}: a server error`;
    const documented = op.operation.responses[String(status)];
    if (documented === undefined) return `${said}: a status the document does not list`;
    const [type, media] = Object.entries(documented.content ?? {})[0] ?? [];
    if (type === undefined) return res.body === '' ? null : `${said}: a body where none is documented`;
    if (!String(res.headers['content-type']).startsWith(type)) return `${said}: as ${res.headers['content-type']}, not ${type}`;
    if (type !== 'application/json' || media?.schema === undefined) return null;
    const complaint = checkFor(media.schema)(res.json());
    return complaint === null ? null : `${said}: a body its schema refuses: ${complaint}`;
  }
});

/** A receiver nobody listens on: its deliveries fail, so a failed one is there to retry. */
const DEAD_RECEIVER = 'http://127.0.0.1:9/fuzz-hook';

/**
 * Ids the generated requests use besides random ones, so valid ids reach the happy paths: a
 * running simulator bot with a conversation and a failed media job, a stopped one, and a fake
 * WhatsApp bot with a failed outgoing message. Made again when an operation deleted them, and
 * restarted when one stopped them; a job or message retried since is taken in whatever state.
 */
async function fixtures(api: Api): Promise<Record<string, string[]>> {
  const exists = async (id: string) => (await api.request('GET', `/v1/bots/${id}`)).statusCode === 200;
  const made = new Set<string>();
  if (!(await exists('fz-live'))) {
    await runningBot(api, 'fz-live');
    await api.request('POST', '/v1/bots/fz-live/simulator/inbound', { from: '4915550001', text: 'hello' });
    await api.request('POST', '/v1/bots/fz-live/simulator/inbound', voiceNote('fz-broken'));
    made.add('fz-live');
  }
  if (!(await exists('fz-idle'))) await api.request('POST', '/v1/bots', { id: 'fz-idle', provider: 'simulator' });
  if (!(await exists('fz-wa'))) {
    await runningBot(api, 'fz-wa', 'baileys');
    await api.request('POST', '/v1/bots/fz-wa/messages', { to: 'fz-gone', text: 'never arrives' });
    made.add('fz-wa');
  }
  for (const id of ['fz-live', 'fz-wa']) {
    await api.request('POST', `/v1/bots/${id}/start`);
    await botInState(api, id, 'connected');
  }
  const jobs = await eventually(
    async () => (await api.request('GET', '/v1/jobs?botId=fz-live')).json<{ jobs: { id: string; state: string }[] }>().jobs,
    (list) => !made.has('fz-live') || list.some((job) => job.state === 'failed'),
  );
  const outbox = await eventually(
    async () => (await api.request('GET', '/v1/bots/fz-wa/outbox')).json<{ messages: { id: string; state: string }[] }>().messages,
    (list) => !made.has('fz-wa') || list.some((message) => message.state === 'failed'),
  );
  const hooks = (await api.request('GET', '/v1/webhooks')).json<{ webhooks: { id: string; url: string }[] }>().webhooks;
  let hook = hooks.find((h) => h.url === DEAD_RECEIVER)?.id;
  if (hook === undefined) {
    hook = (await api.request('POST', '/v1/webhooks', { url: DEAD_RECEIVER, events: ['*'] })).json<{ id: string }>().id;
    await api.request('POST', '/v1/bots/fz-live/simulator/inbound', { from: '4915550001', text: 'for the hook' });
  }
  const deliveries = await eventually(
    async () => (await api.request('GET', `/v1/webhooks/${hook}/deliveries`)).json<{ deliveries: { id: string; state: string }[] }>().deliveries,
    (list) => list.some((d) => d.state === 'failed'),
  );
  return {
    webhooks: [hook],
    deliveries: deliveries.map((d) => d.id),
    bots: ['fz-live', 'fz-idle', 'fz-wa'],
    correspondents: ['4915550001', 'fz-broken'],
    jobs: jobs.map((job) => job.id),
    outbox: outbox.map((message) => message.id),
  };
}
