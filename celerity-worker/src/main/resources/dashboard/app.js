// The Celerity dashboard: polls the bridge (Flower's API, the inspect commands, /dashboard/api/state)
// and draws plain SVG. Actions send the token typed in the header (kept for this tab only).
'use strict';

const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b83280', '#2c7a7b', '#975a16', '#4a5568'];
const $ = (id) => document.getElementById(id);
const tokenInput = $('token');
tokenInput.value = sessionStorage.getItem('celerity-token') || '';
tokenInput.addEventListener('change', () => sessionStorage.setItem('celerity-token', tokenInput.value));

function headers(json) {
  const h = {};
  if (tokenInput.value) h['Authorization'] = 'Bearer ' + tokenInput.value;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function get(path) {
  const r = await fetch(path, { headers: headers(false) });
  if (!r.ok) throw new Error(path + ': ' + r.status);
  return r.json();
}

async function post(path, body) {
  const r = await fetch(path, { method: 'POST', headers: headers(true), body: JSON.stringify(body || {}) });
  const text = await r.text();
  $('action-result').textContent = r.status + ' ' + text;
  refresh();
  return r;
}

function esc(v) {
  return String(v === null || v === undefined ? '' : v).replace(/[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function trunc(v, n) {
  const s = v === null || v === undefined ? '' : (typeof v === 'string' ? v : JSON.stringify(v));
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

function ago(ts, now) {
  if (!ts) return '';
  const s = Math.max(0, now - ts);
  return s < 60 ? s.toFixed(1) + ' s ago' : (s / 60).toFixed(1) + ' min ago';
}

function clock(ts) {
  return ts ? new Date(ts * 1000).toLocaleTimeString() : '';
}

function secs(v) {
  if (v === null || v === undefined) return '';
  return v < 1 ? (v * 1000).toFixed(v < 0.01 ? 2 : 1) + ' ms' : v.toFixed(2) + ' s';
}

function rows(tbody, html) {
  $(tbody).querySelector('tbody').innerHTML = html.join('') || '<tr><td colspan="9" class="dim">none</td></tr>';
}

function drawWorkers(state, stats) {
  const mine = state.node;
  rows('workers', state.workers.map((w) => {
    const own = w.hostname === mine;
    const pool = own ? state.pool.implementation : '';
    const conc = own ? state.pool['max-concurrency'] : '';
    const load = (w.loadavg || []).map((l) => Number(l).toFixed(2)).join(' ');
    const hb = w.heartbeats && w.heartbeats.length ? ago(w.heartbeats[w.heartbeats.length - 1], state.now) : '';
    return `<tr><td>${esc(w.hostname)}${own ? ' <span class="dim">(this bridge)</span>' : ''}</td>
      <td class="state ${w.status}">${w.status}</td><td>${esc((w.sw_ident || '') + ' ' + (w.sw_ver || ''))}</td>
      <td>${esc(pool)}</td><td>${esc(conc)}</td><td>${esc(w.active)}</td><td>${esc(w.processed)}</td>
      <td>${esc(load)}</td><td>${hb}</td></tr>`;
  }));
}

function drawPool(state, queues) {
  const c = state.consumer;
  const p = state.pool;
  const used = c.prefetch_count ? Math.min(1, (c.unsettled || 0) / c.prefetch_count) : 0;
  const facts = [
    ['pool', `${esc(p.implementation)}, ${esc(p.active)} busy of ${esc(p['max-concurrency'])}, ${esc(p.reserved)} waiting`],
    ['prefetch', `${esc(c.unsettled)} held of ${esc(c.prefetch_count || 'unlimited')} <span class="bar" style="width:${Math.round(used * 120)}px"></span>`],
    ['scheduled (ETA)', esc(c.eta_held)], ['rate-limited', esc(c.rate_limited)],
    ['broker', c.connected ? '<span class="ONLINE">connected</span>' : '<span class="OFFLINE">disconnected</span>'],
    ['task events', state.task_events ? 'on' : '<span class="RETRY">off: enable them to see this worker\'s tasks</span>'],
    ['monitor', `${esc(state.events_seen)} events, ${esc(state.tasks_kept)} tasks kept`],
  ];
  $('pool').innerHTML = facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
  rows('queues', (queues.active_queues || []).map((q) =>
    `<tr><td>${esc(q.name)}</td><td>${q.messages === null ? '<span class="dim">not reported</span>' : esc(q.messages)}</td></tr>`));
}

function drawRunning(node, active, reserved, scheduled) {
  const list = [];
  (active[node] || []).forEach((t) => list.push(['active', t, clock(t.time_start)]));
  (reserved[node] || []).forEach((t) => list.push(['reserved', t, '']));
  (scheduled[node] || []).forEach((s) => list.push(['scheduled', s.request, s.eta]));
  rows('running', list.map(([kind, t, when]) => `<tr><td>${kind}</td><td>${esc(t.name)}</td><td>${esc(t.id)}</td>
    <td class="trunc">${esc(trunc(t.args, 60))}</td><td>${esc(when)}</td>
    <td><button data-revoke="${esc(t.id)}">revoke</button> <button data-terminate="${esc(t.id)}">terminate</button></td></tr>`));
}

function drawTasks(tasks, now) {
  const ready = new Set(['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED']);
  rows('tasks', Object.values(tasks).map((t) => `<tr><td>${clock(t.received || t.timestamp)}</td><td>${esc(t.name)}</td>
    <td>${esc(t.uuid.slice(0, 8))}</td><td class="state ${esc(t.state)}">${esc(t.state)}</td><td>${esc(t.worker)}</td>
    <td>${secs(t.runtime)}</td><td class="trunc">${esc(trunc(t.args, 50))}</td>
    <td class="trunc">${esc(trunc(t.exception || t.result, 70))}</td>
    <td>${ready.has(t.state) ? '' : `<button data-revoke="${esc(t.uuid)}">revoke</button>`}</td></tr>`));
}

function svg(tag, attrs, text) {
  const a = Object.entries(attrs).map(([k, v]) => `${k}="${v}"`).join(' ');
  return `<${tag} ${a}>${text === undefined ? '' : esc(text)}</${tag}>`;
}

function drawRates(state) {
  const names = Object.keys(state.types);
  const W = 520, H = 200, L = 34, B = 18, T = 8;
  const n = Math.round(state.window / state.bucket);
  let max = 1;
  names.forEach((k) => state.types[k].finished.forEach((v) => { max = Math.max(max, v); }));
  let out = '';
  for (let i = 0; i <= 4; i++) {
    const y = T + (H - T - B) * (1 - i / 4);
    out += svg('line', { x1: L, x2: W, y1: y, y2: y, stroke: '#e1e4ea' });
    out += svg('text', { x: 2, y: y + 3 }, Math.round(max * i / 4));
  }
  out += svg('text', { x: L, y: H - 4 }, '-' + state.window / 60 + ' min');
  out += svg('text', { x: W - 24, y: H - 4 }, 'now');
  names.forEach((k, idx) => {
    const pts = state.types[k].finished.map((v, i) =>
      `${(L + (W - L) * (i + 0.5) / n).toFixed(1)},${(T + (H - T - B) * (1 - v / max)).toFixed(1)}`).join(' ');
    out += svg('polyline', { points: pts, fill: 'none', stroke: COLORS[idx % COLORS.length], 'stroke-width': 2 });
  });
  $('rates').innerHTML = out;
  $('legend').innerHTML = names.map((k, idx) => `<span><i style="background:${COLORS[idx % COLORS.length]}"></i>${esc(k)}
    ${state.types[k].rate.toFixed(2)}/s</span>`).join('');
}

function drawRuntimes(state) {
  const names = Object.keys(state.types).filter((k) => state.types[k].p99 > 0);
  const W = 520, H = 200, L = 34, B = 30, T = 8;
  let max = 0;
  names.forEach((k) => { max = Math.max(max, state.types[k].p99); });
  let out = '';
  if (!names.length) {
    $('runtimes').innerHTML = svg('text', { x: 10, y: 20 }, 'no task finished in the window');
    return;
  }
  for (let i = 0; i <= 4; i++) {
    const y = T + (H - T - B) * (1 - i / 4);
    out += svg('line', { x1: L, x2: W, y1: y, y2: y, stroke: '#e1e4ea' });
    out += svg('text', { x: 2, y: y + 3 }, secs(max * i / 4));
  }
  const group = (W - L) / names.length;
  const bar = Math.min(24, group / 4);
  names.forEach((k, idx) => {
    const s = state.types[k];
    [s.p50, s.p90, s.p99].forEach((v, j) => {
      const h = (H - T - B) * v / max;
      out += svg('rect', { x: L + group * idx + group / 2 - 1.5 * bar + j * bar, y: H - B - h, width: bar - 2, height: h,
        fill: COLORS[idx % COLORS.length], opacity: [1, 0.7, 0.45][j] }, '');
    });
    out += svg('text', { x: L + group * idx + 4, y: H - 16 }, trunc(k, Math.max(8, Math.floor(group / 6))));
    out += svg('text', { x: L + group * idx + 4, y: H - 4 }, 'p50 ' + secs(s.p50) + ' p99 ' + secs(s.p99));
  });
  $('runtimes').innerHTML = out;
}

function fillTaskSelect(state) {
  const sel = $('rate-task');
  const names = Object.keys(state.types);
  if (sel.options.length !== names.length) {
    sel.innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join('');
  }
}

async function refresh() {
  try {
    const state = await get('/dashboard/api/state');
    const node = state.node;
    $('node').textContent = node;
    const [tasks, queues, active, reserved, scheduled] = await Promise.all([
      get('/api/tasks?limit=40'), get('/api/queues/length').catch(() => ({ active_queues: [] })),
      get('/control/inspect/active'), get('/control/inspect/reserved'), get('/control/inspect/scheduled')]);
    drawWorkers(state);
    drawPool(state, queues);
    drawRunning(node, active, reserved, scheduled);
    drawTasks(tasks, state.now);
    drawRates(state);
    drawRuntimes(state);
    fillTaskSelect(state);
    $('banner').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.body.dataset.ready = 'true';
  } catch (e) {
    $('banner').textContent = 'cannot read the bridge: ' + e.message;
  }
}

document.addEventListener('click', (e) => {
  const t = e.target;
  if (t.dataset.revoke) post('/api/task/revoke/' + encodeURIComponent(t.dataset.revoke));
  if (t.dataset.terminate) post('/api/task/revoke/' + encodeURIComponent(t.dataset.terminate) + '?terminate=true');
});
$('grow').addEventListener('click', () => post('/control/pool_grow', { n: 1 }));
$('shrink').addEventListener('click', () => post('/control/pool_shrink', { n: 1 }));
$('events-on').addEventListener('click', () => post('/control/enable_events'));
$('events-off').addEventListener('click', () => post('/control/disable_events'));
$('rate-form').addEventListener('submit', (e) => {
  e.preventDefault();
  post('/control/rate_limit', { task_name: $('rate-task').value, rate_limit: $('rate-value').value });
});
$('revoke-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const id = $('revoke-id').value.trim();
  if (id) post('/api/task/revoke/' + encodeURIComponent(id) + ($('revoke-terminate').checked ? '?terminate=true' : ''));
});

refresh();
setInterval(refresh, 2000);
