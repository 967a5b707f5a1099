// toolbox dashboard: pages built with DOM calls (user text only through textContent), Plotly SVG charts,
// one WebSocket per page that pushes numbered deltas; a reconnect resumes from the last number.
"use strict";

// ------------------------------------------------------------------------------------------------
// small helpers
// ------------------------------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

async function api(path) {
  const r = await fetch(path, {headers: {accept: "application/json"}});
  const data = await r.json().catch(() => ({error: r.statusText}));
  if (!r.ok) { const e = new Error(data.error || r.statusText); e.status = r.status; throw e; }
  return data;
}

// Plotly parses a few HTML tags and entities in its text; user text is escaped so it shows as written.
function ptext(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function num(v) {
  if (v === null || v === undefined || v === "") return "";
  if (typeof v === "string") return v === "NaN" ? "nan" : v === "Infinity" ? "inf" : v === "-Infinity" ? "-inf" : v;
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : String(+v.toPrecision(6));
}

function toNumber(v) {
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (v === "NaN" || v === null || v === undefined || v === "") return NaN;
  const f = Number(v);
  return Number.isNaN(f) ? NaN : f;
}

function when(t) {
  if (!t) return "-";
  const d = new Date(t * 1000);
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function duration(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return "-";
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function badge(status) { return el("span", {class: `badge st-${status}`, text: status}); }

function runLink(r) { return el("a", {href: `/runs/${encodeURIComponent(r.id)}`, text: r.name}); }

function debounce(fn, ms) {
  let t = null;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

function throttle(fn, ms) {
  let last = 0, t = null;
  return (...a) => {
    const now = Date.now();
    clearTimeout(t);
    if (now - last >= ms) { last = now; fn(...a); } else t = setTimeout(() => { last = Date.now(); fn(...a); }, ms - (now - last));
  };
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], {type}));
  const a = el("a", {href: url, download: name});
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

function csvCell(v) {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const LOSSY = /loss|error|mse|mae|rmse|inertia|time|rank/i;
function lowerIsBetter(key) { return LOSSY.test(key); }

function primaryMetric(keys) {
  const order = ["best_score", "mean_test_score", "score", "val_score", "accuracy", "val_loss", "loss"];
  for (const k of order) if (keys.includes(k)) return k;
  return keys.find((k) => !/time|n_candidates/.test(k)) || keys[0];
}

// ------------------------------------------------------------------------------------------------
// theme: follows the system, and charts follow when it changes
// ------------------------------------------------------------------------------------------------
const darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
const charts = new Set();

function themeLayout() {
  const cs = getComputedStyle(document.documentElement);
  const v = (n) => cs.getPropertyValue(n).trim();
  return {
    paper_bgcolor: v("--panel"), plot_bgcolor: v("--panel"), font: {color: v("--fg"), size: 12},
    xaxis: {gridcolor: v("--grid"), zerolinecolor: v("--grid"), linecolor: v("--line")},
    yaxis: {gridcolor: v("--grid"), zerolinecolor: v("--grid"), linecolor: v("--line")},
    colorway: ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"],
  };
}

function baseLayout(extra) {
  const t = themeLayout();
  const layout = Object.assign({autosize: true, margin: {l: 56, r: 16, t: 36, b: 44}, hovermode: "closest",
    legend: {orientation: "h", y: -0.3, yanchor: "top"}, uirevision: "keep"}, t, extra || {});
  layout.xaxis = Object.assign({}, t.xaxis, (extra || {}).xaxis || {});
  layout.yaxis = Object.assign({}, t.yaxis, (extra || {}).yaxis || {});
  return layout;
}

if (darkQuery) {
  darkQuery.addEventListener("change", () => {
    const t = themeLayout();
    for (const div of charts) {
      if (!div.isConnected) { charts.delete(div); continue; }
      Plotly.relayout(div, {paper_bgcolor: t.paper_bgcolor, plot_bgcolor: t.plot_bgcolor, "font.color": t.font.color,
        "xaxis.gridcolor": t.xaxis.gridcolor, "yaxis.gridcolor": t.yaxis.gridcolor});
    }
  });
}

const plotConfig = {responsive: true, displaylogo: false, scrollZoom: false,
  modeBarButtonsToRemove: ["select2d", "lasso2d"], toImageButtonOptions: {format: "png", scale: 2}};

const resizer = window.ResizeObserver ? new ResizeObserver((entries) => {
  for (const e of entries) if (e.target.data && e.target.isConnected) Plotly.Plots.resize(e.target);
}) : null;

const loading = [];  // first draws still running: the page is ready when they are done

function newPlot(div, data, layout) {
  if (!charts.has(div) && resizer) resizer.observe(div);
  charts.add(div);
  const p = Plotly.react(div, data, layout, plotConfig);
  loading.push(p);
  return p;
}

// A panel: a title bar with tools and export buttons, and a body.
function panel(title, opts) {
  opts = opts || {};
  const tools = el("div", {class: "tools"});
  const body = el("div", {class: opts.chart ? "chart" : "pbody"});
  const h = el("h2", {text: title});
  const p = el("section", {class: `panel ${opts.wide ? "wide" : ""}`}, el("div", {class: "phead"}, h, tools), body);
  return {root: p, tools, body, title: h};
}

function exportButtons(tools, div, name, dataFn) {
  const fname = name.replace(/[^\w.-]+/g, "_").slice(0, 80) || "chart";
  const b = (label, fn) => el("button", {type: "button", class: "small", "data-export": label.toLowerCase(), onclick: fn, text: label});
  tools.append(
    b("PNG", () => Plotly.downloadImage(div, {format: "png", filename: fname, width: div.clientWidth, height: div.clientHeight, scale: 2})),
    b("SVG", () => Plotly.downloadImage(div, {format: "svg", filename: fname, width: div.clientWidth, height: div.clientHeight})),
    b("CSV", () => { const d = dataFn("csv"); if (d) download(`${fname}.csv`, d, "text/csv"); }),
    b("JSON", () => { const d = dataFn("json"); if (d) download(`${fname}.json`, d, "application/json"); }),
  );
}

// The traces' own data as CSV or JSON (what the chart shows).
function traceData(div, fmt) {
  const data = (div.data || []).map((t) => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || [])}));
  if (fmt === "json") return JSON.stringify({traces: data});
  const lines = ["trace,x,y"];
  for (const t of data) for (let i = 0; i < t.x.length; i++) lines.push([csvCell(t.name), t.x[i], t.y[i]].join(","));
  return lines.join("\n") + "\n";
}

