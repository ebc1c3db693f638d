// Hands Parley's inspection events from the bridge's WebSocket to Stately's inspector in the frame.
// The key is sent once, in the WebSocket handshake, and kept nowhere: not in the URL, not in storage.
const frame = document.getElementById('inspector');
const inspectorOrigin = new URL(frame.dataset.inspectorUrl).origin;
const form = document.getElementById('connect');
const status = document.getElementById('status');
const count = document.getElementById('count');
// Events that arrive before the inspector in the frame says it is listening; the oldest go first.
const waiting = [];
let inspectorReady = false;
let socket = null;

function setStatus(state, text) {
  status.dataset.status = state;
  status.textContent = text;
}

// The target origin is pinned: should the frame be navigated elsewhere, nothing is handed to it.
const post = (event) => frame.contentWindow.postMessage(event, inspectorOrigin);

window.addEventListener('message', (e) => {
  if (e.origin !== inspectorOrigin || e.source !== frame.contentWindow) return;
  if (e.data?.type !== '@statelyai.connected') return;
  inspectorReady = true;
  waiting.splice(0).forEach(post);
});

/** A browser cannot set headers on a WebSocket; a subprotocol can carry the key (base64url, a valid token). */
function keyProtocol(key) {
  let binary = '';
  for (const byte of new TextEncoder().encode(key)) binary += String.fromCharCode(byte);
  const base64 = btoa(binary).replaceAll('+', '-').replaceAll('/', '_');
  let end = base64.length;
  while (end > 0 && base64[end - 1] === '=') end -= 1;
  return `parley-key.${base64.slice(0, end)}`;
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const input = form.elements.namedItem('key');
  const key = input.value;
  input.value = '';
  socket?.close();
  setStatus('connecting', 'Connecting…');
  const ws = new WebSocket(`ws://${location.host}/`, ['parley-inspect', keyProtocol(key)]);
  socket = ws;
  ws.addEventListener('open', () => {
    form.hidden = true;
    setStatus('live', 'Connected: events flow to the inspector below');
  });
  ws.addEventListener('message', (m) => {
    const event = JSON.parse(m.data);
    const received = Number(count.dataset.count) + 1;
    count.dataset.count = String(received);
    count.textContent = `${received} events`;
    if (inspectorReady) post(event);
    else {
      waiting.push(event);
      if (waiting.length > 2000) waiting.shift();
    }
  });
  ws.addEventListener('close', () => {
    if (socket !== ws) return;
    form.hidden = false;
    setStatus('down', 'Not connected (a wrong key, or Parley stopped): enter the key again');
  });
});
