/**
 * The status page: one HTML document with its CSS and script inline (no build step, no CDN, so
 * it works offline and behind any proxy). It polls `/status.json` every two seconds with the
 * admin key it was given (`?access_token=` once, then sessionStorage) and draws the numbers,
 * two SVG sparklines and the lists. Elements carrying numbers have `data-metric` (and
 * `data-context` / `data-surface`) attributes naming the metric they show.
 */

const KEY = "sea-gateway-admin-key";

const STYLE = `
  :root { color-scheme: light dark; --muted: #777; --bad: #c62828; --good: #2e7d32; --line: #1565c0; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; max-width: 72rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; } h2 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
  table { border-collapse: collapse; } td, th { padding: .25rem .8rem; text-align: right; border-bottom: 1px solid #8883; }
  th:first-child, td:first-child { text-align: left; } .muted { color: var(--muted); }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem 2rem; }
  .ok { color: var(--good); } .bad { color: var(--bad); } .num { font-variant-numeric: tabular-nums; }
  svg { width: 100%; height: 4rem; border: 1px solid #8884; } polyline { fill: none; stroke: var(--line); stroke-width: 2; }
  #failures td { text-align: left; font-size: 12px; }
`;

const SCRIPT = `
const KEY = ${JSON.stringify(KEY)};
const params = new URLSearchParams(location.search);
let key = params.get("access_token");
if (key) { sessionStorage.setItem(KEY, key); history.replaceState(null, "", location.pathname); }
else key = sessionStorage.getItem(KEY);
const $ = (s) => document.querySelector(s);
const fmt = (v, d = 0) => (v === null || v === undefined ? "\\u2014" : Number(v).toFixed(d));
function cell(tr, text, attrs = {}) {
  const td = document.createElement("td");
  td.textContent = text;
  td.className = "num";
  for (const [k, v] of Object.entries(attrs)) td.setAttribute(k, v);
  tr.appendChild(td);
}
function spark(svg, values) {
  const ys = values.map((v) => (v === null ? 0 : v));
  const max = Math.max(1e-9, ...ys);
  const w = 300, h = 60, n = Math.max(1, ys.length - 1);
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.setAttribute("preserveAspectRatio", "none");
  const pts = ys.map((y, i) => ((i * w) / n).toFixed(1) + "," + (h - 2 - (y / max) * (h - 4)).toFixed(1));
  svg.innerHTML = '<polyline points="' + pts.join(" ") + '"/>';
}
function render(s) {
  $("#role").textContent = s.role;
  $("#generated").textContent = new Date(s.generatedAt).toLocaleTimeString();
  const body = $("#contexts tbody");
  body.replaceChildren();
  for (const c of s.contexts) {
    const tr = document.createElement("tr");
    cell(tr, c.context);
    cell(tr, fmt(c.outboxUnpublished), { "data-metric": "outbox_unpublished_count", "data-context": c.context });
    cell(tr, fmt(c.inboxUnprocessed), { "data-metric": "inbox_unprocessed_count", "data-context": c.context });
    cell(tr, fmt(c.consumerPending), { "data-metric": "jetstream_consumer_num_pending", "data-context": c.context });
    cell(tr, fmt(c.dlqDepth), { "data-metric": "dlq_depth", "data-context": c.context });
    if (c.dlqDepth > 0) tr.lastChild.classList.add("bad");
    body.appendChild(tr);
  }
  for (const surface of ["sse", "websocket", "mcp"]) {
    const el = $('[data-metric="active_streams"][data-surface="' + surface + '"]');
    el.textContent = fmt(s.activeStreams[surface]);
  }
  const pts = s.series.points;
  spark($("#throughput"), pts.map((p) => p.requestsPerSec));
  spark($("#ttft"), pts.map((p) => p.ttftMs));
  const last = pts[pts.length - 1];
  $("#throughput-now").textContent = last ? fmt(last.requestsPerSec, 1) + " requests/s" : "\\u2014";
  const ttfts = pts.filter((p) => p.ttftMs !== null);
  $("#ttft-now").textContent = ttfts.length ? fmt(ttfts[ttfts.length - 1].ttftMs, 1) + " ms" : "\\u2014";
  const procs = $("#processes tbody");
  procs.replaceChildren();
  for (const p of s.processes) {
    const tr = document.createElement("tr");
    cell(tr, p.name);
    cell(tr, p.ready === null ? "unknown" : p.ready ? "ready" : "not ready");
    tr.lastChild.className = p.ready ? "ok" : "bad";
    cell(tr, p.detail);
    tr.lastChild.className = "muted";
    procs.appendChild(tr);
  }
  const fails = $("#failures tbody");
  fails.replaceChildren();
  for (const f of s.failures) {
    const tr = document.createElement("tr");
    for (const v of [new Date(f.at).toLocaleTimeString(), f.source, f.context, f.kind, f.handler ?? "", f.message, f.correlationId ?? ""]) cell(tr, v);
    fails.appendChild(tr);
  }
  $("#no-failures").hidden = s.failures.length > 0;
  $("#state").textContent = s.metricsEnabled ? "" : "Metrics are disabled (METRICS_ENABLED=false).";
}
async function refresh() {
  if (!key) { location.replace("/status"); return; }
  try {
    const r = await fetch("/status.json", { headers: { authorization: "Bearer " + key } });
    if (r.status === 401 || r.status === 403) { sessionStorage.removeItem(KEY); location.replace("/status?refused=1"); return; }
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    document.body.dataset.loaded = "true";
  } catch (err) {
    $("#state").textContent = "Cannot reach the gateway: " + err.message;
  }
}
refresh();
setInterval(refresh, 2000);
`;