// ------------------------------------------------------------------------------------------------
// the live connection
// ------------------------------------------------------------------------------------------------
class Live {
  constructor(sub) {
    this.sub = sub;
    this.seq = null;
    this.handlers = {points: [], run: []};
    this.buffer = [];  // recent point events, replayed into charts loaded after they arrived
    this.delay = 250;
    this.status = document.getElementById("live");
    this.ready = new Promise((resolve) => { this._ready = resolve; setTimeout(resolve, 3000); });
    window.__toolboxLive = this;  // for tests and the benchmark
    this.connect();
  }

  on(kind, fn) { this.handlers[kind].push(fn); }

  connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 250;
      ws.send(JSON.stringify({subscribe: this.sub, since: this.seq}));
      this.setStatus("live", "on");
    };
    ws.onmessage = (m) => this.handle(JSON.parse(m.data));
    ws.onclose = () => {
      this.setStatus("reconnecting", "off");
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
  }

  setStatus(text, cls) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.className = `live ${cls}`;
  }

  update(sub) {
    this.sub = sub;
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify({subscribe: sub, since: this.seq}));
  }

  handle(msg) {
    if (msg.type === "hello") { this.seq = msg.seq; this._ready(); return; }
    if (msg.type === "resync") { location.reload(); return; }
    if (msg.type === "seq") { this.seq = msg.seq; return; }
    if (msg.type !== "delta") return;
    for (const ev of msg.events) {
      if (ev.kind === "points") {
        this.buffer.push(ev);
        if (this.buffer.length > 20000) this.buffer.splice(0, this.buffer.length - 20000);
      }
      for (const fn of this.handlers[ev.kind] || []) fn(ev);
    }
    this.seq = msg.seq;
    this._ready();
    window.__toolboxLastDelta = performance.now();
  }

  replay(fn, since) { for (const ev of this.buffer) if (ev.seq > since) fn(ev); }
}

// ------------------------------------------------------------------------------------------------
// training curves: several runs overlaid, step / time / relative time, log axis, zoom fetches detail
// ------------------------------------------------------------------------------------------------
const TARGET = 2000;

class CurveChart {
  constructor(parent, live, runs, keys, key, opts) {
    opts = opts || {};
    this.live = live;
    this.runs = runs;
    this.keys = keys;
    this.key = key;
    this.xkind = opts.xkind || "step";
    this.logy = false;
    this.range = null;
    this.traces = [];
    const p = panel(key, {chart: true});
    this.panel = p;
    this.div = p.body;
    this.div.classList.add("curve");
    const sel = el("select", {"aria-label": "metric", class: "metric", onchange: (e) => { this.key = e.target.value; p.title.textContent = this.key; this.range = null; this.load(); }},
      keys.map((k) => el("option", {value: k, selected: k === key, text: k})));
    const xs = el("select", {"aria-label": "x axis", onchange: (e) => { this.xkind = e.target.value; this.range = null; this.load(); }},
      [["step", "step"], ["relative", "time (s)"], ["time", "clock"]].map(([v, t]) => el("option", {value: v, selected: v === this.xkind, text: t})));
    const log = el("label", {class: "chk"}, el("input", {type: "checkbox", onchange: (e) => { this.logy = e.target.checked; Plotly.relayout(this.div, {"yaxis.type": this.logy ? "log" : "linear"}); }}), "log");
    p.tools.append(sel, xs, log);
    exportButtons(p.tools, this.div, `${key}`, (fmt) => { location.href = this.exportUrl(fmt); return null; });
    this.info = el("div", {class: "note"});
    p.root.appendChild(this.info);
    parent.appendChild(p.root);
    live.on("points", (ev) => this.onPoints(ev));
    this.reload = debounce(() => this.load(this.range), 800);
  }

  exportUrl(fmt) {
    return `/export/history.${fmt}?runs=${this.runs.map((r) => encodeURIComponent(r.id)).join(",")}&key=${encodeURIComponent(this.key)}`;
  }

  load(range) {
    const p = this._load(range);
    loading.push(p);
    return p;
  }

  async _load(range) {
    this.range = range || null;
    const q = (r) => {
      let u = `/api/series?run=${encodeURIComponent(r.id)}&key=${encodeURIComponent(this.key)}&x=${this.xkind}&n=${TARGET}`;
      if (this.range) u += `&x0=${this.range[0]}&x1=${this.range[1]}`;
      return api(u).catch(() => null);
    };
    const key = this.key, xkind = this.xkind;
    const got = await Promise.all(this.runs.map(q));
    if (key !== this.key || xkind !== this.xkind) return;  // changed meanwhile
    this.traces = [];
    const data = [];
    let shown = 0, total = 0, nonfinite = 0, down = false;
    got.forEach((s, i) => {
      if (!s || !s.n_total) return;
      const r = this.runs[i];
      this.traces.push({run: r.id, seq: s.seq, start: s.start_time});
      data.push({type: "scatter", mode: s.x.length === 1 ? "markers" : "lines", name: ptext(r.name), x: s.x, y: s.y,
        hovertemplate: `${ptext(r.name)}<br>%{x}: %{y}<extra></extra>`, line: {width: 1.5}});
      shown += s.x.length; total += s.n_total; nonfinite += s.n_nonfinite; down = down || s.downsampled;
    });
    const xaxis = {title: {text: xkind === "step" ? "step" : xkind === "relative" ? "seconds since start" : "time"},
      type: xkind === "time" ? "date" : "linear"};
    if (this.range) { xaxis.range = xkind === "time" ? this.range.map((v) => new Date(v).toISOString()) : this.range; xaxis.autorange = false; }
    const layout = baseLayout({xaxis, yaxis: {type: this.logy ? "log" : "linear"}, showlegend: this.runs.length > 1,
      uirevision: `${key}|${xkind}`});
    await newPlot(this.div, data, layout);
    if (!this.bound) {
      this.bound = true;
      this.div.on("plotly_relayout", (e) => this.onRelayout(e));
    }
    this.info.textContent = total ? `${shown.toLocaleString()} of ${total.toLocaleString()} points shown` +
      (down ? " (min-max LTTB; zoom for detail)" : "") + (nonfinite ? `; ${nonfinite} NaN/inf not drawn` : "") : "no points yet";
    this.traces.forEach((t) => this.live.replay((ev) => this.onPoints(ev), t.seq));
  }

