"""What the dashboard reads from the store: runs, metric series (cached as arrays), reports, registry tables.

Every read is a short read transaction. Metric histories are read once with
the driver's cursor (no ORM rows: a 10^6-point history is ~0.7 s) into NumPy
arrays kept in a bounded LRU cache; the change feed (:mod:`._live`) appends the
points logged afterwards, so a series is never read twice.
"""

from __future__ import annotations

import json
import math
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Queries", "Series", "jsonable"]

#: Parameters or tags read as the total number of steps of a run (for its ETA).
TOTAL_KEYS = ("toolbox.total_steps", "total_steps", "max_steps", "max_iter", "n_iter", "epochs", "max_epochs",
              "n_estimators")
REPORT_PATH = "toolbox/classifier_report.json"
IMPORTANCE_PATH = "toolbox/feature_importance.json"


def jsonable(v: Any) -> Any:
    """``v`` with non-finite floats as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (JSON has none)."""
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return jsonable(v.item())
    return v


def run_dict(r: Any) -> dict[str, Any]:
    """A :class:`~toolbox.tracking.RunRecord` as JSON-ready data."""
    return {"id": r.id, "name": r.name, "experiment": r.experiment, "experiment_id": r.experiment_id,
            "parent_id": r.parent_id, "status": r.status, "start_time": r.start_time, "end_time": r.end_time,
            "host": r.host, "pid": r.pid, "params": dict(r.params), "metrics": jsonable(dict(r.metrics)),
            "tags": dict(r.tags), "artifacts": [{"path": a.path, "size": a.size} for a in r.artifacts]}


