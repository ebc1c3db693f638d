// DOM builders for the inspector. Everything from the server goes in as textContent, never as
// HTML, so an odd actor id or error text cannot inject markup.

const KIND_LABELS = { bot: 'Bot', 'correspondent-queue': 'Queue', 'media-job': 'Media job', 'outbox-delivery': 'Outgoing message', 'conversation-reply': 'AI reply', 'webhook-delivery': 'Webhook delivery' };
const TOTAL_LABELS = { bot: 'bots', 'correspondent-queue': 'queues', 'media-job': 'media jobs', 'outbox-delivery': 'outgoing messages', 'conversation-reply': 'AI replies', 'webhook-delivery': 'webhook deliveries' };
const TIME_FIELDS = new Set(['retryAt', 'leaseUntil', 'notBefore', 'hostedUntil']);

// Colour by what an operator should feel: fine, working, waiting, at rest, or needs attention.
const STATUS = {
  connected: 'ok', delivered: 'ok', active: 'ok', completed: 'ok',
  starting: 'busy', connecting: 'busy', processing: 'busy', stopping: 'busy',
  pending: 'wait', holding: 'wait', reconnecting: 'wait', 'awaiting-qr': 'wait',
  stopped: 'idle', discarded: 'idle',
  failed: 'bad', 'logged-out': 'bad',
};

export function statusOf(state) {
  return STATUS[state.split('.')[0]] ?? 'idle';
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'className') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function relativeTime(at, now = Date.now()) {
  const s = Math.round((now - at) / 1000);
  const abs = Math.abs(s);
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.floor(abs / 60)}m` : abs < 86400 ? `${Math.floor(abs / 3600)}h` : `${Math.floor(abs / 86400)}d`;
  if (abs < 2) return 'just now';
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

function clock(at) {
  const d = new Date(at);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function badge(state) {
  return el('span', { className: `badge s-${statusOf(state)}`, 'data-state': state }, state);
}

/** The states an actor went through lately, repeats collapsed: pending → processing → delivered. */
function trail(actor) {
  const states = [];
  for (const t of actor.transitions) {
    if (t.from !== null && states.length === 0) states.push(t.from);
    if (states.at(-1) !== t.to) states.push(t.to);
  }
  const recent = states.slice(-5);
  if (recent.length < 2) return null;
  const parts = recent.flatMap((s, i) => (i === 0 ? [el('span', {}, s)] : [el('span', { className: 'arrow' }, '→'), el('span', {}, s)]));
  return el('div', { className: 'trail', 'data-trail': recent.join(' > ') }, states.length > 5 ? el('span', { className: 'arrow' }, '… ') : null, parts);
}

/** The two or three facts worth a glance on a card; `lease` is this instance's lease of a bot it hosts. */
function facts(actor, lease) {
  const c = actor.context;
  const out = [];
  if (actor.kind === 'bot') {
    if (lease !== undefined) out.push(`lease #${lease.epoch}`);
    if (c.attempt > 0) out.push(`reconnect attempt ${c.attempt}`);
    if (c.qrAvailable) out.push('QR waiting for scan');
    if (c.stopReason) out.push(`stopped: ${c.stopReason}`);
    if (c.lastError) out.push(`error: ${c.lastError}`);
    else if (c.lastDisconnect) out.push(`last disconnect: ${c.lastDisconnect}`);
    if (out.length === 0) out.push('no errors');
  } else if (actor.kind === 'correspondent-queue') {
    out.push(`${c.messages} msg${c.messages === 1 ? '' : 's'}`, `${c.characters ?? 0} chars`);
    if (c.placeholders > 0) out.push(`${c.placeholders} awaiting media`);
  } else if (actor.kind === 'conversation-reply') {
    out.push(`answered through #${c.answeredThrough ?? 0}`, `${c.sent ?? 0} sent`);
    if (c.replyId) out.push(`reply through #${c.throughSeq}, attempt ${c.attempt}`);
    if (c.pausedBy) out.push(`paused by ${c.pausedBy}`);
    if (c.lastError) out.push(`error: ${c.lastError}`);
  } else if (actor.kind === 'webhook-delivery') {
    out.push(String(c.eventType ?? 'event'), `attempt ${c.attempt}/${c.attemptBudget}`);
    if (c.lastStatus !== null && c.lastStatus !== undefined) out.push(`HTTP ${c.lastStatus}`);
    if (c.error) out.push(`error: ${c.error}`);
  } else if (actor.kind === 'outbox-delivery') {
    out.push(`${c.characters ?? 0} chars`, `attempt ${c.attempt}/${c.attemptBudget}`);
    if (!c.botConnected) out.push('bot disconnected');
    if (c.error) out.push(`error: ${c.error}`);
  } else {
    out.push(String(c.kind ?? 'media'), `attempt ${c.attempt}/${c.attemptBudget}`);
    if (c.owner) out.push(`worker ${c.owner}`);
    if (c.error) out.push(`error: ${c.error}`);
  }
  return out;
}