/** The page served to admin keys. */
export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>SEA gateway status</title><style>${STYLE}</style></head>
<body>
<h1>SEA gateway</h1>
<div class="muted">role <span id="role">…</span> · updated <span id="generated">…</span> · refreshes every 2 s</div>
<div id="state" class="bad"></div>
<section><h2>Backlog per context</h2>
<table id="contexts"><thead><tr><th>context</th><th>outbox unpublished</th><th>inbox unprocessed</th><th>commands pending</th><th>dead letters</th></tr></thead><tbody></tbody></table></section>
<div class="grid">
<section><h2>Active streams</h2>
<table><thead><tr><th>SSE</th><th>WebSocket</th><th>MCP</th></tr></thead>
<tbody><tr><td class="num" data-metric="active_streams" data-surface="sse">…</td><td class="num" data-metric="active_streams" data-surface="websocket">…</td><td class="num" data-metric="active_streams" data-surface="mcp">…</td></tr></tbody></table></section>
<section><h2>Throughput <span class="muted" id="throughput-now"></span></h2><svg id="throughput" role="img" aria-label="requests per second"></svg></section>
<section><h2>Time to first chunk <span class="muted" id="ttft-now"></span></h2><svg id="ttft" role="img" aria-label="mean time to first chunk"></svg></section>
</div>
<h2>Processes</h2>
<table id="processes"><thead><tr><th>process</th><th>state</th><th>detail</th></tr></thead><tbody></tbody></table>
<h2>Recent failures</h2>
<p id="no-failures" class="muted">None recorded by this process.</p>
<table id="failures"><thead><tr><th>time</th><th>where</th><th>context</th><th>kind</th><th>handler</th><th>message</th><th>correlation id</th></tr></thead><tbody></tbody></table>
<script>${SCRIPT}</script>
</body></html>`;

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** The page for a browser without a usable key: a form that keeps the key for the session. */
export function loginPage(message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SEA gateway status: key</title><style>${STYLE}</style></head>
<body><h1>SEA gateway status</h1>
<p>Paste an API key with the <code>admin</code> claim (<code>sea-gateway keys create --tenant ops --admin</code>).</p>
<p class="bad" id="message">${escape(message)}</p>
<form id="login"><input id="key" type="password" size="60" autocomplete="off" required> <button>Open</button></form>
<script>
const KEY = ${JSON.stringify(KEY)};
const refused = ${JSON.stringify(message !== "")} || new URLSearchParams(location.search).has("refused");
const open = (k) => location.replace("/status?access_token=" + encodeURIComponent(k));
if (refused) sessionStorage.removeItem(KEY);
else if (sessionStorage.getItem(KEY)) open(sessionStorage.getItem(KEY));
document.getElementById("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const k = document.getElementById("key").value.trim();
  sessionStorage.setItem(KEY, k);
  open(k);
});
</script></body></html>`;
}
