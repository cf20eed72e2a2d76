import { drawRateChart } from './rate-chart.js';
import { readEvents } from './sse-reader.js';

// The token lives in sessionStorage: it survives reloads of this tab but not the browser session.
const TOKEN_KEY = 'ordo.token';
const NAMESPACE_KEY = 'ordo.namespace';

const $ = (id) => document.getElementById(id);
const state = {
  namespace: sessionStorage.getItem(NAMESPACE_KEY) || 'default',
  selected: null,
  selectedVersion: 0,
  streamsAfter: null,
  live: null,
  timers: [],
  rebuildPolls: new Map(),
};

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

function headers() {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

function nsPath(path) {
  return `/api/v1/ns/${encodeURIComponent(state.namespace)}${path}`;
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...headers(), ...(init.headers || {}) } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`);
    error.status = res.status;
    throw error;
  }
  return body;
}

function showMessage(text) {
  const el = $('message');
  el.textContent = text || '';
  el.hidden = !text;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node[k] = v;
  }
  for (const c of children) node.append(c);
  return node;
}

const pretty = (value) => JSON.stringify(value, null, 2);

// ---- streams browser -------------------------------------------------------------------------

async function loadStreams(append = false) {
  const params = new URLSearchParams({ limit: '50' });
  const search = $('stream-search').value.trim();
  if (search) params.set('search', search);
  if (append && state.streamsAfter) params.set('after', state.streamsAfter);
  const page = await api(nsPath(`/streams?${params}`));
  const list = $('streams');
  if (!append) list.replaceChildren();
  for (const s of page.streams) {
    const item = el(
      'li',
      {
        dataset: { streamId: s.streamId },
        title: `last: ${s.lastType} at ${s.lastTimestamp}`,
        onclick: () => selectStream(s.streamId),
      },
      el('span', { className: 'id', textContent: s.streamId }),
      el('span', { className: 'version', textContent: `v${s.version}` }),
    );
    if (s.streamId === state.selected) item.classList.add('selected');
    list.append(item);
  }
  state.streamsAfter = page.nextAfter;
  $('streams-more').hidden = !page.nextAfter;
}

// Throttled, not debounced: under a steady stream of events the list still refreshes every 250 ms.
let streamsTimer;
function refreshStreamsSoon() {
  if (streamsTimer) return;
  streamsTimer = setTimeout(() => {
    streamsTimer = undefined;
    loadStreams().catch((e) => showMessage(e.message));
  }, 250);
}

// ---- event viewer ----------------------------------------------------------------------------

function renderEvent(e) {
  return el(
    'li',
    { dataset: { version: String(e.version), type: e.type } },
    el(
      'div',
      { className: 'event-head' },
      el('span', { textContent: `#${e.version} ${e.type}` }),
      el('span', { className: 'meta', textContent: `position ${e.position} · ${e.timestamp} · id ${e.id}` }),
    ),
    el('pre', { className: 'data', textContent: pretty(e.data) }),
    el('pre', {
      className: 'metadata',
      textContent: `metadata ${pretty(e.metadata)}${e.tags.length ? `\ntags ${e.tags.join(', ')}` : ''}`,
    }),
  );
}

async function selectStream(streamId) {
  state.selected = streamId;
  $('selected-stream').textContent = streamId;
  for (const li of $('streams').children) li.classList.toggle('selected', li.dataset.streamId === streamId);
  const body = await api(nsPath(`/stream?id=${encodeURIComponent(streamId)}&limit=500`));
  $('events').replaceChildren(...body.events.map(renderEvent));
  for (const m of body.malformed) {
    $('events').append(
      el('li', {
        className: 'state-failed',
        textContent: `undecodable record v${m.version} at ${m.position}: ${m.error}`,
      }),
    );
  }
  state.selectedVersion = body.events.length ? body.events[body.events.length - 1].version : 0;
}

// ---- live feed -------------------------------------------------------------------------------

async function startLive() {
  state.live?.close();
  const { position } = await api(nsPath('/head'));
  state.live = readEvents(
    () => ({ url: nsPath(`/subscribe?after=${encodeURIComponent(position)}`), headers: headers() }),
    (message) => {
      if (message.event !== 'event') return;
      const e = JSON.parse(message.data);
      const feed = $('live');
      feed.prepend(
        el('li', {
          dataset: { streamId: e.streamId },
          textContent: `${e.position} ${e.streamId} #${e.version} ${e.type}`,
        }),
      );
      while (feed.children.length > 50) feed.lastChild.remove();
      refreshStreamsSoon();
      if (e.streamId === state.selected && e.version === state.selectedVersion + 1) {
        $('events').append(renderEvent(e));
        state.selectedVersion = e.version;
      }
    },
    (s, detail) => {
      $('connection').textContent = s === 'open' ? 'live' : 'offline';
      $('connection').classList.toggle('offline', s !== 'open');
      if (s === 'error' && detail) showMessage(detail);
    },
  );
}

