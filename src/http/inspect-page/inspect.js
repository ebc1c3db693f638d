// Live actor inspector: keeps a copy of the server's actor directory, fed by Server-Sent Events,
// and redraws the cards, the selected actor's details and its machine diagram from it.
import { relativeTime, renderCard, renderDetail, renderInstance, renderLog, renderTotals } from './render.js';
import { createDiagramPane } from './diagram.js';

const KINDS = ['bot', 'correspondent-queue', 'media-job', 'outbox-delivery', 'conversation-reply', 'webhook-delivery'];
// Long lists of short-lived media jobs would bury the rest; the newest ones are what matters.
const MAX_CARDS_PER_KIND = 60;
// Leases are renewed every few seconds; the page follows them at about that pace.
const CLUSTER_POLL_MS = 5000;

// The page, its requests and its event stream are authenticated by the session cookie the server
// set when it took the key out of the URL: nothing here ever holds the key.
const actors = new Map();
let selectedId = null;
// This instance's leases by bot id, from /inspect/cluster.
let leases = new Map();
let filterText = '';
let dirty = new Set(KINDS);
let frame = 0;

const $ = (selector) => document.querySelector(selector);
const diagram = createDiagramPane($('#diagram'), $('#diagram-controls'), () => '/inspect/diagrams');

function markDirty(kind) {
  dirty.add(kind);
  frame ||= requestAnimationFrame(draw);
}

function matches(actor) {
  if (filterText === '') return true;
  return [actor.id, actor.botId, actor.state, actor.kind].some((v) => v.toLowerCase().includes(filterText));
}

function draw() {
  frame = 0;
  for (const kind of dirty) drawKind(kind);
  dirty = new Set();
  renderTotals($('#totals'), KINDS.map((kind) => [kind, [...actors.values()].filter((a) => a.kind === kind)]));
  drawSelected();
}

function drawKind(kind) {
  const list = [...actors.values()].filter((a) => a.kind === kind).sort((a, b) => b.updatedAt - a.updatedAt);
  const shown = list.filter(matches);
  const cards = shown.slice(0, MAX_CARDS_PER_KIND).map((actor) => renderCard(actor, actor.id === selectedId, leaseOf(actor)));
  if (shown.length > MAX_CARDS_PER_KIND) {
    const more = document.createElement('li');
    more.className = 'more';
    more.textContent = `+ ${shown.length - MAX_CARDS_PER_KIND} more (filter to find them)`;
    cards.push(more);
  }
  document.querySelector(`[data-cards="${kind}"]`).replaceChildren(...cards);
  document.querySelector(`[data-count="${kind}"]`).textContent = String(list.length);
  document.querySelector(`[data-empty="${kind}"]`).hidden = list.length > 0;
}

function drawSelected() {
  const actor = selectedId === null ? undefined : actors.get(selectedId);
  renderDetail($('#selected'), actor, selectedId, actor === undefined ? undefined : leaseOf(actor));
  renderLog($('#log'), $('#log-hint'), actor);
  if (actor !== undefined) diagram.show(actor.kind, actor.state);
}

function leaseOf(actor) {
  return actor.kind === 'bot' ? leases.get(actor.id) : undefined;
}

async function pollCluster() {
  try {
    const res = await fetch('/inspect/cluster', { cache: 'no-store' });
    if (!res.ok) return;
    const cluster = await res.json();
    leases = new Map(cluster.leases.map((lease) => [lease.botId, lease]));
    renderInstance($('#instance'), cluster);
    markDirty('bot');
  } catch {
    // The event stream reports a lost connection; the next poll tries again.
  }
}

function select(id) {
  const previous = selectedId === null ? undefined : actors.get(selectedId);
  selectedId = id;
  if (previous !== undefined) markDirty(previous.kind);
  const actor = actors.get(id);
  if (actor !== undefined) markDirty(actor.kind);
}

function upsert(actor) {
  const before = actors.get(actor.id);
  actors.set(actor.id, actor);
  if (before !== undefined && before.kind !== actor.kind) markDirty(before.kind);
  markDirty(actor.kind);
  // The first bot to appear is a sensible default; an operator's choice is never overridden.
  if (selectedId === null && actor.kind === 'bot') select(actor.id);
}

function setConnection(state, text) {
  const el = $('#conn');
  el.dataset.conn = state;
  el.querySelector('.conn-text').textContent = text;
}

function connect() {
  const source = new EventSource('/inspect/stream');
  source.addEventListener('open', () => setConnection('live', 'Live'));
  source.addEventListener('snapshot', (e) => {
    const { actors: list } = JSON.parse(e.data);
    actors.clear();
    for (const actor of list) actors.set(actor.id, actor);
    if (selectedId === null) selectedId = list.find((a) => a.kind === 'bot')?.id ?? null;
    KINDS.forEach(markDirty);
    setConnection('live', 'Live');
  });
  source.addEventListener('actor', (e) => upsert(JSON.parse(e.data)));
  source.addEventListener('removed', (e) => {
    const { id } = JSON.parse(e.data);
    const actor = actors.get(id);
    actors.delete(id);
    if (actor !== undefined) markDirty(actor.kind);
  });
  // EventSource reconnects by itself (the server sets `retry`); a closed source means the session
  // was refused (it expired, or the server restarted and forgot it).
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) setConnection('down', 'Disconnected — open /inspect?key=<key> again');
    else setConnection('connecting', 'Reconnecting…');
  });
}

$('#filter').addEventListener('input', (e) => {
  filterText = e.target.value.trim().toLowerCase();
  KINDS.forEach(markDirty);
});

document.addEventListener('click', (e) => {
  const card = e.target.closest('[data-actor-id]');
  if (card !== null) select(card.dataset.actorId);
});
document.addEventListener('keydown', (e) => {
  const card = e.target.closest?.('[data-actor-id]');
  if (card !== null && card !== undefined && (e.key === 'Enter' || e.key === ' ')) {
    e.preventDefault();
    select(card.dataset.actorId);
  }
});

// Relative times ("4s ago") age without new events; refresh them in place once a second.
setInterval(() => {
  for (const el of document.querySelectorAll('time[data-at]')) el.textContent = relativeTime(Number(el.dataset.at));
}, 1000);

connect();
pollCluster();
setInterval(pollCluster, CLUSTER_POLL_MS);