  onRelayout(e) {
    if (this._ignore) return;
    let a = e["xaxis.range[0]"], b = e["xaxis.range[1]"];
    if (Array.isArray(e["xaxis.range"])) [a, b] = e["xaxis.range"];
    if (a !== undefined && b !== undefined) {
      const conv = (v) => (this.xkind === "time" ? Date.parse(String(v).replace(" ", "T") + "Z") : Number(v));
      this.load([conv(a), conv(b)]);
    } else if (e["xaxis.autorange"]) {
      this.load(null);
    }
  }

  onPoints(ev) {
    const rows = ev.points[this.key];
    if (!rows) return;
    const i = this.traces.findIndex((t) => t.run === ev.run);
    if (i < 0) {  // the first points of a run in this chart: load it
      if (this.runs.some((r) => r.id === ev.run)) this.reload();
      return;
    }
    const t = this.traces[i];
    if (ev.seq <= t.seq) return;
    t.seq = ev.seq;
    const xs = [], ys = [];
    for (const [step, ts, v] of rows) {
      const y = toNumber(v);
      if (!Number.isFinite(y)) continue;
      xs.push(this.xkind === "step" ? step : this.xkind === "time" ? ts * 1000 : ts - t.start);
      ys.push(y);
    }
    if (!xs.length || !this.div.data) return;
    Plotly.extendTraces(this.div, {x: [xs], y: [ys]}, [i]);
    if (this.div.data[i].x.length > 3 * TARGET && !this.range) this.reload();  // keep about TARGET points drawn
  }
}

// ------------------------------------------------------------------------------------------------
// hyperparameter sensitivity: parallel coordinates (SVG lines, no WebGL) and score against each parameter
// ------------------------------------------------------------------------------------------------
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
function colorAt(t) {
  if (!Number.isFinite(t)) return "#999";
  return VIRIDIS[Math.max(0, Math.min(VIRIDIS.length - 1, Math.round(t * (VIRIDIS.length - 1))))];
}

function dimensionsOf(runs, keys) {
  return keys.map((k) => {
    const raw = runs.map((r) => r.params[k]);
    const nums = raw.map(toNumber);
    const numeric = nums.every((v, i) => raw[i] === undefined || Number.isFinite(v));
    if (numeric) {
      const fin = nums.filter(Number.isFinite);
      const min = Math.min(...fin), max = Math.max(...fin);
      return {key: k, numeric: true, values: nums, min, max, log: min > 0 && max / min >= 100};
    }
    const cats = [...new Set(raw.map((v) => (v === undefined ? "(none)" : v)))].sort();
    return {key: k, numeric: false, cats, values: raw.map((v) => cats.indexOf(v === undefined ? "(none)" : v))};
  });
}

function sensitivity(parent, runs, title) {
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort()
    .filter((k) => new Set(runs.map((r) => r.params[k])).size > 1);
  if (!metricKeys.length || !paramKeys.length || runs.length < 2) return;
  let metric = primaryMetric(metricKeys);
  const p = panel(title || "Hyperparameter sensitivity", {chart: true, wide: true});
  p.body.classList.add("parcoords");
  const per = el("div", {class: "grid small-multiples"});
  const sel = el("select", {"aria-label": "score", onchange: (e) => { metric = e.target.value; draw(); }},
    metricKeys.map((k) => el("option", {value: k, selected: k === metric, text: k})));
  p.tools.append(sel);
  exportButtons(p.tools, p.body, "sensitivity", (fmt) => {
    const rows = runs.map((r) => Object.assign({run_id: r.id, name: r.name}, Object.fromEntries(paramKeys.map((k) => [`params.${k}`, r.params[k]])), {[`metrics.${metric}`]: r.metrics[metric]}));
    if (fmt === "json") return JSON.stringify(rows);
    const cols = Object.keys(rows[0]);
    return [cols.join(","), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(","))].join("\n") + "\n";
  });
  p.root.appendChild(per);
  parent.appendChild(p.root);

  function draw() {
    const dims = dimensionsOf(runs, paramKeys.slice(0, 12));
    const scores = runs.map((r) => toNumber(r.metrics[metric]));
    const fin = scores.filter(Number.isFinite);
    const lo = Math.min(...fin), hi = Math.max(...fin);
    const allDims = [...dims, {key: metric, numeric: true, values: scores, min: lo, max: hi, score: true}];
    const norm = (d, v) => {
      if (!d.numeric) return d.cats.length > 1 ? v / (d.cats.length - 1) : 0.5;
      if (!(d.max > d.min)) return 0.5;
      return d.log ? Math.log(v / d.min) / Math.log(d.max / d.min) : (v - d.min) / (d.max - d.min);
    };
    const order = scores.map((s, i) => i).sort((a, b) => (Number.isFinite(scores[a]) ? scores[a] : -Infinity) - (Number.isFinite(scores[b]) ? scores[b] : -Infinity));
    if (lowerIsBetter(metric)) order.reverse();  // the best drawn last, on top
    const data = order.map((i) => ({type: "scatter", mode: "lines+markers", x: allDims.map((d, j) => j),
      y: allDims.map((d) => norm(d, d.values[i])), line: {color: colorAt(hi > lo ? (lowerIsBetter(metric) ? (hi - scores[i]) / (hi - lo) : (scores[i] - lo) / (hi - lo)) : 0.5), width: 1.5},
      marker: {size: 4}, name: ptext(runs[i].name), showlegend: false,
      hovertemplate: `${ptext(runs[i].name)}<br>${ptext(metric)} = ${ptext(num(scores[i]))}<extra></extra>`}));
    const annotations = [];
    allDims.forEach((d, j) => {
      const top = d.numeric ? num(d.max) : d.cats[d.cats.length - 1];
      const bottom = (d.numeric ? num(d.min) : d.cats[0]) + (d.log ? " (log)" : "");
      annotations.push({x: j, y: 1.04, text: ptext(top), showarrow: false, yanchor: "bottom", font: {size: 10}});
      annotations.push({x: j, y: -0.04, text: ptext(bottom), showarrow: false, yanchor: "top", font: {size: 10}});
    });
    const shapes = allDims.map((d, j) => ({type: "line", x0: j, x1: j, y0: 0, y1: 1, line: {color: themeLayout().xaxis.linecolor, width: 1}}));
    newPlot(p.body, data, baseLayout({showlegend: false, annotations, shapes, margin: {l: 24, r: 24, t: 40, b: 70},
      xaxis: {tickvals: allDims.map((d, j) => j), ticktext: allDims.map((d) => ptext(d.key)), showgrid: false, zeroline: false, range: [-0.3, allDims.length - 0.7]},
      yaxis: {visible: false, range: [-0.15, 1.15]}}));
    const shown = dims.slice(0, 8);
    const divs = shown.map(() => el("div", {class: "chart mini"}));
    per.replaceChildren(...divs);
    for (const [di, d] of shown.entries()) {
      const div = divs[di];
      const x = d.numeric ? d.values : d.values.map((v) => d.cats[v]);
      const logx = d.numeric && d.log;
      newPlot(div, [{type: "scatter", mode: "markers", x: x.map((v) => (d.numeric ? v : ptext(v))), y: scores,
        text: runs.map((r) => ptext(r.name)), marker: {size: 7, color: scores, colorscale: "Viridis", reversescale: lowerIsBetter(metric)},
        hovertemplate: "%{text}<br>%{x}: %{y}<extra></extra>"}],
      baseLayout({margin: {l: 52, r: 12, t: 10, b: 48}, xaxis: {title: {text: ptext(d.key)}, type: logx ? "log" : d.numeric ? "linear" : "category"},
        yaxis: {title: {text: ptext(metric)}}}));
    }
  }
  draw();
}

