"""The Starlette application: pages, JSON API, exports and the WebSocket, as plain route lists.

:func:`create_app` builds it for a store; tests drive it with Starlette's
``TestClient``, :func:`toolbox.dashboard.serve` runs it on uvicorn. Endpoints
that read the database are plain functions (Starlette runs them in its thread
pool); only the WebSocket is a coroutine.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from ._downsample import minmax_lttb, window
from ._live import ChangeFeed, websocket_endpoint
from ._queries import Queries, jsonable
from ._security import SecurityMiddleware, is_loopback

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"
PAGES = {"experiments", "experiment", "run", "compare", "models"}
MAX_POINTS = 20_000


def _json(data: Any, status: int = 200) -> Any:
    from starlette.responses import Response

    body = json.dumps(jsonable(data), allow_nan=False, separators=(",", ":"))
    return Response(body, status, media_type="application/json", headers={"cache-control": "no-store"})


def _error(status: int, message: str) -> Any:
    return _json({"error": message}, status)


def _q(request: Any) -> Queries:
    return request.app.state.queries


def _ids(text: str | None) -> list[str]:
    return [t for t in (text or "").split(",") if t][:200]


def _float(text: str | None) -> float | None:
    if text in (None, "", "null", "undefined"):
        return None
    v = float(text)
    return v if np.isfinite(v) else None


# --------------------------------------------------------------------------- #
# pages
# --------------------------------------------------------------------------- #
def _page(page: str, ident: str = "") -> Any:
    from starlette.responses import HTMLResponse

    esc = html.escape
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>toolbox dashboard</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/vendor/plotly.min.js" defer></script>
<script src="/static/app.js" defer></script>
</head><body data-page="{esc(page)}" data-id="{esc(ident)}">
<header class="top"><a class="brand" href="/">toolbox</a>
<nav><a href="/">Experiments</a><a href="/compare" id="nav-compare">Compare</a>
<a href="/models" id="nav-models" hidden>Models</a></nav>
<span id="live" class="live" title="live updates">connecting</span></header>
<main id="main"><p class="mut">Loading…</p></main>
</body></html>"""
    return HTMLResponse(body, headers={"cache-control": "no-store"})


def page_experiments(request: Any) -> Any:
    return _page("experiments")


def page_experiment(request: Any) -> Any:
    return _page("experiment", str(request.path_params["eid"]))


def page_run(request: Any) -> Any:
    return _page("run", request.path_params["run_id"])


def page_compare(request: Any) -> Any:
    return _page("compare")


def page_models(request: Any) -> Any:
    return _page("models")


def plotly_js(request: Any) -> Any:
    from starlette.responses import FileResponse

    from ._export import plotly_js_path

    return FileResponse(plotly_js_path(), media_type="text/javascript",
                        headers={"cache-control": "public, max-age=86400"})


def favicon(request: Any) -> Any:
    from starlette.responses import Response

    return Response(status_code=204)


# --------------------------------------------------------------------------- #
# API
# --------------------------------------------------------------------------- #
def api_info(request: Any) -> Any:
    from toolbox import __version__

    q = _q(request)
    return _json({"store": q.display, "seq": request.app.state.feed.seq, "version": __version__,
                  "models": q.registry_tables() is not None})


def api_experiments(request: Any) -> Any:
    return _json({"experiments": _q(request).experiments(), "seq": request.app.state.feed.seq})


def api_runs(request: Any) -> Any:
    from ..tracking import FilterSyntaxError

    p = request.query_params
    try:
        exp = int(p["experiment"]) if p.get("experiment") else None
        limit = min(int(p.get("limit") or 2000), 10_000)
        order = [o for o in p.getlist("order_by") if o] or None
        seq = request.app.state.feed.seq
        runs = _q(request).runs(exp, p.get("parent") or None, p.get("filter") or None, order, limit,
                                _ids(p.get("ids")) if p.get("ids") else None)
    except (FilterSyntaxError, ValueError) as exc:
        return _error(400, str(exc))
    return _json({"runs": runs, "seq": seq})


