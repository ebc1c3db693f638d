import type { Conversation } from './cluster-invariants.ts';
import type { ParleyCluster } from './parley-cluster.ts';

/** One acknowledged send: which member took the call and which instance executed it (`parley-instance`). */
export interface Ack {
  readonly providerMessageId: string;
  readonly via: string;
  readonly executedBy: string | null;
  readonly at: number;
}

/**
 * A correspondent texting one bot, as a phone does: one message at a time, the next only once the
 * previous was acknowledged, and a message whose send failed is sent again with the same provider
 * message id (WhatsApp redelivers; Parley stores a replay once). So every message ends
 * acknowledged, and an acknowledged one is never sent again: if it is missing from history, the
 * instance that acknowledged it lost it.
 */
export interface Phone extends Conversation {
  /** Its place among the phones, so their calls spread over the members. */
  readonly slot: number;
  readonly sent: string[];
  readonly acked: Set<string>;
  readonly acks: Ack[];
}

/** `correspondentsPerBot` phones per bot; `firstNumber` picks other correspondents than an earlier call's. */
export function phonesFor(botIds: readonly string[], correspondentsPerBot: number, firstNumber = 0): Phone[] {
  return botIds.flatMap((botId, b) => Array.from({ length: correspondentsPerBot }, (_, c) => ({
    slot: b * correspondentsPerBot + c, botId, correspondentId: `49155${String(firstNumber + c).padStart(5, '0')}`, sent: [], acked: new Set<string>(), acks: [],
  })));
}

/** Picks the member a call goes to; undefined waits for one to answer. */
export type Route = (phone: Phone, index: number, attempt: number) => string | undefined;

/** Round robin over the members that answer now: every instance takes calls for every bot. */
export const anyMember = (cluster: ParleyCluster): Route => (phone, index, attempt) => {
  const up = cluster.answering();
  return up[(phone.slot + index + attempt) % Math.max(1, up.length)];
};

export interface LoadOptions {
  readonly route: Route;
  /** Messages each phone sends; unbounded until `stop()` when absent. */
  readonly messages?: number;
  /** Pause after each acknowledged message, so a continuous load stays moderate. */
  readonly pauseMs?: number;
  /** How long one message may take, retries included, before the load fails. */
  readonly messageDeadlineMs?: number;
  /** Bound of one call: a call to a frozen process never answers otherwise. */
  readonly callTimeoutMs?: number;
}

export interface Load {
  /** Why calls were refused or failed, by status or error, e.g. `503 OWNER_UNAVAILABLE`. */
  readonly refusals: Map<string, number>;
  /** Resolves once every phone sent its messages (with `messages`), or after `stop()`. */
  readonly done: Promise<void>;
  /** Acknowledgements so far, across phones. */
  acks(): number;
  /** Lets each phone finish the message it is sending (until acknowledged), then stop. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let run = 0;

/** Starts every phone texting at once; messages are numbered per phone across loads. */
export function startLoad(cluster: ParleyCluster, phones: readonly Phone[], options: LoadOptions): Load {
  const tag = `r${++run}`;
  const refusals = new Map<string, number>();
  const refused = (why: string) => refusals.set(why, (refusals.get(why) ?? 0) + 1);
  let stopping = false;
  let acks = 0;

  async function send(phone: Phone, index: number): Promise<void> {
    const id = `${phone.botId}-${phone.correspondentId}-${tag}-${index}`;
    phone.sent.push(id);
    const deadline = Date.now() + (options.messageDeadlineMs ?? 30_000);
    for (let attempt = 0; ; attempt++) {
      if (Date.now() > deadline) throw new Error(`${id} not acknowledged in time; refusals: ${JSON.stringify([...refusals])}`);
      const via = options.route(phone, index, attempt);
      if (via === undefined) {
        await sleep(50);
        continue;
      }
      const body = { from: phone.correspondentId, providerMessageId: id, text: `message ${index} of ${phone.correspondentId}` };
      try {
        const res = await cluster.member(via).request('POST', `/v1/bots/${phone.botId}/simulator/inbound`, body, AbortSignal.timeout(options.callTimeoutMs ?? 4000));
        if (res.status === 202) {
          phone.acked.add(id);
          phone.acks.push({ providerMessageId: id, via, executedBy: res.headers.get('parley-instance'), at: Date.now() });
          acks++;
          return;
        }
        const code = await res.text().then((b) => /"code":"([A-Z_]+)"/.exec(b)?.[1] ?? '', () => '');
        refused(`${res.status} ${code}`.trim());
      } catch (err) {
        // A killed member resets the connection; a frozen one answers nothing until the timeout.
        refused(err instanceof Error ? (err.name === 'TimeoutError' ? 'call timed out' : 'connection failed') : String(err));
      }
      // Backing off as a phone would, so a bot changing hands is not hammered meanwhile.
      await sleep(Math.min(600, 150 * (attempt + 1)));
    }
  }

  const done = Promise.all(phones.map(async (phone) => {
    for (let i = 0; options.messages === undefined ? !stopping : i < options.messages; i++) {
      await send(phone, i);
      if (options.pauseMs !== undefined) await sleep(options.pauseMs);
    }
  })).then(() => undefined);
  // A phone that gives up fails `done` and `stop()`, whoever awaits them, and never goes unhandled.
  done.catch(() => undefined);

  return {
    refusals,
    done,
    acks: () => acks,
    async stop() {
      stopping = true;
      await done;
    },
  };
}

/** Every phone sends `messages` messages, each until acknowledged. */
export async function converse(cluster: ParleyCluster, phones: readonly Phone[], messages: number, route: Route = anyMember(cluster)): Promise<Load> {
  const load = startLoad(cluster, phones, { route, messages });
  await load.done;
  return load;
}