// ------------------------------------------------------------------------------------------------
// classifier report and feature importance
// ------------------------------------------------------------------------------------------------
async function classifierPanels(grid, run) {
  let rep;
  try { rep = await api(`/api/runs/${encodeURIComponent(run.id)}/classifier`); } catch (e) { return; }
  const labels = rep.labels.map((l) => ptext(l));
  const cm = panel("Confusion matrix", {chart: true});
  grid.appendChild(cm.root);
  const z = rep.confusion_matrix;
  const idx = labels.map((l, i) => i);
  const peak = Math.max(...z.flat());
  const ann = [];
  z.forEach((row, i) => row.forEach((v, j) => ann.push({x: j, y: i, text: String(v), showarrow: false,
    font: {color: v > peak / 2 ? "#fff" : "#111", size: 14}})));
  newPlot(cm.body, [{type: "heatmap", z, x: idx, y: idx, colorscale: "Blues", reversescale: true, showscale: false, xgap: 1, ygap: 1,
    customdata: z.map((row, i) => row.map((v, j) => [labels[i], labels[j]])),
    hovertemplate: "true %{customdata[0]}, predicted %{customdata[1]}: %{z}<extra></extra>"}],
  baseLayout({annotations: ann, xaxis: {title: {text: "predicted"}, tickvals: idx, ticktext: labels, showgrid: false, zeroline: false},
    yaxis: {title: {text: "true"}, tickvals: idx, ticktext: labels, autorange: "reversed", showgrid: false, zeroline: false}}));
  exportButtons(cm.tools, cm.body, "confusion_matrix", (fmt) => (fmt === "json" ? JSON.stringify({labels: rep.labels, confusion_matrix: z})
    : [["true\\predicted", ...rep.labels].map(csvCell).join(","), ...z.map((row, i) => [csvCell(rep.labels[i]), ...row].join(","))].join("\n") + "\n"));
  for (const [name, xk, yk, xl, yl, auc] of [["ROC", "fpr", "tpr", "false positive rate", "true positive rate", "auc"],
    ["Precision-recall", "recall", "precision", "recall", "precision", "average_precision"]]) {
    const p = panel(`${name} curve`, {chart: true});
    grid.appendChild(p.root);
    const curves = rep[name === "ROC" ? "roc" : "pr"];
    const data = curves.map((c) => ({type: "scatter", mode: "lines", x: c[xk], y: c[yk], name: `${ptext(c.label)} (${name === "ROC" ? "AUC" : "AP"} ${num(c[auc])})`}));
    if (name === "ROC") data.push({type: "scatter", mode: "lines", x: [0, 1], y: [0, 1], line: {dash: "dot", color: "#888"}, name: "chance", hoverinfo: "skip"});
    newPlot(p.body, data, baseLayout({xaxis: {title: {text: xl}, range: [0, 1]}, yaxis: {title: {text: yl}, range: [0, 1.02]}}));
    exportButtons(p.tools, p.body, name, (fmt) => traceData(p.body, fmt));
  }
}

