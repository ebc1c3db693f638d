// The machine diagram pane: Mermaid (served by Parley itself, loaded on first use) draws each
// machine once; the selected actor's state is then highlighted by toggling classes on the SVG,
// so a state change never re-lays out the diagram.

let mermaidLoading = null;

function loadMermaid() {
  mermaidLoading ??= new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/inspect/assets/mermaid.min.js';
    script.onload = () => {
      window.mermaid.initialize({
        startOnLoad: false,
        securityLevel: 'strict',
        theme: 'base',
        fontFamily: 'ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
        themeVariables: {
          primaryColor: '#f4f6fa', primaryBorderColor: '#c5cddb', primaryTextColor: '#1c2433',
          lineColor: '#8a96ab', textColor: '#3b4557', fontSize: '13px', edgeLabelBackground: '#f7f9fc',
          noteBkgColor: '#fff8e6', noteBorderColor: '#e7cf8e', noteTextColor: '#5b4a1c',
        },
        state: { useMaxWidth: false },
      });
      resolve(window.mermaid);
    };
    script.onerror = () => reject(new Error('could not load mermaid'));
    document.head.append(script);
  });
  return mermaidLoading;
}

/**
 * The operator's views of a machine. Both drop effects and entry/exit lines and merge parallel
 * edges into one listing every event; `labels: false` also drops edge labels and the
 * "in every state" note, which leaves a diagram small enough to read inside a panel.
 */
export function compactDiagram(text, { labels }) {
  const out = [];
  const edges = new Map();
  let inNote = false;
  for (const line of text.split('\n')) {
    if (/^\s*note /.test(line)) inNote = true;
    if (inNote) {
      if (labels) out.push(line.replace(/ \/ .*$/, ''));
      if (/^\s*end note/.test(line)) inNote = false;
      continue;
    }
    if (/^\s*\S+ : (entry|exit) \//.test(line)) continue;
    const edge = /^(\s*)(\S+) --> (\S+)(?: : (.*))?$/.exec(line);
    if (edge === null) {
      out.push(line);
      continue;
    }
    const [, indent, from, to, label = ''] = edge;
    const event = label.replace(/ \/ .*$/, '');
    const key = `${indent}${from}>${to}`;
    const existing = edges.get(key);
    if (existing === undefined) {
      const entry = { indent, from, to, events: event === '' ? [] : [event] };
      edges.set(key, entry);
      out.push(entry);
    } else if (event !== '' && !existing.events.includes(event)) existing.events.push(event);
  }
  return out
    // Without labels a self-loop (a heartbeat, a counter) says nothing about where the actor can go.
    .filter((l) => labels || typeof l === 'string' || l.from !== l.to)
    .map((l) => (typeof l === 'string' ? l : `${l.indent}${l.from} --> ${l.to}${labels && l.events.length > 0 ? ` : ${l.events.join('<br/>')}` : ''}`))
    .join('\n');
}

/** Mermaid node id of a state path, as src/runtime/machine-diagrams.ts writes it. */
export function nodeIdOf(path) {
  return path.split('.').join('_').replace(/[^A-Za-z0-9_]/g, '_');
}

/** Node ids to light up: the state and, for a nested one, every composite around it. */
function nodeIdsFor(state) {
  const parts = state.split('.');
  return parts.map((_, i) => nodeIdOf(parts.slice(0, i + 1).join('.')));
}

// Mermaid names a state's group `state-<nodeId>-<n>` (possibly behind a diagram prefix).
function findNodes(svg, nodeId) {
  const pattern = new RegExp(`(^|-)state-${nodeId}-\\d+$`);
  return [...svg.querySelectorAll('g[id]')].filter((g) => pattern.test(g.id));
}

export function createDiagramPane(container, controls, diagramsUrl) {
  let diagrams = null;
  let shown = null;
  let lastKind = null;
  let mode = 'states';
  const highlight = new Map();
  const rendered = new Map();

  async function source(name) {
    if (diagrams === null) {
      const res = await fetch(diagramsUrl(), { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`diagrams: HTTP ${res.status}`);
      diagrams = (await res.json()).diagrams;
    }
    return diagrams[name];
  }

  function render(name, view) {
    const key = `${name}:${view}`;
    if (!rendered.has(key)) {
      const svg = (async () => {
        const [mermaid, text] = await Promise.all([loadMermaid(), source(name)]);
        if (text === undefined) throw new Error(`no diagram for ${name}`);
        return (await mermaid.render(`machine-${name}-${view}`, compactDiagram(text, { labels: view === 'events' }))).svg;
      })();
      rendered.set(key, svg);
      svg.catch(() => rendered.delete(key));
    }
    return rendered.get(key);
  }

  function applyHighlight() {
    const svg = container.querySelector('svg');
    if (svg === null) return;
    for (const g of svg.querySelectorAll('.current-state, .current-parent')) g.classList.remove('current-state', 'current-parent');
    const state = highlight.get(shown);
    container.dataset.current = state ?? '';
    if (state === undefined) return;
    const ids = nodeIdsFor(state);
    ids.forEach((id, i) => {
      for (const g of findNodes(svg, id)) g.classList.add(i === ids.length - 1 ? 'current-state' : 'current-parent');
    });
  }

  async function draw(name, view) {
    if (shown === name && container.dataset.view === view) {
      applyHighlight();
      return;
    }
    shown = name;
    mode = view;
    for (const b of controls.querySelectorAll('[data-machine]')) b.setAttribute('aria-selected', String(b.dataset.machine === name));
    for (const b of controls.querySelectorAll('[data-view]')) b.setAttribute('aria-selected', String(b.dataset.view === view));
    container.dataset.machine = name;
    container.dataset.view = view;
    container.dataset.current = '';
    try {
      const svg = await render(name, view);
      if (shown !== name || mode !== view) return;
      container.innerHTML = svg;
      applyHighlight();
    } catch (err) {
      if (shown !== name || mode !== view) return;
      const p = document.createElement('p');
      p.className = 'placeholder error';
      p.textContent = `Diagram unavailable: ${err.message}`;
      container.replaceChildren(p);
    }
  }

  controls.addEventListener('click', (e) => {
    const button = e.target.closest('[data-machine], [data-view]');
    if (button === null) return;
    void draw(button.dataset.machine ?? shown, button.dataset.view ?? mode);
  });

  void draw('bot', mode);

  return {
    /** Highlights `state` on `kind`'s diagram; switches machines only when the selection moved to another one. */
    show(kind, state) {
      highlight.clear();
      highlight.set(kind, state);
      if (kind !== lastKind) {
        lastKind = kind;
        void draw(kind, mode);
      } else if (shown === kind) applyHighlight();
    },
  };
}
