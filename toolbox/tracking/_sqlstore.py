"""Tracking operations over a :class:`toolbox.store.Store`: every write one short transaction.

Reads return the plain records of :mod:`._records`. A metric value NaN is
stored as NULL (SQLite has no NaN) and read back as NaN.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import socket
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update

from ..store import NotFoundError
from ..store._schema import artifacts, experiments, latest_metrics, metrics, params, runs, tags
from ._records import Artifact, Experiment, Metric, RunList, RunRecord, RunStatus

__all__ = ["TrackingStore"]

_CHUNK = 500  # ids per IN (...) list
HOST = socket.gethostname()


def _db_value(v: float) -> float | None:
    return None if v != v else v


def _py_value(v: float | None) -> float:
    return math.nan if v is None else float(v)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


class TrackingStore:
    """Runs, parameters, metrics, tags and artifacts in a :class:`toolbox.store.Store`.

    Opening one marks as ``killed`` the runs left ``running`` by processes of
    this host that no longer exist (a process killed with SIGKILL, a crash).
    """

    def __init__(self, store: Any) -> None:
        self.store = store
        self.mark_dead_runs_killed()

    # -- experiments ----------------------------------------------------------
    def experiment_id(self, name: str, *, create: bool = True) -> int:
        """The id of experiment ``name``, created if needed (``create=False``: NotFoundError)."""
        with self.store.read() as conn:
            eid = conn.execute(select(experiments.c.id).where(experiments.c.name == name)).scalar()
        if eid is not None:
            return int(eid)
        if not create:
            raise NotFoundError(f"No experiment named {name!r} in the store {self.store.display}.")
        with self.store.write() as conn:
            conn.execute(self.store.insert(experiments).values(name=name, created_at=time.time())
                         .on_conflict_do_nothing(index_elements=["name"]))
            return int(conn.execute(select(experiments.c.id).where(experiments.c.name == name)).scalar_one())

    def list_experiments(self) -> list[Experiment]:
        """Every experiment with its number of runs, oldest first."""
        n = (select(func.count()).select_from(runs).where(runs.c.experiment_id == experiments.c.id)
             .scalar_subquery())
        with self.store.read() as conn:
            rows = conn.execute(select(experiments.c.id, experiments.c.name, experiments.c.created_at, n)
                                .order_by(experiments.c.created_at, experiments.c.id)).all()
        return [Experiment(int(r[0]), r[1], float(r[2]), int(r[3])) for r in rows]

    # -- runs -----------------------------------------------------------------
    def create_run(self, experiment_id: int, name: str | None, parent_id: str | None,
                   run_tags: dict[str, str], start_time: float | None = None, *, run_id: str | None = None,
                   run_params: dict[str, str] | None = None, conn: Any = None) -> tuple[str, str]:
        """Insert a running run with its tags (and parameters); return ``(run id, name)``."""
        run_id = run_id or uuid.uuid4().hex
        name = name or f"run-{run_id[:8]}"
        start = time.time() if start_time is None else start_time
        with self._tx(conn) as conn:
            if parent_id is not None:
                self._check_run(conn, parent_id)
            conn.execute(_RUN_INSERT, {"id": run_id, "experiment_id": experiment_id, "parent_id": parent_id,
                                       "name": name, "status": RunStatus.RUNNING, "start_time": start,
                                       "end_time": None, "host": HOST, "pid": os.getpid()})
            if run_tags:
                conn.execute(tags.insert(), [{"run_id": run_id, "key": k, "value": v} for k, v in run_tags.items()])
            if run_params:
                conn.execute(params.insert(), [{"run_id": run_id, "key": k, "value": v}
                                               for k, v in run_params.items()])
        return run_id, name

    def create_finished_runs(self, experiment_id: int, parent_id: str, children: Sequence[dict[str, Any]],
                             conn: Any = None) -> list[str]:
        """Insert finished child runs in one transaction (a search's candidates).

        Each child is ``{"name", "status", "start_time", "end_time", "params": {k: str},
        "tags": {k: str}, "metrics": [(key, value, step, timestamp), ...]}``.
        """
        ids = [uuid.uuid4().hex for _ in children]
        run_rows, param_rows, tag_rows, metric_rows = [], [], [], []
        for run_id, child in zip(ids, children):
            run_rows.append({"id": run_id, "experiment_id": experiment_id, "parent_id": parent_id,
                             "name": child["name"], "status": child.get("status", RunStatus.FINISHED),
                             "start_time": child["start_time"], "end_time": child["end_time"],
                             "host": HOST, "pid": os.getpid()})
            param_rows += [{"run_id": run_id, "key": k, "value": v} for k, v in child.get("params", {}).items()]
            tag_rows += [{"run_id": run_id, "key": k, "value": v} for k, v in child.get("tags", {}).items()]
            metric_rows += [(run_id, k, v, s, t) for k, v, s, t in child.get("metrics", ())]
        with self._tx(conn) as conn:
            self._check_run(conn, parent_id)
            if run_rows:
                conn.execute(runs.insert(), run_rows)
            if param_rows:
                conn.execute(params.insert(), param_rows)
            if tag_rows:
                conn.execute(tags.insert(), tag_rows)
            self._insert_metrics(conn, metric_rows)
        return ids

    def end_run(self, run_id: str, status: str, end_time: float | None = None, conn: Any = None, *,
                tags: dict[str, str] | None = None) -> None:
        """Set a run's final status and end time (and, in the same transaction, ``tags``)."""
        if status not in RunStatus.ALL:
            raise ValueError(f"Unknown run status {status!r}; one of {RunStatus.ALL}.")
        if not isinstance(run_id, str):
            raise NotFoundError(self._unknown(run_id))
        with self._tx(conn) as conn:
            done = conn.execute(_RUN_END, {"run": run_id, "status": status,
                                           "end_time": time.time() if end_time is None else end_time})
            if done.rowcount == 0:  # no such run (one statement instead of a look-up first)
                raise NotFoundError(self._unknown(run_id))
            if tags:
                conn.execute(self._tag_upsert, [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items()])

    def mark_dead_runs_killed(self) -> list[str]:
        """Mark ``killed`` the running runs of this host whose process is gone; return their ids."""
        with self.store.read() as conn:
            rows = conn.execute(select(runs.c.id, runs.c.pid)
                                .where(runs.c.status == RunStatus.RUNNING, runs.c.host == HOST)).all()
        dead = [r[0] for r in rows if r[1] != os.getpid() and not _pid_alive(int(r[1]))]
        if dead:
            with self.store.write() as conn:
                for chunk in _chunks(dead):
                    conn.execute(update(runs).where(runs.c.id.in_(chunk), runs.c.status == RunStatus.RUNNING)
                                 .values(status=RunStatus.KILLED, end_time=time.time()))
        return dead

    def delete_runs(self, run_ids: Iterable[str]) -> list[str]:
        """Delete runs, their child runs and everything logged with them; return every id deleted."""
        run_ids = list(dict.fromkeys(run_ids))
        with self.store.write() as conn:
            for run_id in run_ids:
                self._check_run(conn, run_id)
            todo, seen = list(run_ids), list(run_ids)
            while todo:
                kids = [r[0] for chunk in _chunks(todo)
                        for r in conn.execute(select(runs.c.id).where(runs.c.parent_id.in_(chunk)))]
                todo = [k for k in kids if k not in seen]
                seen += todo
            for chunk in _chunks(seen):
                for table in (metrics, latest_metrics, params, tags, artifacts):
                    conn.execute(delete(table).where(table.c.run_id.in_(chunk)))
            for chunk in _chunks(seen[::-1]):  # children first (the parent foreign key)
                conn.execute(update(runs).where(runs.c.id.in_(chunk)).values(parent_id=None))
                conn.execute(delete(runs).where(runs.c.id.in_(chunk)))
        return seen

    # -- params, tags, artifacts ---------------------------------------------
    def log_params(self, run_id: str, values: dict[str, str], conn: Any = None) -> None:
        """Record parameters; re-logging one with the same value is a no-op, with another an error."""
        with self._tx(conn) as conn:
            self._check_run(conn, run_id)
            old = dict(conn.execute(select(params.c.key, params.c.value)
                                    .where(params.c.run_id == run_id, params.c.key.in_(list(values)))).all())
            for k, v in values.items():
                if k in old and old[k] != v:
                    raise ValueError(f"Parameter {k!r} of run {run_id} was already logged as {old[k]!r}; it cannot "
                                     f"be changed to {v!r} (parameters are immutable: log a metric or a tag, or "
                                     "start another run).")
            new = [{"run_id": run_id, "key": k, "value": v} for k, v in values.items() if k not in old]
            if new:
                conn.execute(params.insert(), new)

    def set_tags(self, run_id: str, values: dict[str, str], conn: Any = None) -> None:
        """Set tags (replacing earlier values)."""
        with self._tx(conn) as conn:
            self._check_run(conn, run_id)
            conn.execute(self._tag_upsert, [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()])

    @functools.cached_property
    def _tag_upsert(self) -> Any:
        """INSERT of tags replacing earlier values (built once: statements are reusable)."""
        ins = self.store.insert(tags)
        return ins.on_conflict_do_update(index_elements=["run_id", "key"], set_={"value": ins.excluded.value})

    @functools.cached_property
    def _latest_upsert(self) -> Any:
        """INSERT of latest metric values keeping the newer point (by step, then time)."""
        ins = self.store.insert(latest_metrics)
        newer = or_(ins.excluded.step > latest_metrics.c.step,
                    and_(ins.excluded.step == latest_metrics.c.step,
                         ins.excluded.timestamp >= latest_metrics.c.timestamp))
        return ins.on_conflict_do_update(
            index_elements=["run_id", "key"],
            set_={"value": ins.excluded.value, "step": ins.excluded.step, "timestamp": ins.excluded.timestamp},
            where=newer)

    def log_artifact(self, run_id: str, path: str, digest: str, size: int) -> None:
        """Record that ``path`` (in the run) holds the blob ``digest``."""
        with self.store.write() as conn:
            self._check_run(conn, run_id)
            ins = self.store.insert(artifacts).values(run_id=run_id, path=path, digest=digest, size=size,
                                                      created_at=time.time())
            conn.execute(ins.on_conflict_do_update(
                index_elements=["run_id", "path"],
                set_={"digest": ins.excluded.digest, "size": ins.excluded.size,
                      "created_at": ins.excluded.created_at}))

    # -- metrics --------------------------------------------------------------
    def log_metric_batch(self, rows: Sequence[tuple[str, str, float, int, float]], conn: Any = None) -> None:
        """Insert ``(run_id, key, value, step, timestamp)`` points in one transaction."""
        if rows:
            with self._tx(conn) as c:
                self._insert_metrics(c, rows)

    def _insert_metrics(self, conn: Any, rows: Sequence[tuple[str, str, float, int, float]]) -> None:
        if not rows:
            return
        _bulk_insert_metrics(conn, rows)
        last: dict[tuple[str, str], tuple[float, int, float]] = {}
        for r, k, v, s, t in rows:
            cur = last.get((r, k))
            if cur is None or (s, t) >= (cur[1], cur[2]):
                last[(r, k)] = (v, s, t)
        conn.execute(self._latest_upsert, [{"run_id": r, "key": k, "value": _db_value(v), "step": s, "timestamp": t}
                                           for (r, k), (v, s, t) in last.items()])

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of metric ``key`` of the run, by step then time."""
        with self.store.read() as conn:
            self._check_run(conn, run_id)
            rows = conn.execute(select(metrics.c.value, metrics.c.step, metrics.c.timestamp)
                                .where(metrics.c.run_id == run_id, metrics.c.key == key)
                                .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.id)).all()
        return [Metric(key, _py_value(v), int(s), float(t)) for v, s, t in rows]

    def count_metric_points(self, run_ids: Sequence[str] | None = None) -> int:
        """How many metric points are stored (for the given runs, or in all)."""
        q = select(func.count()).select_from(metrics)
        with self.store.read() as conn:
            if run_ids is None:
                return int(conn.execute(q).scalar_one())
            return sum(int(conn.execute(q.where(metrics.c.run_id.in_(c))).scalar_one()) for c in _chunks(run_ids))

    # -- reads ----------------------------------------------------------------
    def get_run(self, run_id: str) -> RunRecord:
        """The run ``run_id``; NotFoundError naming it if there is none."""
        with self.store.read() as conn:
            row = conn.execute(_run_select().where(runs.c.id == run_id)).first()
            if row is None:
                raise NotFoundError(self._unknown(run_id))
            return self.load(conn, [row])[0]

    def select_runs(self, where: Any = None, order_by: Sequence[Any] = (), limit: int | None = None) -> RunList:
        """Runs matching a SQLAlchemy condition on the ``runs`` table, in order, with their data."""
        q = _run_select()
        if where is not None:
            q = q.where(where)
        q = q.order_by(*order_by, runs.c.start_time.desc(), runs.c.id)
        if limit is not None:
            q = q.limit(limit)
        with self.store.read() as conn:
            return self.load(conn, conn.execute(q).all())

    def load(self, conn: Any, rows: Sequence[Any]) -> RunList:
        """Complete run rows with their params, latest metrics, tags and artifacts."""
        ids = [r.id for r in rows]
        data: dict[str, dict[str, Any]] = {i: {"params": {}, "metrics": {}, "tags": {}, "artifacts": []} for i in ids}
        for chunk in _chunks(ids):
            for rid, k, v in conn.execute(select(params.c.run_id, params.c.key, params.c.value)
                                          .where(params.c.run_id.in_(chunk))):
                data[rid]["params"][k] = v
            for rid, k, v in conn.execute(select(latest_metrics.c.run_id, latest_metrics.c.key, latest_metrics.c.value)
                                          .where(latest_metrics.c.run_id.in_(chunk))):
                data[rid]["metrics"][k] = _py_value(v)
            for rid, k, v in conn.execute(select(tags.c.run_id, tags.c.key, tags.c.value).where(tags.c.run_id.in_(chunk))):
                data[rid]["tags"][k] = v
            for rid, p, d, s in conn.execute(select(artifacts.c.run_id, artifacts.c.path, artifacts.c.digest,
                                                    artifacts.c.size).where(artifacts.c.run_id.in_(chunk))
                                             .order_by(artifacts.c.path)):
                data[rid]["artifacts"].append(Artifact(p, d, int(s)))
        out = RunList()
        for r in rows:
            d = data[r.id]
            out.append(RunRecord(
                id=r.id, experiment_id=int(r.experiment_id), experiment=r.experiment, name=r.name,
                parent_id=r.parent_id, status=r.status, start_time=float(r.start_time),
                end_time=None if r.end_time is None else float(r.end_time), host=r.host, pid=int(r.pid),
                params=dict(sorted(d["params"].items())), metrics=dict(sorted(d["metrics"].items())),
                tags=dict(sorted(d["tags"].items())), artifacts=tuple(d["artifacts"])))
        return out

    # -- helpers --------------------------------------------------------------
    def _tx(self, conn: Any) -> Any:
        """The caller's transaction (the writer thread batching several operations), else a new one."""
        return contextlib.nullcontext(conn) if conn is not None else self.store.write()

    def _unknown(self, run_id: str) -> str:
        return f"No run with id {run_id!r} in the store {self.store.display}."

    def _check_run(self, conn: Any, run_id: str) -> None:
        if not isinstance(run_id, str) or conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
            raise NotFoundError(self._unknown(run_id))


_METRIC_COLUMNS = ", ".join(c.name for c in metrics.columns if c.name != "id")
# statements of every run, built once (SQLAlchemy then reuses their compiled form)
_RUN_INSERT = runs.insert()
_RUN_END = (update(runs).where(runs.c.id == bindparam("run"))
            .values(status=bindparam("status"), end_time=bindparam("end_time")))


def _bulk_insert_metrics(conn: Any, rows: Sequence[tuple[str, str, float, int, float]]) -> None:
    """Append metric points in the caller's transaction: COPY on PostgreSQL, one executemany on SQLite.

    The statement text is fixed (no user text in it); the points travel as data. Both paths skip
    SQLAlchemy's per-row processing, which costs more than the database's work for many small rows.
    """
    data = [(r, k, None if v != v else v, s, t) for r, k, v, s, t in rows]
    if conn.dialect.name == "postgresql":
        driver = conn.connection.driver_connection  # the psycopg connection of this transaction
        with driver.cursor() as cur, cur.copy(f"COPY {metrics.name} ({_METRIC_COLUMNS}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(f"INSERT INTO {metrics.name} ({_METRIC_COLUMNS}) VALUES (?, ?, ?, ?, ?)", data)


def _run_select() -> Any:
    return (select(runs.c.id, runs.c.experiment_id, experiments.c.name.label("experiment"), runs.c.name,
                   runs.c.parent_id, runs.c.status, runs.c.start_time, runs.c.end_time, runs.c.host, runs.c.pid)
            .join_from(runs, experiments, runs.c.experiment_id == experiments.c.id))


def _chunks(items: Sequence[Any]) -> Iterable[list[Any]]:
    items = list(items)
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]