async function importancePanel(grid, run) {
  let imp;
  try { imp = await api(`/api/runs/${encodeURIComponent(run.id)}/importance`); } catch (e) { return; }
  const pairs = imp.names.map((n, i) => [n, toNumber(imp.values[i]), imp.std ? toNumber(imp.std[i]) : null])
    .filter((p) => Number.isFinite(p[1])).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, 30).reverse();
  const p = panel(`Feature importance (${imp.kind})`, {chart: true});
  grid.appendChild(p.root);
  const bar = {type: "bar", orientation: "h", x: pairs.map((q) => q[1]), y: pairs.map((q) => ptext(q[0])), marker: {color: "#4e79a7"}};
  if (pairs.some((q) => q[2] !== null)) bar.error_x = {type: "data", array: pairs.map((q) => q[2] || 0)};
  newPlot(p.body, [bar], baseLayout({margin: {l: 120, r: 16, t: 20, b: 40}, yaxis: {type: "category", automargin: true},
    xaxis: {title: {text: ptext(imp.source || imp.kind)}}, height: Math.max(300, 22 * pairs.length + 80)}));
  exportButtons(p.tools, p.body, "feature_importance", (fmt) => (fmt === "json" ? JSON.stringify(imp)
    : ["feature,value", ...imp.names.map((n, i) => `${csvCell(n)},${imp.values[i]}`)].join("\n") + "\n"));
}

// ------------------------------------------------------------------------------------------------
// live progress of running runs: step / trial, best so far, ETA when the total is known
// ------------------------------------------------------------------------------------------------
const TOTAL_KEYS = ["toolbox.total_steps", "total_steps", "max_steps", "max_iter", "n_iter", "epochs", "max_epochs", "n_estimators"];
function totalOf(r) {
  for (const k of TOTAL_KEYS) {
    const v = toNumber(r.tags[k] !== undefined ? r.tags[k] : r.params[k]);
    if (Number.isFinite(v) && v > 0) return Math.floor(v);
  }
  return null;
}

class Progress {
  constructor(parent, live) {
    this.live = live;
    this.runs = new Map();  // id -> {run, stats: {key: {step, n, min, max, last}}}
    const p = panel("Running now");
    p.root.classList.add("progress-panel");
    this.panel = p;
    this.body = p.body;
    parent.appendChild(p.root);
    live.on("points", (ev) => this.onPoints(ev));
    live.on("run", (ev) => this.onRun(ev.run));
    this.render = throttle(() => this._render(), 250);
    setInterval(() => this._render(), 1000);
  }

  async track(runs) {
    const running = runs.filter((r) => r.status === "running");
    for (const r of running) this.runs.set(r.id, {run: r, stats: {}});
    if (running.length) {
      const got = await api(`/api/progress?runs=${running.map((r) => encodeURIComponent(r.id)).join(",")}`);
      for (const [id, stats] of Object.entries(got.progress)) {
        const e = this.runs.get(id);
        if (e) for (const [k, s] of Object.entries(stats)) e.stats[k] = Object.assign(e.stats[k] || {}, s);
      }
    }
    this._render();
  }

  onRun(r) {
    const e = this.runs.get(r.id);
    if (r.status === "running") {
      if (e) e.run = r; else this.runs.set(r.id, {run: r, stats: {}});
    } else if (e) {
      e.run = r;
      e.ended = Date.now();
    }
    this.render();
  }

  onPoints(ev) {
    const e = this.runs.get(ev.run);
    if (!e) return;
    for (const [k, rows] of Object.entries(ev.points)) {
      const s = e.stats[k] || (e.stats[k] = {step: -1, n: 0, min: null, max: null});
      for (const [step, , v] of rows) {
        s.step = Math.max(s.step, step);
        s.n += 1;
        const y = toNumber(v);
        if (Number.isFinite(y)) {
          s.min = s.min === null ? y : Math.min(s.min, y);
          s.max = s.max === null ? y : Math.max(s.max, y);
          s.last = y;
        }
      }
    }
    this.render();
  }

  _render() {
    for (const [id, e] of this.runs) if (e.ended && Date.now() - e.ended > 10000) this.runs.delete(id);
    const rows = [...this.runs.values()];
    this.panel.root.hidden = rows.length === 0;
    if (!rows.length) return;
    const table = el("table", {class: "grid-table"}, el("thead", {}, el("tr", {}, ["run", "status", "step", "progress", "elapsed", "ETA", "metric", "latest", "best"].map((h) => el("th", {text: h})))));
    const tb = el("tbody");
    for (const {run, stats} of rows) {
      const keys = Object.keys(stats);
      const step = keys.length ? Math.max(...keys.map((k) => stats[k].step)) : -1;
      const total = totalOf(run);
      const elapsed = (run.end_time || Date.now() / 1000) - run.start_time;
      const done = step + 1;
      const eta = total && done > 0 && run.status === "running" ? (elapsed / done) * Math.max(total - done, 0) : null;
      const m = keys.length ? primaryMetric(keys) : null;
      const s = m ? stats[m] : null;
      const best = s ? (lowerIsBetter(m) ? s.min : s.max) : null;
      const bar = el("div", {class: "bar"}, el("span", {style: `width:${total ? Math.min(100, (100 * done) / total).toFixed(1) : 0}%`}));
      tb.appendChild(el("tr", {"data-run": run.id}, el("td", {}, runLink(run)), el("td", {}, badge(run.status)),
        el("td", {class: "n", text: step >= 0 ? (total ? `${done} / ${total}` : String(done)) : "-"}),
        el("td", {}, total ? bar : el("span", {class: "mut", text: "total unknown"})),
        el("td", {class: "n", text: duration(elapsed)}), el("td", {class: "n", text: eta === null ? "-" : duration(eta)}),
        el("td", {text: m || "-"}), el("td", {class: "n", text: s ? num(s.last) : ""}), el("td", {class: "n", text: best === null ? "" : num(best)})));
    }
    table.appendChild(tb);
    this.body.replaceChildren(el("div", {class: "scroll"}, table));
  }
}