class Series:
    """One metric history as growing arrays ``step``, ``ts``, ``value`` (NaN for NaN), sorted by step on read."""

    __slots__ = ("_sorted", "n", "step", "ts", "value")

    def __init__(self, step: np.ndarray, ts: np.ndarray, value: np.ndarray) -> None:
        self.step, self.ts, self.value = step, ts, value
        self.n = int(step.shape[0])
        self._sorted = bool(self.n < 2 or np.all(step[1:] >= step[:-1]))

    def append(self, rows: list[tuple[int, float, float]]) -> None:
        """Add ``(step, timestamp, value)`` points (amortised doubling)."""
        k = len(rows)
        if not k:
            return
        need = self.n + k
        if need > self.step.shape[0]:
            cap = max(need, 2 * self.step.shape[0], 64)
            for name in ("step", "ts", "value"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=old.dtype)
                new[:self.n] = old[:self.n]
                setattr(self, name, new)
        a = np.array(rows, dtype=np.float64).reshape(k, 3)
        self.step[self.n:need] = a[:, 0]
        self.ts[self.n:need] = a[:, 1]
        self.value[self.n:need] = a[:, 2]
        if self._sorted and ((self.n and a[0, 0] < self.step[self.n - 1]) or np.any(np.diff(a[:, 0]) < 0)):
            self._sorted = False
        self.n = need

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(step, ts, value)`` sorted by step (stable: logging order within a step)."""
        if not self._sorted:
            order = np.argsort(self.step[:self.n], kind="stable")
            for name in ("step", "ts", "value"):
                arr = getattr(self, name)
                arr[:self.n] = arr[:self.n][order]
            self._sorted = True
        return self.step[:self.n], self.ts[:self.n], self.value[:self.n]


class Queries:
    """The dashboard's reads over one store (``uri`` as for :func:`toolbox.tracking.set_store`).

    Parameters
    ----------
    uri : str
        A folder, ``sqlite:///file.db`` or ``postgresql://...``.
    artifact_root : str, optional
        Where the store's artifacts are (reports and models are read from it).
    cache_points : int, default=5_000_000
        Most metric points kept in memory (least recently used series go first).
    """

    def __init__(self, uri: str, artifact_root: str | None = None, *, cache_points: int = 5_000_000) -> None:
        from ..store import StoreReadOnlyError, open_store
        from ..tracking._sqlstore import TrackingStore

        self.uri = uri
        self.store = open_store(uri, artifact_root)
        self.dialect = self.store.dialect
        try:
            self.tracking = TrackingStore(self.store)
        except StoreReadOnlyError:  # a read-only store: leave the runs of dead processes as they are
            self.tracking = TrackingStore.__new__(TrackingStore)
            self.tracking.store = self.store
        self.lock = threading.RLock()
        self.cache_points = cache_points
        self._series: OrderedDict[tuple[str, str], Series] = OrderedDict()
        self._cached_points = 0
        #: the highest metric id whose point is in every cached series (set by the change feed)
        self.feed_last_id: int | None = None

    def close(self) -> None:
        """Close the store's connections."""
        self.store.close()

    @property
    def display(self) -> str:
        """The store's location (password hidden)."""
        return self.store.display

    # -- runs -----------------------------------------------------------------
    def experiments(self) -> list[dict[str, Any]]:
        """Every experiment with its number of runs and of running runs."""
        from sqlalchemy import func, select

        from ..store._schema import runs

        with self.store.read() as conn:
            running = dict(conn.execute(select(runs.c.experiment_id, func.count()).where(runs.c.status == "running")
                                        .group_by(runs.c.experiment_id)).all())
        return [{"id": e.id, "name": e.name, "created_at": e.created_at, "n_runs": e.n_runs,
                 "n_running": int(running.get(e.id, 0))} for e in self.tracking.list_experiments()]

    def runs(self, experiment_id: int | None = None, parent_id: str | None = None, filter: str | None = None,
             order_by: Any = None, limit: int | None = 2000, run_ids: list[str] | None = None) -> list[dict]:
        """Runs as dicts, newest first, narrowed by experiment, parent, ids and a ``search_runs`` filter."""
        from sqlalchemy import and_

        from ..store._schema import runs
        from ..tracking._search import compile_filter, compile_order

        conds = []
        cond = compile_filter(filter)
        if cond is not None:
            conds.append(cond)
        if experiment_id is not None:
            conds.append(runs.c.experiment_id == experiment_id)
        if parent_id is not None:
            conds.append(runs.c.parent_id == parent_id)
        if run_ids is not None:
            conds.append(runs.c.id.in_(list(run_ids)[:500]))
        recs = self.tracking.select_runs(and_(*conds) if conds else None, compile_order(order_by), limit)
        return [run_dict(r) for r in recs]

    def run(self, run_id: str) -> dict[str, Any]:
        """One run with its metric names, number of children and which reports it has."""
        from sqlalchemy import func, select

        from ..store._schema import runs

        d = run_dict(self.tracking.get_run(run_id))
        with self.store.read() as conn:
            d["n_children"] = int(conn.execute(select(func.count()).select_from(runs)
                                               .where(runs.c.parent_id == run_id)).scalar_one())
        paths = {a["path"] for a in d["artifacts"]}
        d["has_classifier_report"] = REPORT_PATH in paths
        d["has_importance"] = IMPORTANCE_PATH in paths or any(_model_folder(p) for p in paths)
        d["total_steps"] = total_steps(d)
        d["metric_points"] = {k: v["n"] for k, v in self.progress([run_id])[run_id].items()}
        return d

    def run_rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """``{id: run dict}`` of these runs (those that exist)."""
        from ..store._schema import runs

        if not ids:
            return {}
        out = {}
        for i in range(0, len(ids), 500):
            for r in self.tracking.select_runs(runs.c.id.in_(ids[i:i + 500])):
                out[r.id] = run_dict(r)
        return out

    def progress(self, run_ids: list[str]) -> dict[str, dict[str, Any]]:
        """For each run: per metric, the last step, the number of points and the min and max so far."""
        from sqlalchemy import func, select

        from ..store._schema import metrics

        out: dict[str, dict[str, Any]] = {r: {} for r in run_ids}
        if not run_ids:
            return out
        q = (select(metrics.c.run_id, metrics.c.key, func.max(metrics.c.step), func.count(),
                    func.min(metrics.c.value), func.max(metrics.c.value))
             .where(metrics.c.run_id.in_(run_ids[:500])).group_by(metrics.c.run_id, metrics.c.key))
        with self.store.read() as conn:
            for rid, key, step, n, lo, hi in conn.execute(q):
                out[rid][key] = {"step": int(step), "n": int(n), "min": lo, "max": hi}
        return out

    # -- metric series ----------------------------------------------------------
    def max_metric_id(self) -> int:
        """The highest metric id in the store (0 when empty)."""
        from sqlalchemy import func, select

        from ..store._schema import metrics

        with self.store.read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(metrics.c.id), 0))).scalar_one())

    def _read_points(self, run_id: str, key: str, lo: int | None, hi: int | None) -> np.ndarray:
        """``(n, 3)`` float array of ``step, ts, value`` with ``lo < id <= hi``, by step then id."""
        ph = "?" if self.dialect == "sqlite" else "%s"
        sql = f"SELECT step, timestamp, value FROM metrics WHERE run_id = {ph} AND key = {ph}"
        args: list[Any] = [run_id, key]
        if lo is not None:
            sql += f" AND id > {ph}"
            args.append(lo)
        if hi is not None:
            sql += f" AND id <= {ph}"
            args.append(hi)
        sql += " ORDER BY step" if self.dialect == "sqlite" else " ORDER BY step, id"  # SQLite: index order, then rowid
        with self.store.read() as conn:
            cur = conn.connection.dbapi_connection.cursor()
            try:
                cur.execute(sql, tuple(args))
                parts = []
                while True:
                    rows = cur.fetchmany(200_000)
                    if not rows:
                        break
                    parts.append(np.array(rows, dtype=np.float64).reshape(len(rows), 3))
            finally:
                cur.close()
        return np.concatenate(parts) if parts else np.empty((0, 3))

    def series(self, run_id: str, key: str) -> Series:
        """The full history of metric ``key`` of the run (cached; kept current by the change feed)."""
        k = (run_id, key)
        with self.lock:
            s = self._series.get(k)
            if s is not None:
                self._series.move_to_end(k)
                return s
            upto = self.feed_last_id
        a = self._read_points(run_id, key, None, upto)
        with self.lock:
            s = self._series.get(k)
            if s is not None:  # loaded meanwhile by another request
                return s
            if upto is not None and self.feed_last_id is not None and self.feed_last_id > upto:
                more = self._read_points(run_id, key, upto, self.feed_last_id)  # what the feed saw meanwhile
                a = np.concatenate([a, more])
            s = Series(a[:, 0].copy(), a[:, 1].copy(), a[:, 2].copy())
            if self.feed_last_id is None:  # no change feed: nothing keeps the cache current, do not keep it
                return s
            self._series[k] = s
            self._cached_points += s.n
            while self._cached_points > self.cache_points and len(self._series) > 1:
                _, old = self._series.popitem(last=False)
                self._cached_points -= old.n
            return s

    def add_points(self, rows: list[tuple[str, str, int, float, float | None]]) -> None:
        """Append new ``(run_id, key, step, ts, value)`` points to the cached series (the change feed calls it)."""
        by: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
        for r, k, step, ts, v in rows:
            by.setdefault((r, k), []).append((step, ts, math.nan if v is None else v))
        with self.lock:
            for k, pts in by.items():
                s = self._series.get(k)
                if s is not None:
                    s.append(pts)
                    self._cached_points += len(pts)

    def forget(self) -> None:
        """Drop every cached series (after runs were deleted and ids went back)."""
        with self.lock:
            self._series.clear()
            self._cached_points = 0

    # -- reports ------------------------------------------------------------------
    def _artifact_json(self, run: dict[str, Any], path: str) -> Any:
        rec = self.tracking.get_run(run["id"])
        for a in rec.artifacts:
            if a.path == path:
                return json.loads(self.store.artifacts.open_verified(a.digest))
        return None

    def classifier_report(self, run_id: str) -> Any:
        """The report logged by :func:`toolbox.tracking.log_classifier_report`, or None."""
        return self._artifact_json({"id": run_id}, REPORT_PATH)

    def importance(self, run_id: str) -> dict[str, Any] | None:
        """Feature importances: logged ones (permutation), else the logged model's ``feature_importances_``
        or coefficients, else None."""
        logged = self._artifact_json({"id": run_id}, IMPORTANCE_PATH)
        if logged is not None:
            return logged
        rec = self.tracking.get_run(run_id)
        folders: dict[str, list[Any]] = {}
        for a in rec.artifacts:
            f = _model_folder(a.path)
            if f:
                folders.setdefault(f, []).append(a)
        for folder, files in sorted(folders.items()):
            found = self._model_importance(folder, files)
            if found is not None:
                return found
        return None

    def _model_importance(self, folder: str, files: list[Any]) -> dict[str, Any] | None:
        from .. import io as tbio

        with tempfile.TemporaryDirectory(prefix="toolbox-dashboard-") as tmp:
            root = Path(tmp) / "model"
            for a in files:
                self.store.artifacts.export(a.digest, root / a.path[len(folder) + 1:])
            try:
                est = tbio.load(root)
            except Exception:
                return None
        est = getattr(est, "steps", [[None, est]])[-1][1]  # a Pipeline: its final estimator
        names = getattr(est, "feature_names_in_", None)
        for attr, kind in (("feature_importances_", "impurity"), ("coef_", "coefficient")):
            v = getattr(est, attr, None)
            if v is None:
                continue
            a = _host(v)
            if a.ndim == 2:  # one row per class: the mean absolute coefficient
                a = np.abs(a).mean(axis=0) if a.shape[0] > 1 else a[0]
                kind = "mean |coefficient|" if kind == "coefficient" and _host(v).shape[0] > 1 else kind
            feats = [str(n) for n in _host(names)] if names is not None else [f"x{i}" for i in range(a.shape[0])]
            return {"kind": kind, "names": feats, "values": jsonable(a.astype(float).tolist()),
                    "source": f"{folder} ({type(est).__name__}.{attr})"}
        return None

    # -- registry -------------------------------------------------------------------
    def registry_tables(self) -> list[str] | None:
        """The registry's tables in this store when ``toolbox.registry`` is importable and they exist, else None.

        They are the tables of :mod:`toolbox.store._schema` that tracking does not own, so the page
        shows whatever the registry keeps without knowing its layout in advance.
        """
        try:
            import toolbox.registry as registry
        except ImportError:
            return None
        if getattr(registry, "__file__", None) is None:  # a folder without __init__.py yet: not a package
            return None
        from sqlalchemy import inspect

        from ..store import _schema

        ours = {"toolbox_schema", "experiments", "runs", "params", "tags", "metrics", "artifacts", "latest_metrics"}
        wanted = [t for t in _schema.metadata.tables if t not in ours]
        with self.store.read() as conn:
            present = set(inspect(conn).get_table_names())
        found = [t for t in wanted if t in present]
        return found or None

    def registry(self, limit: int = 500) -> dict[str, Any] | None:
        """``{table: {"columns": [...], "rows": [[...]]}}`` of the registry's tables (see :meth:`registry_tables`)."""
        from sqlalchemy import select

        from ..store import _schema

        names = self.registry_tables()
        if names is None:
            return None
        out = {}
        with self.store.read() as conn:
            for name in names:
                t = _schema.metadata.tables[name]
                rows = conn.execute(select(t).limit(limit)).all()
                out[name] = {"columns": [c.name for c in t.columns],
                             "rows": [[jsonable(_plain(v)) for v in row] for row in rows]}
        return out


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


def _host(x: Any) -> np.ndarray:
    try:
        from ..backends import to_backend

        return np.asarray(to_backend(x, "numpy"))
    except Exception:
        return np.asarray(x)


def _model_folder(path: str) -> str | None:
    """``models/<name>`` for an artifact written by ``Run.log_model``."""
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) >= 3 and parts[0] == "models" else None


def total_steps(run: dict[str, Any]) -> int | None:
    """The number of steps a run announces (a tag or parameter of :data:`TOTAL_KEYS`), or None."""
    for key in TOTAL_KEYS:
        v = run["tags"].get(key, run["params"].get(key))
        if v is None:
            continue
        try:
            f = float(v)
        except ValueError:
            continue
        if math.isfinite(f) and f > 0:
            return int(f)
    return None