def api_run(request: Any) -> Any:
    from ..store import NotFoundError

    try:
        return _json({"run": _q(request).run(request.path_params["run_id"]), "seq": request.app.state.feed.seq})
    except NotFoundError as exc:
        return _error(404, str(exc))


def api_progress(request: Any) -> Any:
    return _json({"progress": _q(request).progress(_ids(request.query_params.get("runs")))})


def api_series(request: Any) -> Any:
    """One metric of one run for a chart: min-max LTTB to ``n`` points over the window ``[x0, x1]``."""
    p = request.query_params
    q: Queries = _q(request)
    run, key = p.get("run"), p.get("key")
    if not run or not key:
        return _error(400, "run and key are required")
    xkind = p.get("x") or "step"
    if xkind not in ("step", "time", "relative"):
        return _error(400, "x is one of step, time, relative")
    try:
        n = max(10, min(int(p.get("n") or 2000), MAX_POINTS))
        x0, x1 = _float(p.get("x0")), _float(p.get("x1"))
    except ValueError:
        return _error(400, "n, x0 and x1 are numbers")
    rows = q.run_rows([run])
    if run not in rows:
        return _error(404, f"No run with id {run!r}.")
    series = q.series(run, key)
    with q.lock:  # a consistent copy and the sequence number it is current to
        step, ts, value = (a.copy() for a in series.arrays())
        seq = request.app.state.feed.seq
    finite = np.isfinite(value)
    n_total = int(value.shape[0])
    if xkind == "step":
        xs = step
    elif xkind == "time":
        xs = ts * 1000.0  # Plotly date axes take milliseconds since the epoch
    else:
        xs = ts - rows[run]["start_time"]
    xs, ys = xs[finite], value[finite]
    if xkind != "step" and xs.shape[0] > 1 and np.any(xs[1:] < xs[:-1]):
        o = np.argsort(xs, kind="stable")
        xs, ys = xs[o], ys[o]
    w = window(xs, x0, x1)
    xs, ys = xs[w], ys[w]
    idx = minmax_lttb(xs, ys, n)
    return _json({"run": run, "key": key, "x_kind": xkind, "x": xs[idx].tolist(), "y": ys[idx].tolist(),
                  "n_total": n_total, "n_window": int(xs.shape[0]), "n_nonfinite": int(n_total - finite.sum()),
                  "downsampled": bool(idx.shape[0] < xs.shape[0]), "seq": seq,
                  "start_time": rows[run]["start_time"]})


def _report(request: Any, what: str) -> Any:
    from ..store import NotFoundError

    q = _q(request)
    try:
        data = q.classifier_report(request.path_params["run_id"]) if what == "classifier" \
            else q.importance(request.path_params["run_id"])
    except NotFoundError as exc:
        return _error(404, str(exc))
    if data is None:
        return _error(404, f"This run has no {what} report.")
    return _json(data)


def api_classifier(request: Any) -> Any:
    return _report(request, "classifier")


def api_importance(request: Any) -> Any:
    return _report(request, "importance")


def api_models(request: Any) -> Any:
    data = _q(request).registry()
    if data is None:
        return _error(404, "No model registry in this store (toolbox.registry is not installed or has no tables).")
    return _json({"tables": data})


# --------------------------------------------------------------------------- #
# exports
# --------------------------------------------------------------------------- #
def _export_args(request: Any) -> tuple[list[str], list[str] | None]:
    p = request.query_params
    keys = [k for k in p.getlist("key") if k] or ([k for k in (p.get("keys") or "").split(",") if k] or None)
    return _ids(p.get("runs")), keys