// ------------------------------------------------------------------------------------------------
// the runs table: sortable, filterable (text, and the search_runs filter language), selectable
// ------------------------------------------------------------------------------------------------
class RunsTable {
  constructor(parent, opts) {
    this.opts = opts;
    this.runs = new Map();
    this.selected = new Set(opts.selected || []);
    this.sort = {col: "start_time", desc: true};
    this.text = "";
    const p = panel(opts.title || "Runs", {wide: true});
    this.panel = p;
    this.filterBox = el("input", {type: "search", placeholder: "filter: metrics.acc > 0.9 and params.C = '1'", class: "filter", "aria-label": "filter runs",
      onkeydown: (e) => { if (e.key === "Enter") this.reload(); }});
    this.textBox = el("input", {type: "search", placeholder: "find text", class: "find", "aria-label": "find text", oninput: (e) => { this.text = e.target.value.toLowerCase(); this.render(); }});
    this.error = el("div", {class: "error", role: "alert"});
    this.compareBtn = el("a", {class: "button", href: "#", text: "Compare selected", onclick: (e) => {
      if (this.selected.size < 1) { e.preventDefault(); return; }
      e.currentTarget.href = `/compare?runs=${[...this.selected].map(encodeURIComponent).join(",")}`;
    }});
    this.showChildren = !opts.childToggle;
    if (opts.childToggle) {
      p.tools.append(el("label", {class: "chk"}, el("input", {type: "checkbox", "aria-label": "show child runs",
        onchange: (e) => { this.showChildren = e.target.checked; this._render(); }}), "child runs"));
    }
    p.tools.append(this.textBox, this.filterBox, this.compareBtn);
    this.count = el("div", {class: "note"});
    p.body.append(this.error, el("div", {class: "scroll"}, this.tableEl = el("table", {class: "grid-table runs"})), this.count);
    parent.appendChild(p.root);
    this.render = throttle(() => this._render(), 200);
  }

  async reload() {
    const params = new URLSearchParams(this.opts.query || {});
    if (this.filterBox.value.trim()) params.set("filter", this.filterBox.value.trim());
    try {
      const got = await api(`/api/runs?${params}`);
      this.error.textContent = "";
      this.runs = new Map(got.runs.map((r) => [r.id, r]));
    } catch (e) {
      this.error.textContent = e.message;
      return;
    }
    this._render();
    if (this.opts.onLoad) this.opts.onLoad([...this.runs.values()]);
  }

  upsert(r) {
    if (this.opts.accept && !this.opts.accept(r)) return;
    if (this.filterBox.value.trim() && !this.runs.has(r.id)) { this.reloadSoon = this.reloadSoon || debounce(() => this.reload(), 500); this.reloadSoon(); return; }
    this.runs.set(r.id, r);
    this.render();
  }

  columns(runs) {
    const count = (attr) => {
      const seen = new Map();
      for (const r of runs) for (const [k, v] of Object.entries(r[attr])) {
        const s = seen.get(k) || new Set(); s.add(String(v)); seen.set(k, s);
      }
      return [...seen.entries()].sort((a, b) => (b[1].size > 1) - (a[1].size > 1) || a[0].localeCompare(b[0])).map((e) => e[0]);
    };
    return {params: count("params").filter((k) => !k.includes("__") || runs.length < 50).slice(0, 8),
      metrics: count("metrics").slice(0, 8)};
  }

  value(r, col) {
    if (col.startsWith("params.")) return r.params[col.slice(7)];
    if (col.startsWith("metrics.")) return toNumber(r.metrics[col.slice(8)]);
    if (col === "duration") return r.end_time ? r.end_time - r.start_time : null;
    return r[col];
  }

  _render() {
    let runs = [...this.runs.values()];
    if (!this.showChildren) runs = runs.filter((r) => !r.parent_id);
    if (this.text) {
      runs = runs.filter((r) => [r.name, r.id, r.status, ...Object.entries(r.params).flat(), ...Object.entries(r.tags).flat()]
        .some((s) => String(s).toLowerCase().includes(this.text)));
    }
    const {col, desc} = this.sort;
    runs.sort((a, b) => {
      let x = this.value(a, col), y = this.value(b, col);
      const nx = toNumber(x), ny = toNumber(y);
      if (Number.isFinite(nx) && Number.isFinite(ny)) { x = nx; y = ny; }
      if (x === undefined || x === null || (typeof x === "number" && Number.isNaN(x))) return 1;
      if (y === undefined || y === null || (typeof y === "number" && Number.isNaN(y))) return -1;
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, {numeric: true});
      return desc ? -c : c;
    });
    const cols = this.columns([...this.runs.values()]);
    const head = [["name", "name"], ["status", "status"], ["start_time", "started"], ["duration", "duration"],
      ...cols.params.map((k) => [`params.${k}`, k]), ...cols.metrics.map((k) => [`metrics.${k}`, k])];
    const all = el("input", {type: "checkbox", "aria-label": "select all", checked: runs.length > 0 && runs.every((r) => this.selected.has(r.id)),
      onchange: (e) => { for (const r of runs) if (e.target.checked) this.selected.add(r.id); else this.selected.delete(r.id); this.changed(); }});
    const thead = el("thead", {}, el("tr", {}, el("th", {}, all), head.map(([c, label]) => el("th", {
      class: `sortable ${c.startsWith("params.") ? "param" : c.startsWith("metrics.") ? "metric n" : ""} ${c === col ? (desc ? "desc" : "asc") : ""}`,
      title: c, "data-col": c, onclick: () => { this.sort = {col: c, desc: this.sort.col === c ? !this.sort.desc : c.startsWith("metrics.") || c === "start_time"}; this._render(); },
    }, label))));
    const tbody = el("tbody");
    for (const r of runs) {
      const cb = el("input", {type: "checkbox", "aria-label": "select run", checked: this.selected.has(r.id),
        onchange: (e) => { if (e.target.checked) this.selected.add(r.id); else this.selected.delete(r.id); this.changed(); }});
      tbody.appendChild(el("tr", {"data-run": r.id, class: this.selected.has(r.id) ? "sel" : ""},
        el("td", {}, cb), el("td", {class: "name"}, r.parent_id ? el("span", {class: "mut", text: "└ "}) : null, runLink(r)),
        el("td", {}, badge(r.status)), el("td", {class: "nowrap", text: when(r.start_time)}),
        el("td", {class: "n", text: r.end_time ? duration(r.end_time - r.start_time) : r.status === "running" ? "running" : "-"}),
        cols.params.map((k) => el("td", {class: "param", text: r.params[k] === undefined ? "" : r.params[k]})),
        cols.metrics.map((k) => el("td", {class: "n", text: num(r.metrics[k])}))));
    }
    this.tableEl.replaceChildren(thead, tbody);
    this.count.textContent = `${runs.length} of ${this.runs.size} runs; ${this.selected.size} selected`;
    this.compareBtn.classList.toggle("disabled", this.selected.size < 1);
  }

  changed() {
    this._render();
    if (this.opts.onSelect) this.opts.onSelect([...this.selected].map((id) => this.runs.get(id)).filter(Boolean));
  }
}