// ---- charts ----------------------------------------------------------------------------------

async function refreshCharts() {
  const { series } = await api(nsPath('/stats'));
  const appends = series.map((s) => s.appends);
  const conflicts = series.map((s) => s.conflicts);
  drawRateChart($('append-chart'), appends, '#2563eb');
  drawRateChart($('conflict-chart'), conflicts, '#dc2626');
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const retries = sum(series.map((s) => s.retries));
  $('rate-summary').textContent =
    `last 60 s: ${sum(appends)} appends, ${sum(conflicts)} conflicts, ${retries} retries`;
}

// ---- projections -----------------------------------------------------------------------------

function rebuildCell(p) {
  const cell = el('td');
  const r = p.rebuild;
  if (r && r.state === 'running') {
    cell.append(
      el('progress', { max: r.total || 1, value: r.processed }),
      ` ${r.processed}/${r.total ?? '?'}`,
    );
  } else {
    cell.append(
      el('button', {
        textContent: 'Rebuild',
        dataset: { rebuild: p.name },
        onclick: () => startRebuild(p.name).catch((e) => showMessage(e.message)),
      }),
    );
    if (r)
      cell.append(
        el('span', {
          className: `rebuild-result state-${r.state}`,
          dataset: { rebuildState: r.state },
          textContent: ` ${r.state}`,
        }),
      );
  }
  return cell;
}

async function loadProjections() {
  const body = await api(nsPath('/projections'));
  const rows = body.projections.map((p) =>
    el(
      'tr',
      { dataset: { projection: p.name } },
      el('td', { textContent: p.name }),
      el('td', { className: `state state-${p.state}`, textContent: p.state }),
      el('td', { textContent: p.position ?? '–' }),
      el('td', { textContent: `${p.lagEvents} ev / ${p.lagMs} ms` }),
      el('td', {
        className: p.errors ? 'state-failed' : '',
        textContent: String(p.errors),
        title: p.lastError ? pretty(p.lastError) : '',
      }),
      rebuildCell(p),
    ),
  );
  if (!body.available)
    rows.push(el('tr', {}, el('td', { colSpan: 6, textContent: 'no projections in this namespace' })));
  $('projections').replaceChildren(...rows);
}

async function startRebuild(name) {
  await api(nsPath(`/projections/${encodeURIComponent(name)}/rebuild`), { method: 'POST' });
  await loadProjections();
  const poll = async () => {
    const r = await api(nsPath(`/projections/${encodeURIComponent(name)}/rebuild`));
    await loadProjections();
    if (r.state === 'running') setTimeout(() => poll().catch((e) => showMessage(e.message)), 300);
    else if (r.state === 'failed') showMessage(`rebuild of ${name} failed: ${r.error?.message}`);
  };
  await poll();
}

// ---- wiring ----------------------------------------------------------------------------------

async function connect() {
  showMessage('');
  for (const t of state.timers) clearInterval(t);
  state.timers = [];
  state.selected = null;
  $('events').replaceChildren();
  $('live').replaceChildren();
  $('selected-stream').textContent = '';
  try {
    await loadStreams();
    await startLive();
    await Promise.all([refreshCharts(), loadProjections()]);
    const guard = (fn) => () => fn().catch((e) => showMessage(e.message));
    state.timers.push(setInterval(guard(refreshCharts), 1000), setInterval(guard(loadProjections), 2000));
  } catch (error) {
    showMessage(error.message);
    $('connection').textContent = 'offline';
    $('connection').classList.add('offline');
  }
}

$('namespace').value = state.namespace;
$('token').value = token();
$('settings').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  state.namespace = $('namespace').value.trim() || 'default';
  sessionStorage.setItem(NAMESPACE_KEY, state.namespace);
  connect();
});
$('stream-search').addEventListener('input', refreshStreamsSoon);
$('streams-more').addEventListener('click', () => loadStreams(true).catch((e) => showMessage(e.message)));
connect();
