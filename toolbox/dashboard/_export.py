"""Exports: metric histories as CSV or JSON (every point), and a self-contained HTML snapshot of a comparison."""

from __future__ import annotations

import csv
import datetime as _dt
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ._downsample import minmax_lttb
from ._queries import Queries, jsonable

__all__ = ["history_csv", "history_json", "plotly_js_path", "script_json", "snapshot_html"]


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` bundled with the ``plotly`` Python package (never a CDN)."""
    try:
        import plotly
    except ImportError as exc:
        raise ImportError("The dashboard needs plotly; install it with: pip install 'toolbox[dashboard]'") from exc
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"plotly is installed but has no bundled plotly.min.js at {path}.")
    return path


def _rows(q: Queries, run_ids: list[str], keys: list[str]) -> list[tuple[str, str, str, int, float, float]]:
    names = {r["id"]: r["name"] for r in q.runs(run_ids=run_ids, limit=None)}
    out = []
    for rid in run_ids:
        if rid not in names:
            continue
        for key in keys:
            step, ts, value = (a.copy() for a in q.series(rid, key).arrays())
            out += [(rid, names[rid], key, int(s), float(t), float(v)) for s, t, v in zip(step, ts, value)]
    return out


def history_csv(q: Queries, run_ids: list[str], keys: list[str]) -> str:
    """Every point of these metrics of these runs: ``run_id,run_name,metric,step,timestamp,value``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run_id", "run_name", "metric", "step", "timestamp", "value"])
    for rid, name, key, s, t, v in _rows(q, run_ids, keys):
        w.writerow([rid, name, key, s, repr(t), "nan" if v != v else repr(v)])
    return buf.getvalue()


def history_json(q: Queries, run_ids: list[str], keys: list[str]) -> dict[str, Any]:
    """Every point, grouped: ``{"runs": [{"id", "name", "metrics": {key: {"step", "timestamp", "value"}}}]}``."""
    by: dict[str, dict[str, Any]] = {}
    for rid, name, key, s, t, v in _rows(q, run_ids, keys):
        r = by.setdefault(rid, {"id": rid, "name": name, "metrics": {}})
        m = r["metrics"].setdefault(key, {"step": [], "timestamp": [], "value": []})
        m["step"].append(s)
        m["timestamp"].append(t)
        m["value"].append(v)
    return jsonable({"runs": list(by.values())})


def script_json(obj: Any) -> str:
    """JSON that is safe inside ``<script>``: ``<``, ``>``, ``&`` and line separators escaped."""
    text = json.dumps(jsonable(obj), allow_nan=False, separators=(",", ":"))
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(a, b)
    return text


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:.6g}")
    return "" if v is None else str(v)


def snapshot_html(q: Queries, run_ids: list[str], keys: list[str] | None = None, *, x: str = "step",
                  points: int = 2000) -> str:
    """A comparison of runs as one HTML file that opens offline: Plotly inline, curves downsampled, tables.

    Parameters
    ----------
    run_ids : list of str
    keys : list of str, optional
        Metrics to draw (default: every metric of the runs, at most 24).
    x : {"step", "relative"}
        The curves' x axis: step, or seconds since the run started.
    points : int
        Points per curve (min-max LTTB).
    """
    runs = q.runs(run_ids=run_ids, limit=None)
    order = {rid: i for i, rid in enumerate(run_ids)}
    runs.sort(key=lambda r: order.get(r["id"], 0))
    if keys is None:
        keys = sorted({k for r in runs for k in r["metrics"]})[:24]
    charts = []
    for key in keys:
        traces = []
        for r in runs:
            step, ts, value = q.series(r["id"], key).arrays()
            ok = np.isfinite(value)
            xs = step[ok] if x == "step" else ts[ok] - r["start_time"]
            ys = value[ok]
            if x != "step":
                o = np.argsort(xs, kind="stable")
                xs, ys = xs[o], ys[o]
            idx = minmax_lttb(xs, ys, points)
            if idx.size:
                traces.append({"type": "scatter", "mode": "lines", "name": r["name"],
                               "x": xs[idx].tolist(), "y": ys[idx].tolist()})
        if traces:
            charts.append({"key": key, "traces": traces})
    pkeys = sorted({k for r in runs for k in r["params"]})
    mkeys = sorted({k for r in runs for k in r["metrics"]})
    esc = html.escape
    head = "".join(f"<th>{esc(r['name'])}<br><small>{esc(r['id'][:12])}</small></th>" for r in runs)
    statuses = "".join(f"<td>{esc(r['status'])}</td>" for r in runs)
    body = [f"<tr><td>status</td>{statuses}</tr>"]
    for section, ks in (("params", pkeys), ("metrics", mkeys)):
        for k in ks:
            vals = [_fmt(r[section].get(k)) for r in runs]
            cls = ' class="diff"' if len(set(vals)) > 1 else ""
            body.append(f"<tr{cls}><td>{esc(section)}.{esc(k)}</td>{''.join(f'<td>{esc(v)}</td>' for v in vals)}</tr>")
    made = _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    title = "toolbox comparison: " + ", ".join(r["name"] for r in runs)
    plotly_js = plotly_js_path().read_text(encoding="utf-8").replace("</script", "<\\/script")
    xlabel = "step" if x == "step" else "seconds since start"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>
:root {{ color-scheme: light dark; --bg:#fff; --fg:#1b1f24; --mut:#59636e; --line:#d0d7de; }}
@media (prefers-color-scheme: dark) {{ :root {{ --bg:#0d1117; --fg:#e6edf3; --mut:#9198a1; --line:#30363d; }} }}
body {{ font: 14px system-ui, sans-serif; margin: 0 auto; padding: 16px; max-width: 1400px; background: var(--bg);
  color: var(--fg); }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 480px), 1fr)); gap: 12px; }}
.chart {{ border: 1px solid var(--line); border-radius: 6px; min-height: 340px; min-width: 0; }}
table {{ border-collapse: collapse; margin: 16px 0; display: block; overflow-x: auto; max-width: 100%; }}
td, th {{ border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }}
tr.diff td {{ font-weight: 600; }} small, .mut {{ color: var(--mut); }}
</style>
<script>{plotly_js}</script>
</head><body>
<h1>{esc(title)}</h1>
<p class="mut">Snapshot made {esc(made)} from {esc(q.display)} by the toolbox dashboard;
curves are min-max LTTB downsampled to about {points} points (true minimum and maximum kept).</p>
<div class="grid" id="charts"></div>
<table><thead><tr><th></th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>
<script>
const SNAPSHOT = {script_json({"charts": charts, "x": xlabel})};
const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
const grid = document.getElementById("charts");
for (const c of SNAPSHOT.charts) {{
  const div = document.createElement("div");
  div.className = "chart";
  grid.appendChild(div);
  Plotly.newPlot(div, c.traces, {{title: {{text: c.key}}, xaxis: {{title: {{text: SNAPSHOT.x}}}},
    template: dark ? {{layout: {{paper_bgcolor: "#0d1117", plot_bgcolor: "#0d1117", font: {{color: "#e6edf3"}}}}}} : undefined,
    margin: {{l: 50, r: 10, t: 40, b: 40}}, legend: {{orientation: "h"}}}}, {{responsive: true, displaylogo: false}});
}}
</script>
</body></html>
"""