def export_history(request: Any) -> Any:
    from starlette.responses import Response

    from ._export import history_csv, history_json

    fmt = request.path_params["fmt"]
    if fmt not in ("csv", "json"):
        return _error(404, "history.csv or history.json")
    runs, keys = _export_args(request)
    if not runs:
        return _error(400, "runs is required")
    q = _q(request)
    if keys is None:
        keys = sorted({k for r in q.runs(run_ids=runs, limit=None) for k in r["metrics"]})
    disp = {"content-disposition": f'attachment; filename="metrics.{fmt}"', "cache-control": "no-store"}
    if fmt == "csv":
        return Response(history_csv(q, runs, keys), media_type="text/csv; charset=utf-8", headers=disp)
    return Response(json.dumps(history_json(q, runs, keys), allow_nan=False), media_type="application/json",
                    headers=disp)


def export_snapshot(request: Any) -> Any:
    from starlette.responses import HTMLResponse

    from ._export import snapshot_html

    runs, keys = _export_args(request)
    if not runs:
        return _error(400, "runs is required")
    x = "relative" if request.query_params.get("x") in ("time", "relative") else "step"
    return HTMLResponse(snapshot_html(_q(request), runs, keys, x=x),
                        headers={"content-disposition": 'attachment; filename="toolbox-comparison.html"',
                                 "cache-control": "no-store"})


# --------------------------------------------------------------------------- #
# the app
# --------------------------------------------------------------------------- #
def routes() -> list[Any]:
    """Every route of the dashboard."""
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles

    return [
        Route("/", page_experiments),
        Route("/experiments/{eid:int}", page_experiment),
        Route("/runs/{run_id}", page_run),
        Route("/compare", page_compare),
        Route("/models", page_models),
        Route("/favicon.ico", favicon),
        Route("/vendor/plotly.min.js", plotly_js),
        Route("/api/info", api_info),
        Route("/api/experiments", api_experiments),
        Route("/api/runs", api_runs),
        Route("/api/runs/{run_id}", api_run),
        Route("/api/runs/{run_id}/classifier", api_classifier),
        Route("/api/runs/{run_id}/importance", api_importance),
        Route("/api/progress", api_progress),
        Route("/api/series", api_series),
        Route("/api/models", api_models),
        Route("/export/history.{fmt:str}", export_history),
        Route("/export/compare.html", export_snapshot),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def default_store() -> tuple[str, str | None]:
    """The store tracking would use in this process: ``set_store``'s, else ``$TOOLBOX_TRACKING_URI``, else ``./toolbox-runs``."""
    try:
        from ..tracking._run import _wanted

        return _wanted()
    except ImportError:  # pragma: no cover - tracking is part of toolbox
        return os.environ.get("TOOLBOX_TRACKING_URI") or "toolbox-runs", os.environ.get("TOOLBOX_ARTIFACT_ROOT")


def create_app(store: str | os.PathLike | None = None, *, artifact_root: str | os.PathLike | None = None,
               host: str = "127.0.0.1", token: str | None = None, interval: float = 0.025) -> Any:
    """The dashboard's Starlette app for ``store`` (see :func:`toolbox.dashboard.serve` for the arguments).

    The store is opened here (a bad location fails now); the change feed runs
    while the app's lifespan does (``with TestClient(app):`` in tests).
    """
    try:
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
    except ImportError as exc:
        raise ImportError("The dashboard needs Starlette, uvicorn, websockets and plotly; install them with: "
                          "pip install 'toolbox[dashboard]'") from exc
    if token is None and not is_loopback(host):
        raise ValueError(f"Serving on {host!r} (not a loopback address) needs a token: pass token=... "
                         "(serve() makes one and prints it).")
    if store is None:
        uri, root = default_store()
        artifact_root = root if artifact_root is None else artifact_root
    else:
        uri = os.fspath(store)
    queries = Queries(uri, None if artifact_root is None else os.fspath(artifact_root))
    feed = ChangeFeed(queries, interval=interval)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        feed.start()
        try:
            yield
        finally:
            feed.stop()
            queries.close()

    app = Starlette(routes=routes(), lifespan=lifespan,
                    middleware=[Middleware(SecurityMiddleware, token=token, loopback_only=is_loopback(host))])
    app.state.queries = queries
    app.state.feed = feed
    app.state.token = token
    return app
