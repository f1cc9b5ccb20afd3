// kconnect web console: a small hash-routed single page app on the worker's REST API.
// No framework and no build step: the file is served to the browser exactly as written.

// ---------------------------------------------------------------------------------------------
// REST helper
// ---------------------------------------------------------------------------------------------

/** An answer outside 2xx; `message` is Kafka's `message` field when the body has one. */
class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The one way this app talks to the worker: JSON in, JSON (or text, for /metrics) out. */
async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!res.ok) {
    const message = data && typeof data === 'object' && data.message
      ? data.message
      : `${method} ${path} answered ${res.status}`;
    throw new ApiError(res.status, message, data);
  }
  return data;
}

/** Resolves to null when the endpoint is missing (404), for features a worker may not have. */
async function optional(promise) {
  try { return await promise; } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

const enc = encodeURIComponent;
const connPath = (name, rest = '') => `/connectors/${enc(name)}${rest}`;

// ---------------------------------------------------------------------------------------------
// DOM helpers
// ---------------------------------------------------------------------------------------------

const BOOL_PROPS = new Set(['disabled', 'checked', 'hidden', 'open', 'readOnly', 'multiple']);

/** Builds an element: h('button', {class: 'btn', onclick}, 'Text', child, [more]). */
function h(tag, props, ...children) {
  const el = tag === 'svg' || tag === 'polyline' || tag === 'path'
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'value') el.value = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (BOOL_PROPS.has(k)) el[k] = true;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  appendAll(el, children);
  return el;
}

/** replaceChildren that skips null and false, so that optional parts can be written inline. */
function fill(el, ...children) {
  el.replaceChildren();
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const badge = (text, cls = text) => h('span', { class: `badge ${cls}` }, text);
const pretty = (v) => JSON.stringify(v, null, 2);
const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString() : '—');
const shortClass = (cls = '') => cls.split(/[.$]/).filter(Boolean).slice(-1)[0] || cls;

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

function panel(title, ...children) {
  const id = nextId('panel');
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('div', { class: 'panel-head' }, h('h2', { id }, title)), children);
}

function facts(pairs) {
  return h('dl', { class: 'facts' },
    pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? '—')]));
}

function alertRegion() {
  return h('div', { class: 'alert', role: 'alert' });
}

function showError(region, err) {
  fill(region, h('div', { class: 'banner error' }, err.message || String(err)));
}

/** Toasts go into a live region that is always rendered (announced), without fading (contrast). */
function showToast(message) {
  const region = document.getElementById('toast');
  fill(region, h('div', { class: 'toast-msg' }, message));
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => fill(region), 2500);
}