export function renderCard(actor, selected, lease) {
  const sub = actor.kind === 'bot' ? null : el('span', { className: 'card-sub' }, actor.kind === 'media-job' || actor.kind === 'outbox-delivery' ? `${actor.botId} · ${actor.context.correspondentId ?? ''}` : actor.kind === 'webhook-delivery' ? (actor.context.subscriptionId ?? '') : actor.botId);
  return el(
    'li',
    { className: `card${selected ? ' selected' : ''}`, tabindex: 0, 'data-actor-id': actor.id, 'data-kind': actor.kind, 'data-state': actor.state, 'aria-selected': selected ? 'true' : 'false' },
    el('div', { className: 'card-top' }, el('span', { className: 'card-id', title: actor.id }, displayId(actor)), badge(actor.state)),
    sub,
    trail(actor),
    el('div', { className: 'card-foot' }, el('span', { className: 'facts' }, facts(actor, lease).join(' · ')), el('time', { 'data-at': actor.updatedAt }, relativeTime(actor.updatedAt))),
  );
}

/** Queue ids repeat the bot id (`bot|correspondent`); the card shows the correspondent part. */
function displayId(actor) {
  if (actor.kind === 'correspondent-queue' || actor.kind === 'conversation-reply') return actor.context.correspondentId ?? actor.id;
  if (actor.kind === 'media-job' || actor.kind === 'outbox-delivery' || actor.kind === 'webhook-delivery') return actor.id.length > 13 ? `${actor.id.slice(0, 8)}…` : actor.id;
  return actor.id;
}

/** `attemptBudget` → `attempt budget`. */
function words(name) {
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function formatValue(name, value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (TIME_FIELDS.has(name) && typeof value === 'number') return `${new Date(value).toLocaleTimeString()} (${relativeTime(value)})`;
  return String(value);
}

export function renderDetail(container, actor, selectedId, lease) {
  if (actor === undefined) {
    container.replaceChildren(el('p', { className: 'placeholder' }, selectedId === null ? 'Select an actor to see its context and transitions.' : `Actor ${selectedId} is no longer in the directory.`));
    return;
  }
  // A bot this instance hosts shows its lease; `hostedUntil` keeps it apart from a job's own `leaseUntil`.
  const hosting = lease === undefined ? [] : [['leaseEpoch', lease.epoch], ['hostedUntil', lease.leaseUntil]];
  const rows = [['bot', actor.botId], ...hosting, ...Object.entries(actor.context)]
    .map(([name, value]) => el('div', { className: 'kv' }, el('dt', {}, words(name)), el('dd', { title: formatValue(name, value) }, formatValue(name, value))));
  container.replaceChildren(
    el('div', { className: 'detail-head' },
      el('span', { className: 'kind' }, KIND_LABELS[actor.kind] ?? actor.kind),
      el('h2', { className: 'detail-id', title: actor.id }, actor.id),
      badge(actor.state),
    ),
    el('dl', { className: 'context', id: 'selected-context' }, rows),
  );
  container.dataset.selected = actor.id;
}

export function renderLog(tbody, hint, actor) {
  if (actor === undefined) {
    tbody.replaceChildren();
    hint.textContent = '';
    return;
  }
  hint.textContent = `last ${actor.transitions.length} of ${actor.id}`;
  const rows = [...actor.transitions].reverse().map((t) =>
    el('tr', { className: t.from === t.to ? 'self' : null, 'data-event': t.event, 'data-from': t.from ?? '', 'data-to': t.to },
      el('td', { className: 'mono' }, clock(t.at)),
      // XState's init event means the directory first saw the actor, or a restore moved its state.
      el('td', { className: 'mono event', title: t.event }, t.event === 'xstate.init' ? (t.from === null ? 'created' : 'restored') : t.event),
      el('td', {}, t.from === null ? el('span', { className: 'muted' }, 'new') : badge(t.from)),
      el('td', { className: 'arrow' }, t.from === t.to ? '↺' : '→'),
      el('td', {}, badge(t.to)),
    ));
  tbody.replaceChildren(...rows);
}

export function renderTotals(container, groups) {
  const parts = groups.map(([kind, list]) => {
    const attention = list.filter((a) => statusOf(a.state) === 'bad').length;
    return el('span', { className: 'total' }, el('strong', {}, String(list.length)), ` ${TOTAL_LABELS[kind]}`,
      attention > 0 ? el('span', { className: 'attention' }, ` · ${attention} failed`) : null);
  });
  container.replaceChildren(...parts);
}

/** This instance's id and the live instances, in the top bar; hidden for a single instance run without a cluster. */
export function renderInstance(container, cluster) {
  container.hidden = cluster.instance === null;
  if (cluster.instance === null) return;
  const alive = cluster.instances === null ? '' : ` · ${cluster.instances.length} instance${cluster.instances.length === 1 ? '' : 's'} alive`;
  const title = (cluster.instances ?? []).map((i) => `${i.id}${i.self ? ' (this one)' : ''}: ${i.bots} bot${i.bots === 1 ? '' : 's'}`).join('\n');
  container.title = title;
  container.replaceChildren('instance ', el('strong', { 'data-instance': cluster.instance }, cluster.instance), ` · ${cluster.leases.length} lease${cluster.leases.length === 1 ? '' : 's'}${alive}`);
}