// ------------------------------------------------------------------------------------------------
// pages
// ------------------------------------------------------------------------------------------------
const main = document.getElementById("main");
const page = document.body.dataset.page;
const ident = document.body.dataset.id;

function kv(title, obj, fmt) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return null;
  const p = panel(title);
  p.body.appendChild(el("div", {class: "scroll"}, el("table", {class: "kv"}, el("tbody", {},
    entries.map(([k, v]) => el("tr", {}, el("th", {text: k}), el("td", {text: fmt ? fmt(v) : String(v)})))))));
  return p.root;
}

async function experimentsPage() {
  const live = new Live({all_runs: true, points: false});
  const p = panel("Experiments", {wide: true});
  const prog = el("div", {class: "grid"});
  main.replaceChildren(p.root, prog);
  const progress = new Progress(prog, live);
  const draw = async () => {
    const got = await api("/api/experiments");
    const rows = got.experiments.map((e) => el("tr", {}, el("td", {}, el("a", {href: `/experiments/${e.id}`, text: e.name})),
      el("td", {class: "n", text: String(e.n_runs)}), el("td", {class: "n", text: String(e.n_running)}), el("td", {class: "nowrap", text: when(e.created_at)})));
    p.body.replaceChildren(got.experiments.length ? el("div", {class: "scroll"}, el("table", {class: "grid-table"},
      el("thead", {}, el("tr", {}, ["experiment", "runs", "running", "created"].map((h) => el("th", {text: h})))), el("tbody", {}, rows)))
      : el("p", {class: "mut", text: "No experiments yet: log a run with toolbox.tracking and it appears here."}));
  };
  await live.ready;
  await draw();
  const running = await api("/api/runs?filter=" + encodeURIComponent("attributes.status = 'running'"));
  await progress.track(running.runs);
  live.on("run", throttle(draw, 500));
}

async function experimentPage() {
  const eid = Number(ident);
  const live = new Live({experiment: eid, runs: [], points: true});
  await live.ready;
  const exps = await api("/api/experiments");
  const exp = exps.experiments.find((e) => e.id === eid);
  main.replaceChildren(el("h1", {}, el("a", {href: "/", text: "Experiments"}), " / ", exp ? exp.name : `#${eid}`));
  const top = el("div", {class: "grid"});
  const charts = el("div", {class: "grid"});
  main.append(top, charts);
  const progress = new Progress(top, live);
  let chart = null;
  const showCurves = (runs) => {
    const picked = runs.length > 0;
    const chosen = picked ? runs : [...table.runs.values()].filter((r) => !r.parent_id && Object.keys(r.metrics).length)
      .sort((a, b) => b.start_time - a.start_time).slice(0, 6);
    live.update({experiment: eid, runs: chosen.map((r) => r.id), points: true});
    const freq = new Map();
    for (const r of chosen) for (const k of Object.keys(r.metrics)) freq.set(k, (freq.get(k) || 0) + 1);
    const keys = [...freq.keys()].sort();
    const top = Math.max(0, ...freq.values());
    const key = chart && keys.includes(chart.key) ? chart.key : primaryMetric(keys.filter((k) => freq.get(k) === top));
    charts.replaceChildren();
    chart = null;
    if (!keys.length) return;
    chart = new CurveChart(charts, live, chosen, keys, key);
    chart.load();
    if (picked && chosen.length > 2) sensitivity(charts, chosen, "Selected runs: parameters against score");
  };
  const table = new RunsTable(main, {query: {experiment: eid}, title: "Runs", childToggle: true, accept: (r) => r.experiment_id === eid,
    onSelect: debounce(showCurves, 300), onLoad: (runs) => { progress.track(runs); if (!chart) showCurves([]); }});
  await table.reload();
  live.on("run", (ev) => table.upsert(ev.run));
}

async function runPage() {
  const live = new Live({runs: [ident], points: true});
  await live.ready;
  let run;
  try { run = (await api(`/api/runs/${encodeURIComponent(ident)}`)).run; } catch (e) {
    main.replaceChildren(el("p", {class: "error", text: e.message}));
    return;
  }
  const head = el("div", {class: "runhead"},
    el("h1", {}, el("a", {href: `/experiments/${run.experiment_id}`, text: run.experiment}), " / ", el("span", {class: "run-name", text: run.name}), " ", badge(run.status)),
    el("div", {class: "mut"}, `id ${run.id} · started ${when(run.start_time)} · `, run.end_time ? `took ${duration(run.end_time - run.start_time)}` : "running",
      run.parent_id ? [" · parent ", el("a", {href: `/runs/${encodeURIComponent(run.parent_id)}`, text: run.parent_id.slice(0, 12)})] : null));
  main.replaceChildren(head);
  const grid = el("div", {class: "grid"});
  main.appendChild(grid);
  const progress = new Progress(grid, live);
  progress.track([run]);
  live.on("run", (ev) => {
    if (ev.run.id === run.id) {
      head.querySelector(".badge").replaceWith(badge(ev.run.status));
      const added = Object.keys(ev.run.metrics).filter((k) => !(k in run.metrics));
      run = Object.assign(run, ev.run);
      if (added.length && !chartsMade.length) makeCharts();
    }
  });
  const chartsMade = [];
  const chartGrid = el("div", {class: "grid"});
  main.appendChild(chartGrid);
  const makeCharts = () => {
    const counts = run.metric_points || {};
    const keys = Object.keys(run.metrics).sort().filter((k) => (counts[k] || 0) > 1 || run.status === "running");
    if (!keys.length) return;
    const first = primaryMetric(keys);
    const chosen = [first, ...keys.filter((k) => k !== first && !/^(split|rank_|std_|mean_fit|mean_score|fit_time|refit)/.test(k))].slice(0, 4);
    for (const k of chosen) {
      const c = new CurveChart(chartGrid, live, [run], keys, k);
      chartsMade.push(c);
      c.load();
    }
  };
  makeCharts();
  const reports = el("div", {class: "grid"});
  main.appendChild(reports);
  if (run.has_classifier_report) await classifierPanels(reports, run);
  if (run.has_importance) await importancePanel(reports, run);
  if (run.n_children) {
    const kids = (await api(`/api/runs?parent=${encodeURIComponent(run.id)}&limit=5000`)).runs;
    const sens = el("div", {class: "grid"});
    main.appendChild(sens);
    sensitivity(sens, kids, `Hyperparameter sensitivity (${kids.length} child runs)`);
    const t = new RunsTable(main, {query: {parent: run.id, limit: 5000}, title: "Child runs", accept: (r) => r.parent_id === run.id});
    t.runs = new Map(kids.map((r) => [r.id, r]));
    t._render();
    live.on("run", (ev) => t.upsert(ev.run));
  }
  const info = el("div", {class: "grid"});
  main.appendChild(info);
  for (const x of [kv("Parameters", run.params), kv("Latest metrics", run.metrics, num), kv("Tags", run.tags)]) if (x) info.appendChild(x);
  if (run.artifacts.length) {
    info.appendChild(kv("Artifacts", Object.fromEntries(run.artifacts.map((a) => [a.path, `${a.size.toLocaleString()} bytes`]))));
  }
}

