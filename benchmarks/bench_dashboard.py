"""Dashboard benchmarks: the figures behind docs/dashboard.md, measured in real Chromium.

    python benchmarks/bench_dashboard.py [--points 200] [--postgres URL] [--out benchmarks/results/dashboard.json]

Measures

* **live latency**: another process logs one point of ``loss`` every 50 ms and
  notes the time ``log_metric`` returned; the page (``/runs/<id>``) notes when
  the point has been appended to its chart (``Plotly.extendTraces`` done, in the
  WebSocket handler). p50 / p95 / max over ``--points`` points, SQLite and
  (when a server is given) PostgreSQL. Same machine, same clock.
* **long series**: a run with 10^6 points of one metric. In the page: fetching
  the downsampled series (cold: the server reads the history from SQLite;
  warm: from its cache) and drawing it with ``Plotly.react``; the whole run
  page from navigation to charts drawn; a zoom to 1% of the range (detail
  fetched for the window and redrawn).

Needs the dashboard extra, Playwright for Python and Debian's chromium.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]

TRAINER = r"""
import sys, time
from toolbox import tracking
tracking.set_store(sys.argv[1])
n, pause = int(sys.argv[2]), float(sys.argv[3])
run = tracking.start_run("bench", name="latency")
run.log_metric("loss", 1.0, step=0)
run.flush()
print(run.id, flush=True)
sys.stdin.readline()  # the page is open
for step in range(1, n + 1):
    run.log_metric("loss", 1.0 / (step + 1), step=step)
    print(step, repr(time.time()), flush=True)  # the moment log_metric returned
    time.sleep(pause)
run.end()
"""

# appended after the chart's own handler: runs once the point is in the chart
HOOK = """() => { window.__arrivals = [];
  window.__toolboxLive.on('points', (ev) => { const now = performance.timeOrigin + performance.now();
    for (const p of (ev.points.loss || [])) window.__arrivals.push([p[0], now]); }); }"""



def _writer_linger_ms() -> float:
    """The tracking writer's default linger (what most of the latency is), in ms."""
    import inspect

    from toolbox.tracking._writer import MetricWriter

    return 1e3 * inspect.signature(MetricWriter.__init__).parameters["linger"].default