/** A real <dialog> (not window.confirm) so that keyboard users and browser tests can answer it. */
function confirmDialog({ title, message, ok = 'Delete' }) {
  const dlg = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-message').textContent = message;
  document.getElementById('confirm-ok').textContent = ok;
  dlg.returnValue = '';
  dlg.showModal();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Page lifecycle and routing
// ---------------------------------------------------------------------------------------------

/** Timers of the current page; cleared on navigation so that old pages stop polling. */
let pageTimers = [];
let pageGen = 0;

function every(ms, fn) {
  const gen = pageGen;
  let busy = false;
  const id = setInterval(async () => {
    // Skip a tick while the previous one is still waiting on the worker.
    if (busy || gen !== pageGen) return;
    busy = true;
    try { await fn(); } catch (e) { console.warn(e); } finally { busy = false; }
  }, ms);
  pageTimers.push(id);
}

/** Marks the page as rendered, for tests; readyAt is ms since navigation start. */
const ready = (name) => {
  document.body.dataset.readyAt = String(Math.round(performance.now()));
  document.body.dataset.ready = name;
};

const ROUTES = [
  [/^\/$/, 'overview', () => overviewPage()],
  [/^\/connectors$/, 'connectors', () => connectorsPage()],
  [/^\/new$/, 'new', () => formPage(null)],
  [/^\/connectors\/([^/]+)\/edit$/, 'connectors', (m) => formPage(decodeURIComponent(m[1]))],
  [/^\/connectors\/([^/]+)\/history$/, 'connectors', (m) => historyPage(decodeURIComponent(m[1]))],
  [/^\/connectors\/([^/]+)$/, 'connectors', (m) => connectorPage(decodeURIComponent(m[1]))],
  [/^\/preview$/, 'preview', () => previewPage()],
  [/^\/loggers$/, 'loggers', () => loggersPage()],
];

async function route() {
  pageTimers.forEach(clearInterval);
  pageTimers = [];
  pageGen++;
  delete document.body.dataset.ready;
  const path = (location.hash.slice(1) || '/').split('?')[0];
  const main = document.getElementById('main');
  const found = ROUTES.map(([re, nav, fn]) => [path.match(re), nav, fn]).find(([m]) => m);
  document.querySelectorAll('[data-nav]').forEach((a) => {
    if (found && a.dataset.nav === found[1]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  if (!found) {
    fill(main, h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the overview')));
    ready('not-found');
    return;
  }
  const gen = pageGen;
  try {
    const content = await found[2](found[0]);
    if (gen !== pageGen) return; // the user navigated away while this page was loading
    fill(main, content.node);
    content.after?.();
    ready(content.ready);
  } catch (e) {
    if (gen !== pageGen) return;
    fill(main, h('h1', null, 'Something went wrong'), h('div', { class: 'banner error', role: 'alert' }, e.message));
    ready('error');
  }
}

/** Each page resolves to {node, ready, after?}; `after` runs once the node is in the document. */
const pageResult = (node, readyName, after) => ({ node, ready: readyName, after });

function pageHead(title, subtitle, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', null, h('h1', null, title), subtitle ? h('p', null, subtitle) : null),
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

// ---------------------------------------------------------------------------------------------
// Shared connector actions
// ---------------------------------------------------------------------------------------------

const RESTARTS = [
  ['Restart connector', 'includeTasks=false&onlyFailed=false'],
  ['Restart with all tasks', 'includeTasks=true&onlyFailed=false'],
  ['Restart failed tasks only', 'includeTasks=true&onlyFailed=true'],
];

async function runAction(what, fn, after) {
  try {
    await fn();
    showToast(what);
  } catch (e) {
    showToast(`Failed: ${e.message}`);
    const region = document.querySelector('main [role="alert"]');
    if (region) showError(region, e);
  }
  await after?.();
}

async function deleteConnector(name, after) {
  const ok = await confirmDialog({
    title: `Delete ${name}?`,
    message: `The connector "${name}" and its tasks will be stopped and removed. Its offsets stay in the offsets store.`,
  });
  if (ok) await runAction(`Deleted ${name}`, () => api('DELETE', connPath(name)), after);
}

/** Pause / Resume / Stop / Restart menu / Delete for one connector; `refresh` runs after each. */
function connectorActions(name, state, refresh, { onDeleted } = {}) {
  const act = (label, verb, method, path, disabled) => h('button', {
    class: 'btn small', type: 'button', 'aria-label': `${label} ${name}`, disabled,
    dataset: { focusKey: `${verb}:${name}` },
    onclick: () => runAction(`${label}: ${name}`, () => api(method, path), refresh),
  }, label);
  // The restart menu's items are built when it first opens: 100 rows stay cheap to render.
  const restartItems = () => RESTARTS.map(([label, query]) => h('button', {
    class: 'btn small', type: 'button', 'aria-label': `${label} ${name}`,
    onclick: (ev) => {
      ev.target.closest('details').open = false;
      runAction(`${label}: ${name}`, () => api('POST', connPath(name, `/restart?${query}`)), refresh);
    },
  }, label));
  return h('div', { class: 'actions' },
    act('Pause', 'pause', 'PUT', connPath(name, '/pause'), state === 'PAUSED'),
    act('Resume', 'resume', 'PUT', connPath(name, '/resume'), state === 'RUNNING'),
    act('Stop', 'stop', 'PUT', connPath(name, '/stop'), state === 'STOPPED'),
    h('details', {
      class: 'menu', dataset: { menu: name },
      ontoggle: (e) => {
        const items = e.target.querySelector('.menu-items');
        if (e.target.open && !items.firstChild) appendAll(items, restartItems());
      },
    }, h('summary', { class: 'btn small', 'aria-label': `Restart options for ${name}` }, 'Restart'),
    h('div', { class: 'menu-items' })),
    h('button', {
      class: 'btn small danger', type: 'button', 'aria-label': `Delete ${name}`,
      dataset: { focusKey: `delete:${name}` },
      onclick: () => deleteConnector(name, onDeleted || refresh),
    }, 'Delete'));
}

function taskCounts(tasks = []) {
  const counts = {};
  for (const t of tasks) counts[t.state] = (counts[t.state] || 0) + 1;
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Worker identity (top bar)
// ---------------------------------------------------------------------------------------------

async function loadWorkerName() {
  const el = document.getElementById('worker-name');
  try {
    const [info, cluster] = await Promise.all([api('GET', '/'), optional(api('GET', '/kconnect/cluster'))]);
    const where = cluster?.worker_url ? new URL(cluster.worker_url).host : location.host;
    el.textContent = `${where} · v${info.version}${cluster ? ` · ${cluster.mode}` : ''}`;
  } catch {
    el.textContent = location.host;
  }
}

// ---------------------------------------------------------------------------------------------
// Overview (#/)
// ---------------------------------------------------------------------------------------------

async function overviewPage() {
  const plugins = await api('GET', '/connector-plugins?connectorsOnly=false');
  const body = h('div');
  const draw = async () => {
    const [info, cluster, conns] = await Promise.all([
      api('GET', '/'),
      optional(api('GET', '/kconnect/cluster')),
      api('GET', '/connectors?expand=status'),
    ]);
    fill(body, ...overviewSections(info, cluster, conns, plugins));
  };
  await draw();
  every(3000, draw);
  return pageResult(h('div', null, pageHead('Cluster overview', 'This worker, its group and its plugins'), body), 'overview');
}

function overviewSections(info, cluster, conns, plugins) {
  const statuses = Object.values(conns).map((c) => c.status);
  const connStates = {};
  for (const s of statuses) connStates[s.connector.state] = (connStates[s.connector.state] || 0) + 1;
  const tasks = taskCounts(statuses.flatMap((s) => s.tasks));
  const group = cluster?.group;
  return [
    group?.rebalancing
      ? h('div', { class: 'banner warn', role: 'status' }, 'A rebalance is in progress: assignments may change shortly.')
      : null,
    h('div', { class: 'grid' },
      panel('Worker', facts([
        ['Version', info.version],
        ['Commit', info.commit],
        ['Kafka cluster', info.kafka_cluster_id],
        cluster && ['Mode', cluster.mode],
        cluster && ['Worker URL', cluster.worker_url],
      ]), cluster ? null : h('p', { class: 'muted small' }, 'Cluster details (/kconnect/cluster) are not available on this worker.')),
      panel('Connectors', countBoxes(connStates, statuses.length, 'connectors'), h('h3', null, 'Tasks'),
        countBoxes(tasks, statuses.reduce((n, s) => n + s.tasks.length, 0), 'tasks'),
        h('p', { class: 'small' }, h('a', { href: '#/connectors' }, 'Open the connector list'))),
      group ? groupPanel(group) : null),
    // Load failures first when there are any: they explain a missing plugin below.
    cluster?.plugin_failures?.length ? failuresPanel(cluster.plugin_failures) : null,
    pluginsPanel(plugins),
    cluster && !cluster.plugin_failures?.length ? failuresPanel([]) : null,
  ];
}

function countBoxes(counts, total, noun) {
  const order = ['RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'UNASSIGNED', 'RESTARTING'];
  const states = [...order.filter((s) => counts[s]), ...Object.keys(counts).filter((s) => !order.includes(s))];
  return h('div', { class: 'counts' },
    h('div', { class: 'count' }, h('b', null, total), h('span', null, `${noun}`)),
    states.map((s) => h('div', { class: 'count', dataset: { state: s } }, h('b', null, counts[s]), badge(s))));
}

function groupPanel(group) {
  return panel('Group',
    facts([
      ['Group id', group.group_id],
      ['Generation', group.generation],
      ['Protocol', group.protocol],
      ['Leader', group.leader_id ? `${group.leader_id}${group.leader_url ? ` (${group.leader_url})` : ''}` : 'none'],
    ]),
    h('h3', null, `Members (${group.members.length})`),
    h('table', null,
      h('thead', null, h('tr', null, h('th', null, 'Member'), h('th', null, 'URL'), h('th', null, 'Role'))),
      h('tbody', null, group.members.map((m) => h('tr', null,
        h('td', { class: 'mono' }, m.member_id), h('td', null, m.url),
        h('td', null, m.leader ? badge('leader', 'RUNNING') : null, ' ', m.self ? badge('this worker', 'UNASSIGNED') : null))))));
}

const PLUGIN_TYPES = [
  ['source', 'Source connectors'], ['sink', 'Sink connectors'], ['converter', 'Converters'],
  ['header_converter', 'Header converters'], ['transformation', 'Transformations'], ['predicate', 'Predicates'],
];

function pluginsPanel(plugins) {
  const types = [...PLUGIN_TYPES, ...[...new Set(plugins.map((p) => p.type))]
    .filter((t) => !PLUGIN_TYPES.some(([k]) => k === t)).map((t) => [t, t])];
  return panel(`Plugins (${plugins.length})`, h('div', { class: 'plugin-groups' }, types.map(([type, title]) => {
    const list = plugins.filter((p) => p.type === type).sort((a, b) => a.class.localeCompare(b.class));
    if (!list.length) return null;
    return h('div', { class: 'plugin-group' }, h('h3', null, `${title} (${list.length})`),
      h('ul', { class: 'plugin-list' }, list.map((p) => h('li', { dataset: { plugin: p.class } },
        h('span', { class: 'mono' }, p.class), ' ', h('span', { class: 'muted small' }, p.version)))));
  })));
}

function failuresPanel(failures) {
  if (!failures.length) return panel('Plugin load failures', h('p', { class: 'empty' }, 'None: every plugin file loaded.'));
  return panel(`Plugin load failures (${failures.length})`, h('table', null,
    h('thead', null, h('tr', null, h('th', null, 'Path'), h('th', null, 'Reason'))),
    h('tbody', null, failures.map((f) => h('tr', null, h('td', { class: 'mono' }, f.path), h('td', null, f.reason))))));
}

// ---------------------------------------------------------------------------------------------
// Connector list (#/connectors)
// ---------------------------------------------------------------------------------------------

/** Kept across visits so that coming back to the list keeps the filter. */
const listPrefs = { text: '', state: '' };

async function connectorsPage() {
  let data = await api('GET', '/connectors?expand=status&expand=info');
  let drawn = '';
  const tbody = h('tbody');
  const shown = h('span', { class: 'muted', 'aria-live': 'polite' });
  const alert = alertRegion();

  const draw = (force) => {
    const rows = filterConnectors(data);
    const key = JSON.stringify([rows.map((r) => r[0]), data]);
    if (!force && key === drawn) return; // nothing changed: keep focus and open menus untouched
    drawn = key;
    const focusKey = document.activeElement?.dataset?.focusKey;
    const openMenu = tbody.querySelector('details[open]')?.dataset.menu;
    fill(tbody, ...rows.map(([name, entry]) => connectorRow(name, entry, refresh)));
    if (!rows.length) tbody.append(h('tr', null, h('td', { colspan: 6, class: 'empty' }, 'No connectors match.')));
    shown.textContent = `${rows.length} of ${Object.keys(data).length} connectors`;
    if (focusKey) tbody.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
    if (openMenu) { const m = tbody.querySelector(`details[data-menu="${CSS.escape(openMenu)}"]`); if (m) m.open = true; }
  };
  const refresh = async () => {
    data = await api('GET', '/connectors?expand=status&expand=info');
    draw();
  };

  const filter = h('input', {
    type: 'search', id: 'filter', value: listPrefs.text, placeholder: 'Name or class',
    oninput: (e) => { listPrefs.text = e.target.value; draw(); },
  });
  const states = ['', 'RUNNING', 'PAUSED', 'STOPPED', 'FAILED', 'UNASSIGNED', 'FAILED_TASKS'];
  const stateSelect = h('select', {
    id: 'state-filter', onchange: (e) => { listPrefs.state = e.target.value; draw(); },
  }, states.map((s) => h('option', { value: s, selected: s === listPrefs.state },
    s === '' ? 'All states' : s === 'FAILED_TASKS' ? 'With failed tasks' : s)));

  const node = h('div', null,
    pageHead('Connectors', null, h('a', { class: 'btn primary', href: '#/new' }, 'New connector')),
    alert,
    h('div', { class: 'toolbar' },
      h('label', { for: 'filter' }, 'Filter'), filter,
      h('label', { for: 'state-filter' }, 'State'), stateSelect,
      h('span', { class: 'grow' }), shown),
    h('div', { class: 'panel table-wrap' }, h('table', { class: 'conn-table' },
      h('thead', null, h('tr', null,
        h('th', null, 'Connector'), h('th', null, 'Type'), h('th', null, 'State'),
        h('th', { class: 'num' }, 'Tasks running'), h('th', null, 'Worker'), h('th', null, 'Actions'))),
      tbody)));
  draw(true);
  every(2000, refresh);
  return pageResult(node, 'connectors');
}

function filterConnectors(data) {
  const text = listPrefs.text.trim().toLowerCase();
  return Object.entries(data)
    .filter(([name, e]) => !text || name.toLowerCase().includes(text)
      || (e.info?.config?.['connector.class'] || '').toLowerCase().includes(text))
    .filter(([, e]) => {
      if (!listPrefs.state) return true;
      if (listPrefs.state === 'FAILED_TASKS') return e.status?.tasks.some((t) => t.state === 'FAILED');
      return e.status?.connector.state === listPrefs.state;
    })
    .sort(([a], [b]) => a.localeCompare(b));
}

function connectorRow(name, entry, refresh) {
  const status = entry.status || { connector: { state: 'UNASSIGNED' }, tasks: [] };
  const state = status.connector.state;
  const tasks = status.tasks || [];
  const counts = taskCounts(tasks);
  const type = status.type || entry.info?.type || 'unknown';
  return h('tr', { dataset: { connector: name, state } },
    h('td', { class: 'name' },
      h('a', { href: `#/connectors/${enc(name)}` }, name),
      h('div', { class: 'class' }, entry.info?.config?.['connector.class'] || '')),
    h('td', null, badge(type, type)),
    h('td', null, badge(state)),
    h('td', { class: 'num' }, `${counts.RUNNING || 0}/${tasks.length}`,
      counts.FAILED ? h('div', null, badge(`${counts.FAILED} failed`, 'FAILED')) : null),
    h('td', { class: 'mono' }, status.connector.worker_id || '—'),
    h('td', null, connectorActions(name, state, refresh)));
}

// ---------------------------------------------------------------------------------------------
// Metrics: Prometheus text, parsed generically
// ---------------------------------------------------------------------------------------------

/** Parses the Prometheus text format into [{name, labels, value}] (comments skipped). */
function parseMetrics(text) {
  const samples = [];
  for (const line of String(text).split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The per-connector series; names are matched with or without the `_total` counter suffix. */
const SERIES = [
  { key: 'in', metric: 'kconnect_task_records_in', rate: true, label: 'Records in /s' },
  { key: 'out', metric: 'kconnect_task_records_out', rate: true, label: 'Records out /s' },
  { key: 'lag', metric: 'kconnect_task_consumer_lag', rate: false, label: 'Consumer lag' },
  { key: 'failed', metric: 'kconnect_task_records_failed', rate: false, label: 'Failed records' },
  { key: 'dlq', metric: 'kconnect_task_dlq_records', rate: false, label: 'DLQ records' },
];

/** Sums each series over the connector's tasks; a series the worker does not export is null. */
function connectorTotals(samples, connector) {
  const totals = {};
  for (const s of SERIES) totals[s.key] = null;
  for (const sample of samples) {
    if (sample.labels.connector !== connector) continue;
    const base = sample.name.replace(/_total$/, '');
    const series = SERIES.find((s) => s.metric === base);
    if (series) totals[series.key] = (totals[series.key] || 0) + sample.value;
  }
  return totals;
}

function sparkline(points) {
  const w = 200, hgt = 34;
  const svg = h('svg', { viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  if (points.length < 2) return svg;
  const max = Math.max(...points, 1e-9);
  const step = w / (points.length - 1);
  const xy = points.map((p, i) => `${(i * step).toFixed(1)},${(hgt - 2 - (p / max) * (hgt - 4)).toFixed(1)}`);
  svg.append(h('path', { d: `M0,${hgt} L${xy.join(' L')} L${w},${hgt} Z` }), h('polyline', { points: xy.join(' ') }));
  return svg;
}

const fmtNum = (v) => (v == null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(1));

/** Polls /metrics and keeps up to 60 points per series for one connector. */
function metricsPanel(connector) {
  const history = Object.fromEntries(SERIES.map((s) => [s.key, []]));
  let last = null;
  const grid = h('div', { class: 'sparks' });
  const note = h('p', { class: 'muted small' }, 'Sampling /metrics every 2 s…');
  const draw = () => fill(grid, ...SERIES.map((s) => {
    const pts = history[s.key];
    const current = pts.length ? pts[pts.length - 1] : null;
    return h('div', { class: 'spark', dataset: { series: s.key } },
      h('div', { class: 'label' }, s.label),
      h('div', { class: 'value' }, current == null ? (last && last.totals[s.key] == null ? 'n/a' : '—') : fmtNum(current)),
      sparkline(pts));
  }));
  const sample = async () => {
    const text = await api('GET', '/metrics');
    const totals = connectorTotals(parseMetrics(text), connector);
    const now = performance.now();
    for (const s of SERIES) {
      if (totals[s.key] == null) continue;
      let v = totals[s.key];
      if (s.rate) {
        // Rates need two samples; a counter that went down (task restarted) restarts the rate.
        if (!last || last.totals[s.key] == null) continue;
        v = Math.max(0, (v - last.totals[s.key]) / ((now - last.at) / 1000));
      }
      history[s.key].push(v);
      if (history[s.key].length > 60) history[s.key].shift();
    }
    last = { at: now, totals };
    note.textContent = 'Summed over the connector\'s tasks, sampled every 2 s; n/a: not exported for this connector.';
    draw();
  };
  draw();
  return { node: panel('Live metrics', note, grid), sample };
}

// ---------------------------------------------------------------------------------------------
// Connector page (#/connectors/<name>)
// ---------------------------------------------------------------------------------------------

/** Keys to mask: those whose definition is PASSWORD, as the plugin's validate call says. */
async function passwordKeys(config) {
  const keys = new Set();
  // Safety net: converter and client sub-keys are unknown to validate, so also mask names
  // that say "password" or "secret".
  for (const k of Object.keys(config)) if (/password|secret/i.test(k)) keys.add(k);
  const cls = config['connector.class'];
  if (!cls) return keys;
  try {
    const res = await api('PUT', `/connector-plugins/${enc(cls)}/config/validate`, config);
    for (const c of res.configs || []) if (c.definition.type === 'PASSWORD') keys.add(c.definition.name);
  } catch (e) {
    console.warn('validate for masking failed', e);
  }
  return keys;
}

const MASK = '••••••';
const maskConfig = (config, secret) =>
  Object.fromEntries(Object.entries(config).map(([k, v]) => [k, secret.has(k) && v ? MASK : v]));

async function connectorPage(name) {
  const [status, config] = await Promise.all([api('GET', connPath(name, '/status')), api('GET', connPath(name, '/config'))]);
  const secret = await passwordKeys(config);
  const alert = alertRegion();
  const head = h('div');
  const statusBody = h('div');
  const offsets = offsetsPanel(name);
  const metrics = metricsPanel(name);
  const openTraces = new Set();
  let drawnStatus = '';

  const drawStatus = (st) => {
    const key = JSON.stringify(st);
    if (key === drawnStatus) return; // unchanged: leave open traces and focus alone
    drawnStatus = key;
    fill(head, connectorHead(name, st, config, refresh));
    fill(statusBody, statusView(name, st, openTraces, refresh));
    offsets.setState(st.connector.state);
  };
  const refresh = async () => {
    try {
      drawStatus(await api('GET', connPath(name, '/status')));
    } catch (e) {
      if (e.status === 404) { location.hash = '#/connectors'; return; }
      throw e;
    }
  };

  const node = h('div', null,
    h('div', { class: 'crumbs' }, h('a', { href: '#/connectors' }, '← Connectors')),
    head, alert,
    h('div', { class: 'grid' }, panel('Status', statusBody), metrics.node),
    configPanel(config, secret),
    h('div', { class: 'grid' }, await topicsPanel(name), await historySummary(name)),
    offsets.node);
  drawStatus(status);
  await offsets.load();
  every(2000, refresh);
  every(2000, metrics.sample);
  return pageResult(node, 'connector', () => metrics.sample().catch(console.warn));
}

function connectorHead(name, st, config, refresh) {
  return h('div', { class: 'page-head' },
    h('div', null,
      h('h1', null, name, ' ', badge(st.connector.state), ' ', badge(st.type || 'unknown', st.type)),
      h('p', { class: 'mono small' }, config['connector.class'])),
    h('div', { class: 'actions' },
      connectorActions(name, st.connector.state, refresh, { onDeleted: () => { location.hash = '#/connectors'; } }),
      h('a', { class: 'btn small', href: `#/connectors/${enc(name)}/edit` }, 'Edit'),
      h('a', { class: 'btn small', href: `#/connectors/${enc(name)}/history` }, 'History'),
      h('a', { class: 'btn small', href: '#/connectors' }, 'Back to list')));
}

function statusView(name, st, openTraces, refresh) {
  return h('div', null,
    facts([['Connector', badge(st.connector.state)], ['Worker', st.connector.worker_id],
      st.connector.trace ? ['Trace', h('pre', null, st.connector.trace)] : null]),
    h('h3', null, `Tasks (${st.tasks.length})`),
    st.tasks.length ? null : h('p', { class: 'empty' }, 'No tasks.'),
    st.tasks.map((t) => h('div', { class: 'task', dataset: { task: t.id, state: t.state } },
      h('div', { class: 'task-head' },
        h('b', null, `Task ${t.id}`), badge(t.state), h('span', { class: 'mono small' }, t.worker_id),
        h('button', {
          class: 'btn small', type: 'button', 'aria-label': `Restart task ${t.id}`,
          onclick: () => runAction(`Restarted task ${t.id}`, () => api('POST', connPath(name, `/tasks/${t.id}/restart`)), refresh),
        }, 'Restart task')),
      t.trace ? h('details', {
        class: 'trace', open: openTraces.has(t.id),
        ontoggle: (e) => (e.target.open ? openTraces.add(t.id) : openTraces.delete(t.id)),
      }, h('summary', null, `Error trace of task ${t.id}`), h('pre', null, t.trace)) : null)));
}

function configPanel(config, secret) {
  const masked = maskConfig(config, secret);
  const keys = Object.keys(masked).sort();
  const table = h('table', { class: 'kv' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))),
    h('tbody', null, keys.map((k) => h('tr', null, h('td', null, k),
      h('td', { class: secret.has(k) ? 'masked' : null }, masked[k])))));
  const json = h('pre', { class: 'json', hidden: true }, pretty(masked));
  const tab = (label, show) => h('button', {
    class: 'btn small', type: 'button', 'aria-pressed': String(show === table),
    onclick: (e) => {
      table.hidden = show !== table; json.hidden = show !== json;
      e.target.parentNode.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b === e.target)));
    },
  }, label);
  return panel('Configuration',
    h('div', { class: 'tabs', role: 'group', 'aria-label': 'Configuration view' }, tab('Table', table), tab('JSON', json)),
    secret.size ? h('p', { class: 'muted small' }, `${secret.size} secret value(s) masked.`) : null,
    table, json);
}

async function topicsPanel(name) {
  try {
    const res = await api('GET', connPath(name, '/topics'));
    const topics = res?.[name]?.topics || [];
    return panel('Active topics', topics.length
      ? h('ul', null, topics.map((t) => h('li', { class: 'mono' }, t)))
      : h('p', { class: 'empty' }, 'No active topics yet.'));
  } catch (e) {
    if (e.status >= 400 && e.status < 500) {
      return panel('Active topics', h('p', { class: 'muted' }, `Topic tracking is disabled on this worker (${e.message}).`));
    }
    throw e;
  }
}

async function historySummary(name) {
  const hist = await optional(api('GET', `/kconnect/connectors/${enc(name)}/history`)).catch(() => null);
  if (!hist) return panel('Config history', h('p', { class: 'muted' }, 'Config history is not available on this worker.'));
  const lastV = hist[hist.length - 1];
  return panel('Config history',
    h('p', null, `${hist.length} version(s); the current one is version ${lastV?.version ?? '—'}, saved ${fmtTime(lastV?.time)}.`),
    h('a', { href: `#/connectors/${enc(name)}/history` }, 'Show the history and roll back'));
}

function offsetsPanel(name) {
  const view = h('div');
  const why = h('p', { class: 'muted small', id: nextId('why') });
  const textarea = h('textarea', { id: 'offsets-json', rows: 6, spellcheck: 'false', wrap: 'off', 'aria-describedby': why.id });
  const alterBtn = h('button', { class: 'btn', type: 'button', id: 'offsets-alter', 'aria-describedby': why.id, onclick: () => alter() }, 'Alter offsets');
  const resetBtn = h('button', { class: 'btn danger', type: 'button', id: 'offsets-reset', 'aria-describedby': why.id, onclick: () => reset() }, 'Reset offsets');
  const alert = alertRegion();

  const load = async () => {
    const res = await api('GET', connPath(name, '/offsets'));
    const list = res?.offsets || [];
    fill(view, list.length ? h('table', { class: 'kv' },
      h('thead', null, h('tr', null, h('th', null, 'Partition'), h('th', null, 'Offset'))),
      h('tbody', null, list.map((o) => h('tr', null, h('td', null, JSON.stringify(o.partition)), h('td', null, JSON.stringify(o.offset))))))
      : h('p', { class: 'empty' }, 'No committed offsets.'));
    textarea.value = pretty({ offsets: list });
  };
  const alter = async () => {
    let body;
    try { body = JSON.parse(textarea.value); } catch (e) { return showError(alert, new Error(`Not valid JSON: ${e.message}`)); }
    try {
      const res = await api('PATCH', connPath(name, '/offsets'), body);
      fill(alert, h('div', { class: 'banner info' }, res?.message || 'Offsets altered.'));
      await load();
    } catch (e) { showError(alert, e); }
  };
  const reset = async () => {
    if (!await confirmDialog({ title: `Reset offsets of ${name}?`, message: 'The connector will start from scratch when resumed.', ok: 'Reset' })) return;
    try {
      const res = await api('DELETE', connPath(name, '/offsets'));
      fill(alert, h('div', { class: 'banner info' }, res?.message || 'Offsets reset.'));
      await load();
    } catch (e) { showError(alert, e); }
  };
  const setState = (state) => {
    // Kafka only lets offsets change while the connector is STOPPED.
    const stopped = state === 'STOPPED';
    alterBtn.disabled = resetBtn.disabled = !stopped;
    why.textContent = stopped
      ? 'The connector is stopped: offsets can be altered or reset.'
      : `Offsets can be altered or reset only while the connector is STOPPED (it is ${state}). Stop it first.`;
  };
  const node = panel('Offsets', alert, view,
    h('h3', null, 'Alter'),
    h('label', { for: textarea.id, class: 'small' }, 'New offsets (JSON, as for PATCH /connectors/<name>/offsets)'),
    textarea, why, h('div', { class: 'actions' }, alterBtn, resetBtn));
  return { node, load, setState };
}

// ---------------------------------------------------------------------------------------------
// Config history (#/connectors/<name>/history)
// ---------------------------------------------------------------------------------------------

async function historyPage(name) {
  const alert = alertRegion();
  const body = h('div');
  const load = async () => {
    const hist = await optional(api('GET', `/kconnect/connectors/${enc(name)}/history`));
    if (!hist) {
      fill(body, panel('Config history', h('p', { class: 'muted' }, 'Config history is not available on this worker (the endpoint answered 404).')));
      return;
    }
    const latest = hist.length ? hist[hist.length - 1].version : null;
    fill(body, panel(`Versions (${hist.length}), newest first`,
      hist.length ? null : h('p', { class: 'empty' }, 'No versions recorded.'),
      [...hist].reverse().map((v) => versionView(name, v, latest, alert, load))));
  };
  await load();
  const node = h('div', null,
    h('div', { class: 'crumbs' }, h('a', { href: '#/connectors' }, 'Connectors'), ' / ', h('a', { href: `#/connectors/${enc(name)}` }, name)),
    pageHead(`History of ${name}`, 'Each saved configuration, with what changed from the one before'),
    alert, body);
  return pageResult(node, 'history');
}

function versionView(name, v, latest, alert, reload) {
  const deleted = v.config == null;
  const rollback = v.version !== latest && !deleted ? h('button', {
    class: 'btn small', type: 'button', 'aria-label': `Roll back to version ${v.version}`,
    onclick: async () => {
      const ok = await confirmDialog({ title: `Roll back ${name}?`, message: `The configuration of version ${v.version} will be saved as a new version.`, ok: 'Roll back' });
      if (!ok) return;
      try {
        await api('POST', `/kconnect/connectors/${enc(name)}/history/${v.version}/rollback`);
        showToast(`Rolled back to version ${v.version}`);
        fill(alert);
        await reload();
      } catch (e) { showError(alert, e); }
    },
  }, `Roll back to version ${v.version}`) : null;
  return h('div', { class: 'version', dataset: { version: v.version } },
    h('div', { class: 'version-head' },
      h('h3', { style: 'margin:0' }, `Version ${v.version}`),
      h('span', { class: 'muted' }, fmtTime(v.time)),
      v.version === latest ? badge('current', 'RUNNING') : null,
      deleted ? badge('deleted') : null, rollback),
    changesTable(v.changes || []),
    deleted ? null : h('details', null, h('summary', null, 'Full configuration'), h('pre', { class: 'json' }, pretty(v.config))));
}

function changesTable(changes) {
  if (!changes.length) return h('p', { class: 'empty' }, 'No changes.');
  const kind = (c) => (c.before == null ? 'added' : c.after == null ? 'removed' : 'changed');
  return h('table', { class: 'kv diff' },
    h('thead', null, h('tr', null, h('th', null, 'Key'), h('th', null, 'Change'), h('th', null, 'Before'), h('th', null, 'After'))),
    h('tbody', null, changes.map((c) => h('tr', { class: kind(c) },
      h('td', null, c.key), h('td', null, badge(kind(c))),
      h('td', null, c.before == null ? '' : h('del', null, c.before)),
      h('td', null, c.after == null ? '' : h('ins', null, c.after))))));
}

// ---------------------------------------------------------------------------------------------
// Create / edit with live validation (#/new, #/connectors/<name>/edit)
// ---------------------------------------------------------------------------------------------

const PREVIEW_KEY = 'kconnect.preview.config';
/** Kafka's framework groups; anything else (or no group) is the plugin's own settings. */
const LATE_GROUPS = ['Transforms', 'Predicates', 'Error Handling', 'Topic Creation', 'Exactly Once Support', 'offsets.topic'];

async function formPage(editName) {
  const plugins = (await api('GET', '/connector-plugins')).filter((p) => p.type === 'source' || p.type === 'sink');
  const st = {
    editName, plugin: null, values: {}, extras: [], result: null, signature: '', seq: 0, timer: null,
    openGroups: new Map(), ids: new Map(),
  };
  if (editName) {
    const config = await api('GET', connPath(editName, '/config'));
    st.plugin = config['connector.class'];
    st.values = { ...config };
  }
  const ui = formSkeleton(st, plugins);
  st.ui = ui;
  if (st.plugin) await validateNow(st);
  return pageResult(ui.node, editName ? 'edit' : 'new');
}

function fieldId(st, key) {
  if (!st.ids.has(key)) st.ids.set(key, `f${st.ids.size + 1}`);
  return st.ids.get(key);
}

function formSkeleton(st, plugins) {
  const ui = {};
  ui.alert = alertRegion();
  ui.groups = h('div', { id: 'form-groups' });
  ui.extras = h('div');
  ui.summary = h('div', { 'aria-live': 'polite' });
  ui.review = h('section', { class: 'panel', hidden: true, 'aria-labelledby': 'review-title' });
  const pluginSelect = h('select', {
    id: 'plugin', disabled: !!st.editName,
    onchange: (e) => { st.plugin = e.target.value || null; st.signature = ''; st.ui.review.hidden = true; validateSoon(st, 0); },
  }, h('option', { value: '' }, 'Choose a plugin…'),
  plugins.map((p) => h('option', { value: p.class, selected: p.class === st.plugin }, `${shortClass(p.class)} (${p.type}, ${p.version}) — ${p.class}`)));
  if (st.plugin && !plugins.some((p) => p.class === st.plugin)) {
    pluginSelect.append(h('option', { value: st.plugin, selected: true }, st.plugin)); // an alias such as FileStreamSource
  }
  const addExtra = h('button', { class: 'btn small', type: 'button', onclick: () => { st.extras.push({ key: '', value: '' }); drawExtras(st); } }, 'Add property');
  ui.node = h('div', null,
    h('div', { class: 'crumbs' }, h('a', { href: st.editName ? `#/connectors/${enc(st.editName)}` : '#/connectors' }, st.editName ? `← ${st.editName}` : '← Connectors')),
    pageHead(st.editName ? `Edit ${st.editName}` : 'New connector', 'Fields are checked by the worker as you type'),
    ui.alert,
    h('div', { class: 'form-layout' },
      h('div', null,
        h('section', { class: 'panel', 'aria-labelledby': 'plugin-title' },
          h('h2', { id: 'plugin-title' }, '1. Plugin'),
          h('div', { class: 'field' }, h('label', { for: 'plugin' }, 'Connector plugin'), pluginSelect)),
        h('form', { id: 'config-form', 'aria-label': 'Connector configuration', onsubmit: (e) => { e.preventDefault(); showReview(st); } },
          ui.groups,
          h('section', { class: 'panel', 'aria-labelledby': 'extras-title' },
            h('div', { class: 'panel-head' }, h('h2', { id: 'extras-title' }, 'Other properties'), addExtra),
            h('p', { class: 'muted small' }, 'Keys the plugin does not declare, such as converter settings (value.converter.schemas.enable).'),
            ui.extras)),
        ui.review),
      h('aside', { class: 'side', 'aria-label': 'Validation' },
        h('section', { class: 'panel', 'aria-labelledby': 'validation-title' },
          h('h2', { id: 'validation-title' }, 'Validation'), ui.summary,
          h('div', { class: 'actions' },
            h('button', { class: 'btn primary', type: 'button', id: 'review-btn', onclick: () => showReview(st) }, '2. Review JSON'),
            h('button', { class: 'btn', type: 'button', onclick: () => openPreview(st) }, 'Preview transforms'))))));
  drawExtras(st, ui);
  drawSummary(st, ui);
  return ui;
}

/** The config map to send: only keys with a non-empty value, plus the other properties. */
function configFromForm(st) {
  const config = {};
  for (const [k, v] of Object.entries(st.values)) if (v !== '' && v != null) config[k] = String(v);
  for (const { key, value } of st.extras) if (key.trim() && value !== '') config[key.trim()] = value;
  if (st.plugin) config['connector.class'] = st.plugin;
  return config;
}

function validateSoon(st, delay = 300) {
  clearTimeout(st.timer);
  st.timer = setTimeout(() => validateNow(st), delay);
}

async function validateNow(st) {
  if (!st.plugin) { st.result = null; st.signature = ''; fill(st.ui.groups); drawSummary(st); return; }
  const seq = ++st.seq;
  try {
    const res = await api('PUT', `/connector-plugins/${enc(st.plugin)}/config/validate`, configFromForm(st));
    if (seq !== st.seq) return; // a newer keystroke's validation is on its way
    st.result = res;
    fill(st.ui.alert);
    applyValidation(st, res);
  } catch (e) {
    if (seq === st.seq) showError(st.ui.alert, e);
  }
}

function applyValidation(st, res) {
  const known = new Set(res.configs.map((c) => c.definition.name));
  if (st.editName && !st.extrasSplit) {
    // On edit, keys the plugin does not declare move to "Other properties" once.
    st.extrasSplit = true;
    for (const k of Object.keys(st.values)) {
      if (!known.has(k)) { st.extras.push({ key: k, value: st.values[k] }); delete st.values[k]; }
    }
    drawExtras(st);
  }
  const visible = res.configs.filter((c) => c.value.visible !== false || st.values[c.definition.name]);
  const signature = visible.map((c) => `${c.definition.name}:${c.definition.group}`).join('|');
  if (signature !== st.signature) {
    st.signature = signature;
    drawGroups(st, visible, res.groups || []);
  } else {
    for (const c of visible) updateFieldErrors(st, c);
  }
  drawSummary(st);
}

/** Orders groups: Common, the plugin's own settings, then the framework groups in `groups` order. */
function groupConfigs(configs, groups) {
  const byGroup = new Map();
  for (const c of configs) {
    let g = c.definition.group;
    // Per-alias transform and predicate keys may come without a group: file them with their parent.
    if (!g && /^transforms\./.test(c.definition.name)) g = 'Transforms';
    if (!g && /^predicates\./.test(c.definition.name)) g = 'Predicates';
    g = g || 'Connector';
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g).push(c);
  }
  const order = ['Common', 'Connector', ...groups.filter((g) => g !== 'Common'), ...byGroup.keys()];
  const seen = new Set();
  const out = [];
  for (const g of order) {
    if (seen.has(g) || !byGroup.has(g)) continue;
    seen.add(g);
    const ord = (c) => c.definition.order_in_group ?? c.definition.order ?? -1;
    out.push([g, byGroup.get(g).sort((a, b) => (ord(a) < 0) - (ord(b) < 0) || ord(a) - ord(b))]);
  }
  return out;
}

function drawGroups(st, configs, groups) {
  // Re-rendering replaces the inputs: remember the focused one and its caret.
  const active = document.activeElement;
  const focusKey = active?.dataset?.key;
  const caret = focusKey && active.selectionStart != null ? [active.selectionStart, active.selectionEnd] : null;
  fill(st.ui.groups, ...groupConfigs(configs, groups).map(([g, list]) => groupView(st, g, list)));
  if (focusKey) {
    const el = st.ui.groups.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (el) { el.focus(); if (caret && el.setSelectionRange) el.setSelectionRange(...caret); }
  }
}

function groupView(st, group, configs) {
  const hasErrorsOrValues = configs.some((c) => c.value.errors.length || st.values[c.definition.name]);
  const defaultOpen = !LATE_GROUPS.includes(group) || hasErrorsOrValues;
  const open = st.openGroups.has(group) ? st.openGroups.get(group) : defaultOpen;
  const title = group === 'Connector' ? `${shortClass(st.plugin)} settings` : group;
  return h('details', {
    class: 'group', open, dataset: { group },
    ontoggle: (e) => st.openGroups.set(group, e.target.open),
  }, h('summary', null, title, h('span', { class: 'muted small' }, `${configs.length} field(s)`)),
  h('div', { class: 'fields' }, configs.map((c) => fieldView(st, c))));
}

function fieldView(st, c) {
  const def = c.definition;
  const id = fieldId(st, def.name);
  const helpId = `${id}-help`, errId = `${id}-err`;
  const input = fieldInput(st, def, c.value, id);
  input.setAttribute('aria-describedby', `${helpId} ${errId}`);
  const datalist = c.value.recommended_values?.length && def.type !== 'BOOLEAN'
    ? h('datalist', { id: `${id}-list` }, c.value.recommended_values.map((v) => h('option', { value: v })))
    : null;
  if (datalist) input.setAttribute('list', datalist.id);
  const errors = h('ul', { class: 'errors', id: errId, dataset: { errorsFor: def.name } });
  const wrap = h('div', { class: 'field', dataset: { field: def.name } },
    h('label', { for: id }, def.display_name || def.name,
      def.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null,
      h('span', { class: 'key' }, def.name)),
    h('div', null, input, datalist,
      h('p', { class: 'help', id: helpId }, def.documentation || '',
        def.default_value ? h('span', null, ' Default: ', h('code', null, def.default_value)) : null),
      errors));
  setErrors(input, errors, c.value.errors);
  return wrap;
}

function fieldInput(st, def, value, id) {
  const key = def.name;
  const current = st.values[key] ?? '';
  const onChange = (e) => { st.values[key] = e.target.value; validateSoon(st); };
  const common = { id, dataset: { key }, 'aria-required': def.required ? 'true' : null, oninput: onChange, onchange: onChange };
  if (key === 'connector.class') {
    return h('input', { ...common, type: 'text', value: st.plugin, readOnly: true, oninput: null, onchange: null });
  }
  if (key === 'name' && st.editName) {
    return h('input', { ...common, type: 'text', value: st.editName, readOnly: true, oninput: null, onchange: null });
  }
  if (def.type === 'BOOLEAN') {
    return h('select', common,
      h('option', { value: '' }, `default (${def.default_value || 'unset'})`),
      ['true', 'false'].map((v) => h('option', { value: v, selected: current === v }, v)));
  }
  const placeholder = def.default_value ? String(def.default_value) : (def.type === 'LIST' ? 'comma-separated' : null);
  const attrs = { ...common, type: def.type === 'PASSWORD' ? 'password' : 'text', value: current, placeholder, autocomplete: 'off', spellcheck: 'false' };
  if (def.type === 'PASSWORD') attrs.autocomplete = 'new-password';
  if (['INT', 'LONG', 'SHORT'].includes(def.type)) attrs.inputmode = 'numeric';
  if (def.type === 'DOUBLE') attrs.inputmode = 'decimal';
  return h('input', attrs);
}

function setErrors(input, list, errors) {
  fill(list, ...errors.map((m) => h('li', null, m)));
  if (errors.length) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
}

function updateFieldErrors(st, c) {
  const id = st.ids.get(c.definition.name);
  const input = id && document.getElementById(id);
  const list = id && document.getElementById(`${id}-err`);
  if (input && list) setErrors(input, list, c.value.errors);
}

function drawSummary(st, ui = st.ui) {
  if (!st.plugin) { fill(ui.summary, h('p', { class: 'muted' }, 'Choose a plugin to see its settings.')); return; }
  if (!st.result) { fill(ui.summary, h('p', { class: 'muted' }, 'Validating…')); return; }
  const bad = st.result.configs.filter((c) => c.value.errors.length);
  const count = st.result.error_count ?? bad.length;
  fill(ui.summary,
    h('p', { class: `summary-count ${count ? 'bad' : 'ok'}`, id: 'error-count', dataset: { count } }, count ? `${count} error(s)` : 'No errors'),
    h('ul', { class: 'error-list' }, bad.map((c) => h('li', null, h('button', {
      class: 'btn small', type: 'button', onclick: () => focusField(st, c.definition.name),
    }, c.definition.display_name || c.definition.name), ': ', c.value.errors[0]))));
}

function focusField(st, key) {
  const el = document.getElementById(st.ids.get(key));
  if (!el) return;
  const group = el.closest('details');
  if (group) group.open = true;
  el.focus();
}

function drawExtras(st, ui = st.ui) {
  fill(ui.extras, ...st.extras.map((row, i) => {
    const keyIn = h('input', { type: 'text', value: row.key, 'aria-label': `Property ${i + 1} name`, placeholder: 'key', oninput: (e) => { row.key = e.target.value; validateSoon(st); } });
    const valIn = h('input', { type: /password|secret/i.test(row.key) ? 'password' : 'text', value: row.value, 'aria-label': `Property ${i + 1} value`, placeholder: 'value', oninput: (e) => { row.value = e.target.value; validateSoon(st); } });
    return h('div', { class: 'extra-row', dataset: { extra: i } }, keyIn, valIn,
      h('button', { class: 'btn small', type: 'button', 'aria-label': `Remove property ${i + 1}`, onclick: () => { st.extras.splice(i, 1); drawExtras(st); validateSoon(st); } }, 'Remove'));
  }));
  if (!st.extras.length) ui.extras.append(h('p', { class: 'empty' }, 'None.'));
}

function showReview(st) {
  const review = st.ui.review;
  const config = configFromForm(st);
  const text = h('textarea', { id: 'review-json', rows: Math.min(30, Object.keys(config).length + 3), spellcheck: 'false', wrap: 'off', value: pretty(config) });
  const alert = alertRegion();
  const save = h('button', {
    class: 'btn primary', type: 'button', id: 'save-btn',
    onclick: async () => {
      let cfg;
      try { cfg = JSON.parse(text.value); } catch (e) { return showError(alert, new Error(`Not valid JSON: ${e.message}`)); }
      const name = st.editName || cfg.name;
      if (!name) return showError(alert, new Error('The config needs a "name".'));
      save.disabled = true;
      try {
        // A new connector goes through POST so that an existing name is refused (409) rather than overwritten.
        if (st.editName) await api('PUT', connPath(name, '/config'), cfg);
        else await api('POST', '/connectors', { name, config: cfg });
        showToast(st.editName ? `Saved ${name}` : `Created ${name}`);
        location.hash = `#/connectors/${enc(name)}`;
      } catch (e) {
        showError(alert, e);
        save.disabled = false;
      }
    },
  }, st.editName ? 'Save changes' : 'Create connector');
  fill(review,
    h('h2', { id: 'review-title' }, '3. Review the JSON that will be sent'),
    h('p', { class: 'muted small' }, st.editName
      ? `Body of PUT /connectors/${st.editName}/config. You can still edit it here.`
      : 'The config of POST /connectors. You can still edit it here.'),
    h('label', { for: 'review-json', class: 'small' }, 'Connector config (JSON)'), text, alert,
    h('div', { class: 'actions' }, save,
      h('button', { class: 'btn', type: 'button', onclick: () => { review.hidden = true; } }, 'Back to the form')));
  review.hidden = false;
  text.focus();
}

function openPreview(st) {
  sessionStorage.setItem(PREVIEW_KEY, pretty(configFromForm(st)));
  location.hash = '#/preview?from=form';
}

// ---------------------------------------------------------------------------------------------
// Transform preview (#/preview)
// ---------------------------------------------------------------------------------------------

const SAMPLE_CONFIG = {
  'connector.class': 'FileStreamSource',
  topic: 'orders',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'false',
  transforms: 'ins,route',
  'transforms.ins.type': 'org.apache.kafka.connect.transforms.InsertField$Value',
  'transforms.ins.static.field': 'src',
  'transforms.ins.static.value': 'console',
  'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
  'transforms.route.regex': '(.*)',
  'transforms.route.replacement': '$1-routed',
};
const SAMPLE_RECORDS = [{ topic: 'orders', partition: 0, key: null, value: { a: 1 }, headers: { origin: 'console' } }];

async function previewPage() {
  const fromForm = sessionStorage.getItem(PREVIEW_KEY);
  const useForm = location.hash.includes('from=form') && fromForm;
  const configIn = h('textarea', { id: 'preview-config', rows: 14, spellcheck: 'false', wrap: 'off', value: useForm ? fromForm : pretty(SAMPLE_CONFIG) });
  const recordsIn = h('textarea', { id: 'preview-records', rows: 14, spellcheck: 'false', wrap: 'off', value: pretty(SAMPLE_RECORDS) });
  const alert = alertRegion();
  const output = h('div', { id: 'preview-output' });
  const run = h('button', { class: 'btn primary', type: 'button', id: 'run-preview', onclick: () => runPreview(configIn, recordsIn, alert, output) }, 'Run preview');
  const node = h('div', null,
    pageHead('Transform preview', 'See sample records after the converters and the transform chain, without starting a connector'),
    h('div', { class: 'preview-io' },
      panel('Connector config',
        h('label', { for: 'preview-config', class: 'small' }, 'Config (JSON, must include connector.class)'), configIn,
        fromForm ? h('div', { class: 'actions', style: 'margin-top:6px' },
          h('button', { class: 'btn small', type: 'button', onclick: () => { configIn.value = sessionStorage.getItem(PREVIEW_KEY); } }, 'Use the config from the form')) : null),
      panel('Sample records',
        h('label', { for: 'preview-records', class: 'small' }, 'Records (JSON array of {topic, partition, key, value, headers})'), recordsIn)),
    h('div', { class: 'actions', style: 'margin-bottom:14px' }, run), alert, output);
  return pageResult(node, 'preview');
}

async function runPreview(configIn, recordsIn, alert, output) {
  fill(alert);
  let config, records;
  try { config = JSON.parse(configIn.value); } catch (e) { return showError(alert, new Error(`Config is not valid JSON: ${e.message}`)); }
  try { records = JSON.parse(recordsIn.value); } catch (e) { return showError(alert, new Error(`Records are not valid JSON: ${e.message}`)); }
  if (!Array.isArray(records)) records = [records];
  delete document.body.dataset.previewed;
  try {
    const res = await api('POST', '/kconnect/preview', { config, records });
    fill(output, previewResult(records, res));
    document.body.dataset.previewed = String(res.records.length);
  } catch (e) {
    if (e.status === 404) e.message = `Transform preview is not available on this worker (POST /kconnect/preview answered 404: ${e.message}).`;
    showError(alert, e);
  }
}

function previewResult(records, res) {
  const outs = new Map(records.map((_, i) => [i, []]));
  for (const r of res.records) (outs.get(r.input) || outs.set(r.input, []).get(r.input)).push(r);
  return panel(`Result (${res.connector_type} connector)`,
    h('div', { class: 'pv-row' }, h('h3', { style: 'margin:0' }, 'Input'), h('h3', { style: 'margin:0' }, 'Output')),
    [...outs.entries()].map(([i, list]) => h('div', { class: 'pv-row', dataset: { input: i } },
      h('div', null, h('div', { class: 'pv-meta' }, h('b', null, `Record ${i + 1}`)), h('pre', { class: 'json' }, pretty(records[i] ?? null))),
      h('div', null, list.length ? list.map(outputView) : h('p', { class: 'empty' }, 'No output.')))));
}

function outputView(r) {
  const meta = h('div', { class: 'pv-meta' }, badge(r.outcome),
    r.topic != null ? h('span', null, 'topic ', h('code', { class: 'pv-topic' }, r.topic)) : null,
    r.partition != null ? h('span', null, `partition ${r.partition}`) : null);
  if (r.outcome === 'dropped') return h('div', { class: 'pv-out', dataset: { outcome: r.outcome } }, meta, h('p', { class: 'muted' }, 'Dropped by the transform chain.'));
  if (r.outcome === 'failed') return h('div', { class: 'pv-out', dataset: { outcome: r.outcome } }, meta, h('div', { class: 'banner error' }, r.error || 'Failed.'));
  const shown = { key: r.key, value: r.value, headers: r.headers };
  return h('div', { class: 'pv-out', dataset: { outcome: r.outcome } }, meta,
    h('pre', { class: 'json pv-record' }, pretty(shown)),
    r.serialized ? h('details', { open: true }, h('summary', null, 'Bytes written to Kafka (as text)'),
      facts([['Key', h('code', null, r.serialized.key ?? 'null')], ['Value', h('code', { class: 'pv-serialized' }, r.serialized.value ?? 'null')]])) : null,
    r.key_schema || r.value_schema ? h('details', null, h('summary', null, 'Schemas'),
      h('pre', { class: 'json' }, pretty({ key_schema: r.key_schema, value_schema: r.value_schema }))) : null);
}

// ---------------------------------------------------------------------------------------------
// Loggers (#/loggers)
// ---------------------------------------------------------------------------------------------

const LEVELS = ['OFF', 'FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'];

async function loggersPage() {
  const alert = alertRegion();
  const tbody = h('tbody');
  const scope = h('input', { type: 'checkbox', id: 'logger-scope' });
  const setLevel = async (logger, level) => {
    const query = scope.checked ? '?scope=cluster' : '';
    try {
      const changed = await api('PUT', `/admin/loggers/${enc(logger)}${query}`, { level });
      fill(alert);
      showToast(`${logger} set to ${level}${Array.isArray(changed) && changed.length ? ` (changed: ${changed.join(', ')})` : ''}`);
      await load();
    } catch (e) { showError(alert, e); }
  };
  const load = async () => {
    const loggers = await api('GET', '/admin/loggers');
    fill(tbody, ...Object.entries(loggers).sort(([a], [b]) => (a === 'root' ? -1 : b === 'root' ? 1 : a.localeCompare(b)))
      .map(([name, l]) => loggerRow(name, l, setLevel)));
  };
  const newName = h('input', { type: 'text', id: 'new-logger', placeholder: 'e.g. kconnect::worker', autocomplete: 'off' });
  const newLevel = levelSelect('new-logger-level', 'DEBUG');
  const addForm = h('form', {
    class: 'toolbar', 'aria-label': 'Set the level of a logger',
    onsubmit: (e) => { e.preventDefault(); if (newName.value.trim()) setLevel(newName.value.trim(), newLevel.value); },
  }, h('label', { for: 'new-logger' }, 'Logger'), newName, h('label', { for: 'new-logger-level' }, 'Level'), newLevel,
  h('button', { class: 'btn primary', type: 'submit' }, 'Set level'));
  await load();
  const node = h('div', null,
    pageHead('Loggers', 'Log levels of this worker (or of the whole cluster)'), alert,
    h('div', { class: 'toolbar' }, h('label', { for: 'logger-scope' }, scope, 'Apply to every worker of the cluster (scope=cluster)')),
    panel('Add or change a logger', addForm),
    h('div', { class: 'panel' }, h('table', null,
      h('thead', null, h('tr', null, h('th', null, 'Logger'), h('th', null, 'Level'), h('th', null, 'Last modified'), h('th', null, h('span', { class: 'sr-only' }, 'Actions')))),
      tbody)));
  return pageResult(node, 'loggers');
}

function levelSelect(id, selected, label) {
  return h('select', { id, 'aria-label': label }, LEVELS.map((l) => h('option', { value: l, selected: l === selected }, l)));
}

function loggerRow(name, l, setLevel) {
  const select = levelSelect(null, l.level, `Level of ${name}`);
  const apply = h('button', { class: 'btn small', type: 'button', disabled: true, 'aria-label': `Apply level to ${name}`, onclick: () => setLevel(name, select.value) }, 'Apply');
  select.addEventListener('change', () => { apply.disabled = select.value === l.level; });
  return h('tr', { dataset: { logger: name } },
    h('td', { class: 'mono' }, name), h('td', null, select),
    h('td', null, fmtTime(l.last_modified)), h('td', null, apply));
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

window.addEventListener('hashchange', route);
route(); // first, so that the page's own requests go out before the top bar's
loadWorkerName();