async function comparePage() {
  const ids = (new URLSearchParams(location.search).get("runs") || "").split(",").filter(Boolean);
  if (!ids.length) {
    main.replaceChildren(el("h1", {text: "Compare runs"}), el("p", {class: "mut", text: "Select runs in an experiment's runs table, then press “Compare selected”."}));
    return;
  }
  const live = new Live({runs: ids, points: true});
  await live.ready;
  const runs = (await api(`/api/runs?ids=${ids.map(encodeURIComponent).join(",")}`)).runs;
  const order = new Map(ids.map((id, i) => [id, i]));
  runs.sort((a, b) => order.get(a.id) - order.get(b.id));
  const snap = el("a", {class: "button", href: `/export/compare.html?runs=${ids.map(encodeURIComponent).join(",")}`, download: "toolbox-comparison.html", text: "HTML snapshot"});
  main.replaceChildren(el("div", {class: "runhead"}, el("h1", {text: `Compare ${runs.length} runs`}), snap));
  const grid = el("div", {class: "grid"});
  main.appendChild(grid);
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const shared = keys.filter((k) => runs.filter((r) => k in r.metrics).length > 1);
  const first = keys.length ? primaryMetric(shared.length ? shared : keys) : null;
  const chosen = first ? [first, ...(shared.length ? shared : keys).filter((k) => k !== first && !/^(split|rank_|std_)/.test(k))].slice(0, 4) : [];
  for (const k of chosen) new CurveChart(grid, live, runs, keys, k).load();
  sensitivity(grid, runs, "Parameters against score");
  const p = panel("Side by side (differences in bold)", {wide: true});
  const pkeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const rows = [["status", runs.map((r) => r.status)], ["experiment", runs.map((r) => r.experiment)],
    ...pkeys.map((k) => [`params.${k}`, runs.map((r) => (r.params[k] === undefined ? "-" : r.params[k]))]),
    ...keys.map((k) => [`metrics.${k}`, runs.map((r) => num(r.metrics[k]) || "-")])];
  p.body.appendChild(el("div", {class: "scroll"}, el("table", {class: "grid-table"},
    el("thead", {}, el("tr", {}, el("th"), runs.map((r) => el("th", {}, runLink(r))))),
    el("tbody", {}, rows.map(([k, vals]) => el("tr", {class: new Set(vals).size > 1 ? "diff" : ""}, el("th", {text: k}), vals.map((v) => el("td", {text: v}))))))));
  main.appendChild(p.root);
}

async function modelsPage() {
  let got;
  try { got = await api("/api/models"); } catch (e) {
    main.replaceChildren(el("h1", {text: "Models"}), el("p", {class: "mut", text: e.message}));
    return;
  }
  main.replaceChildren(el("h1", {text: "Models"}));
  for (const [name, t] of Object.entries(got.tables)) {
    const p = panel(name.replace(/^registry_/, "").replace(/_/g, " "), {wide: true});
    const cell = (v, i) => {
      const isTime = /time|_at$/.test(t.columns[i]) && typeof v === "number" && v > 1e9;
      const text = isTime ? when(v) : v === null ? "" : typeof v === "number" ? num(v) : String(v);
      return el("td", {class: typeof v === "number" ? "n" : "", text});
    };
    const table = el("table", {class: "grid-table"}, el("thead", {}, el("tr", {}, t.columns.map((c) => el("th", {text: c})))),
      el("tbody", {}, t.rows.map((row) => el("tr", {}, row.map(cell)))));
    p.body.appendChild(t.rows.length ? el("div", {class: "scroll"}, table) : el("p", {class: "mut", text: "empty"}));
    main.appendChild(p.root);
  }
}

async function start() {
  api("/api/info").then((info) => {
    const m = document.getElementById("nav-models");
    if (m && info.models) m.hidden = false;
    document.title = `toolbox dashboard · ${info.store}`;
  }).catch(() => {});
  const pages = {experiments: experimentsPage, experiment: experimentPage, run: runPage, compare: comparePage, models: modelsPage};
  try {
    await (pages[page] || experimentsPage)();
    for (let i = 0; i < loading.length; i++) await loading[i].catch(() => null);  // (it may grow meanwhile)
    loading.length = 0;
  } catch (e) {
    main.appendChild(el("p", {class: "error", text: `Error: ${e.message}`}));
    throw e;
  }
  document.body.dataset.ready = "1";
}

start();