def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def latency(browser, store: str, n: int) -> dict:
    from toolbox.dashboard import serve

    proc = subprocess.Popen([sys.executable, "-c", TRAINER, store, str(n), "0.05"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    d = serve(store, quiet=True)
    try:
        page = browser.new_page()
        page.goto(f"{d.url.rstrip('/')}/runs/{run_id}")
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
        page.wait_for_function("() => document.querySelector('.curve') && document.querySelector('.curve').data")
        page.evaluate(HOOK)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        logged = {}
        for _ in range(n):
            step, t = proc.stdout.readline().split()
            logged[int(step)] = float(t)
        proc.wait(30)
        page.wait_for_function(f"() => window.__arrivals.length >= {n}", timeout=30_000)
        arrivals = {int(s): t / 1000.0 for s, t in page.evaluate("() => window.__arrivals")}
        drawn = page.evaluate("() => document.querySelector('.curve').data[0].x.length")
        page.close()
    finally:
        d.stop()
        proc.kill()
    lat = [(arrivals[s] - logged[s]) * 1000.0 for s in sorted(logged) if s in arrivals]
    return {"points": n, "received": len(lat), "drawn": drawn, "p50_ms": round(_pct(lat, 50), 1),
            "p95_ms": round(_pct(lat, 95), 1), "max_ms": round(max(lat), 1), "mean_ms": round(statistics.mean(lat), 1),
            "target_p95_ms": 200.0, "writer_linger_ms": _writer_linger_ms(), "feed_interval_ms": 25.0}


def long_series(browser, store: str, n: int) -> dict:
    from toolbox import tracking
    from toolbox.dashboard import serve
    from toolbox.tracking._run import _close_session

    tracking.set_store(store)
    t0 = time.perf_counter()
    y = np.cumsum(np.random.default_rng(0).standard_normal(n))
    with tracking.start_run("bench", name="million") as run:
        now = time.time()
        for i in range(0, n, 100_000):
            run._session.tracking.log_metric_batch(
                [(run.id, "loss", float(y[j]), j, now + j * 1e-3) for j in range(i, min(i + 100_000, n))])
    make_s = time.perf_counter() - t0
    _close_session()
    out = {"points": n, "store_write_s": round(make_s, 2)}
    d = serve(store, quiet=True)
    base = d.url.rstrip("/")
    draw = """async (url) => { const div = document.createElement('div'); div.style.height = '360px';
      document.getElementById('main').appendChild(div);
      const t0 = performance.now(); const s = await (await fetch(url)).json(); const t1 = performance.now();
      await Plotly.react(div, [{type: 'scatter', mode: 'lines', x: s.x, y: s.y}], {});
      const t2 = performance.now(); div.remove();
      return {fetch_ms: t1 - t0, draw_ms: t2 - t1, total_ms: t2 - t0, shown: s.x.length, total: s.n_total}; }"""
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/")
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
        url = f"/api/series?run={run.id}&key=loss&n=2000"
        out["cold"] = {k: round(v, 1) if isinstance(v, float) else v for k, v in page.evaluate(draw, url).items()}
        warm = [page.evaluate(draw, url) for _ in range(5)]
        out["warm_median"] = {k: round(statistics.median(w[k] for w in warm), 1) for k in ("fetch_ms", "draw_ms", "total_ms")}
        t = time.perf_counter()
        page.goto(f"{base}/runs/{run.id}")
        page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
        out["run_page_load_ms"] = round((time.perf_counter() - t) * 1000, 1)
        out["run_page_points_drawn"] = page.evaluate("() => document.querySelector('.curve').data[0].x.length")
        zoom = page.evaluate("""async () => { const div = document.querySelector('.curve');
          const t0 = performance.now(); const r = div.layout.xaxis.range;
          await Plotly.relayout(div, {'xaxis.range': [400000, 410000]});
          const until = performance.now() + 10000;
          while (performance.now() < until) { await new Promise((ok) => setTimeout(ok, 5));
            const x = div.data[0].x; if (x.length && x[0] >= 399000 && x[x.length - 1] <= 411000) break; }
          return {ms: performance.now() - t0, shown: div.data[0].x.length, range: r}; }""")
        out["zoom_1pct"] = {"ms": round(zoom["ms"], 1), "points_in_window": 10_001, "shown": zoom["shown"]}
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "bench-dashboard-million.png"))
        page.close()
    finally:
        d.stop()
    out["target_render_ms"] = 1000.0
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=200, help="live points timed per store (default 200)")
    ap.add_argument("--long", type=int, default=1_000_000, help="points of the long series (default 10^6)")
    ap.add_argument("--postgres", default=os.environ.get("TOOLBOX_TEST_POSTGRES_URL"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "dashboard.json"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    result: dict = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                                "cpus": os.cpu_count(), "load_avg_at_start": list(os.getloadavg()),
                                "chromium": subprocess.run([CHROMIUM, "--version"], capture_output=True,
                                                           text=True).stdout.strip()},
                    "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        result["latency_sqlite"] = latency(browser, str(Path(tmp) / "lat"), args.points)
        print("latency (SQLite):", result["latency_sqlite"], flush=True)
        if args.postgres:
            import uuid

            import psycopg

            schema = f"bench_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                sep = "&" if "?" in args.postgres else "?"
                uri = f"{args.postgres}{sep}options=-csearch_path%3D{schema}"
                os.environ["TOOLBOX_ARTIFACT_ROOT"] = str(Path(tmp) / "pg-artifacts")
                result["latency_postgresql"] = latency(browser, uri, args.points)
                print("latency (PostgreSQL):", result["latency_postgresql"], flush=True)
            finally:
                with psycopg.connect(args.postgres, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        result["long_series"] = long_series(browser, str(Path(tmp) / "long"), args.long)
        print("long series:", result["long_series"], flush=True)
        browser.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
