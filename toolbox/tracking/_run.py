"""Runs and the module-level tracking API: the store in use, the active run, logging, reads."""

from __future__ import annotations

import atexit
import contextvars
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._checks import check_name, check_step, metric_value, param_value
from ._records import Experiment, Metric, RunList, RunRecord, RunStatus

__all__ = [
    "DEFAULT_EXPERIMENT",
    "Run",
    "active_run",
    "delete_runs",
    "download_artifact",
    "end_run",
    "flush",
    "get_metric_history",
    "get_run",
    "get_store_uri",
    "list_experiments",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "search_runs",
    "set_store",
    "set_tag",
    "set_tags",
    "start_run",
]

DEFAULT_EXPERIMENT = "default"
DEFAULT_LOCATION = "toolbox-runs"
_EXTRA = "pip install 'toolbox[tracking]'"


# --------------------------------------------------------------------------- #
# the store in use
# --------------------------------------------------------------------------- #
class _Session:
    """An open store, its tracking operations and its metric writer."""

    def __init__(self, uri: str, artifact_root: str | None) -> None:
        try:
            import sqlalchemy  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"toolbox.tracking needs SQLAlchemy 2; install it with: {_EXTRA}") from exc
        from ..store import open_store
        from ._sqlstore import TrackingStore
        from ._writer import MetricWriter

        self.uri, self.artifact_root = uri, artifact_root
        self.store = open_store(uri, artifact_root)
        self.tracking = TrackingStore(self.store)
        self.writer = MetricWriter(self.tracking.log_metric_batch, transaction=self.store.write)
        self._experiments: dict[str, int] = {}

    def experiment_id(self, name: str) -> int:
        """The id of experiment ``name`` (created if needed), remembered for this session."""
        eid = self._experiments.get(name)
        if eid is None:
            eid = self._experiments[name] = self.tracking.experiment_id(name)
        return eid

    def close(self) -> None:
        try:
            self.writer.close()
        finally:
            self.store.close()


_LOCK = threading.RLock()
_EXPLICIT: tuple[str, str | None] | None = None
_SESSION: _Session | None = None


def _wanted() -> tuple[str, str | None]:
    if _EXPLICIT is not None:
        return _EXPLICIT
    return (os.environ.get("TOOLBOX_TRACKING_URI") or DEFAULT_LOCATION,
            os.environ.get("TOOLBOX_ARTIFACT_ROOT") or None)


def _session() -> _Session:
    global _SESSION
    wanted = _wanted()
    s = _SESSION
    if s is not None and (s.uri, s.artifact_root) == wanted:
        return s
    with _LOCK:
        s = _SESSION
        if s is not None and (s.uri, s.artifact_root) == wanted:
            return s
        new = _Session(*wanted)
        if s is not None:
            s.close()
        _SESSION = new
        return new


def set_store(uri: str | os.PathLike | None = None, artifact_root: str | os.PathLike | None = None) -> None:
    """Use the store at ``uri`` from now on (``None``: back to ``TOOLBOX_TRACKING_URI`` or ``./toolbox-runs``).

    Parameters
    ----------
    uri : str or path, optional
        A folder (SQLite database + artifacts inside), ``sqlite:///file.db``
        or ``postgresql://user:password@host:port/db``.
    artifact_root : str or path, optional
        Where artifacts are stored (default: beside the SQLite database, or
        ``TOOLBOX_ARTIFACT_ROOT``); a shared filesystem path for a team store.

    The store is opened (created, upgraded) here, so a bad location fails now.
    """
    global _EXPLICIT
    with _LOCK:
        old = _SESSION
        if old is not None:
            old.writer.flush()
        _EXPLICIT = None if uri is None else (os.fspath(uri), None if artifact_root is None else os.fspath(artifact_root))
        if uri is not None:
            _session()


def _close_session() -> None:
    """Flush and close the store in use, and forget it (tests; the next use opens the wanted one)."""
    global _SESSION, _EXPLICIT
    with _LOCK:
        s, _SESSION, _EXPLICIT = _SESSION, None, None
        _LIVE.clear()
        if s is not None:
            s.close()


def get_store_uri() -> str:
    """The location of the store in use (password hidden), opening it if needed."""
    return _session().store.display


# --------------------------------------------------------------------------- #
# runs
# --------------------------------------------------------------------------- #
_STACK: contextvars.ContextVar[tuple[Run, ...]] = contextvars.ContextVar("toolbox_tracking_runs", default=())
_LIVE: dict[str, Run] = {}


class Run:
    """A run being recorded; use it as a context manager (see :func:`start_run`).

    Metric points are queued and written by a background thread; params,
    tags and artifacts are written at once. Leaving the ``with`` block ends
    the run: ``finished``, ``failed`` (an exception, which is re-raised) or
    ``killed`` (``KeyboardInterrupt``), after writing every queued point.
    """

    def __init__(self, session: _Session, run_id: str, name: str, experiment: str, experiment_id: int,
                 parent_id: str | None, *, queued: bool = False) -> None:
        self._session = session
        # queued: params, tags and the end go through the writer thread too (autologged fits: the
        # training thread never waits on the store; errors surface at the next flush)
        self._queued = queued
        self._writer = session.writer
        self.id, self.name, self.experiment = run_id, name, experiment
        self.experiment_id, self.parent_id = experiment_id, parent_id
        self.status = RunStatus.RUNNING
        self._steps: dict[str, int] = {}
        self._token: contextvars.Token | None = None
        self._listener: Any = None

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.name!r} in {self.experiment!r}: {self.status}>"

    # -- context ----------------------------------------------------------------
    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.status != RunStatus.RUNNING:
            return
        if exc_type is None:
            self.end(RunStatus.FINISHED)
            return
        status = RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED
        try:
            self.set_tags({"toolbox.error": f"{exc_type.__name__}: {exc}"[:5000]})
        finally:
            self.end(status)

    def end(self, status: str = RunStatus.FINISHED, *, tags: Mapping[str, Any] | None = None) -> None:
        """Write every queued point, then set the final status and end time (once), with ``tags``."""
        if self.status != RunStatus.RUNNING:
            return
        if status not in RunStatus.ALL or status == RunStatus.RUNNING:
            raise ValueError(f"A run ends as 'finished', 'failed' or 'killed', not {status!r}.")
        values = {check_name("tag", k): param_value(v) for k, v in dict(tags).items()} if tags else None
        if self._queued:
            self.status = status
            _LIVE.pop(self.id, None)
            self._pop()
            run_id, end, tracking = self.id, time.time(), self._session.tracking
            # the tags go with the end: one step on the writer thread, one look-up less
            self._writer.put_op(lambda conn: tracking.end_run(run_id, status, end, conn=conn, tags=values))
            return
        if values:
            self._session.tracking.set_tags(self.id, values)
        try:
            self._writer.flush()
        finally:
            self.status = status
            _LIVE.pop(self.id, None)
            self._pop()
            self._session.tracking.end_run(self.id, status)

    def _pop(self) -> None:
        if self._listener is not None:
            cm, self._listener = self._listener, None
            try:
                cm.__exit__(None, None, None)
            except ValueError:  # ended from another context: that context's listener stays (it checks the run)
                pass
        stack = _STACK.get()
        if self in stack:
            if self._token is not None and stack and stack[-1] is self:
                try:
                    _STACK.reset(self._token)
                    return
                except ValueError:  # ended from another context
                    pass
            _STACK.set(tuple(r for r in stack if r is not self))

    def _check_running(self) -> None:
        if self.status != RunStatus.RUNNING:
            raise RuntimeError(f"Run {self.id} ({self.name!r}) has ended ({self.status}); start another run.")

    # -- logging ------------------------------------------------------------------
    def log_metric(self, name: str, value: Any, step: int | None = None) -> None:
        """Queue one point of metric ``name`` (NaN and ±inf are kept as such).

        ``step`` defaults to one past this metric's last step in this run
        (0 first). Costs a few microseconds: the point is written by a
        background thread (see :meth:`flush`).
        """
        check_name("metric", name)
        v = metric_value(name, value)
        step = self._steps.get(name, 0) if step is None else check_step(name, step)
        self._steps[name] = step + 1
        if self.status != RunStatus.RUNNING:
            self._check_running()
        self._writer.put((self.id, name, v, step, time.time()))

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Queue one point for each ``name: value`` (all at ``step`` when given)."""
        items = [(check_name("metric", k), metric_value(k, v)) for k, v in dict(metrics).items()]
        if step is not None:
            step = check_step(next(iter(metrics), "?"), step)
        self._check_running()
        now = time.time()
        for k, v in items:
            s = self._steps.get(k, 0) if step is None else step
            self._steps[k] = s + 1
            self._writer.put((self.id, k, v, s, now))

    def log_param(self, name: str, value: Any) -> None:
        """Record one parameter (see :meth:`log_params`)."""
        self.log_params({name: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters; logging one again with another value raises ``ValueError``.

        Values are stored as text: numbers and strings as ``str``, other
        objects as ``repr``.
        """
        values = {check_name("parameter", k): param_value(v) for k, v in dict(params).items()}
        if values:
            self._write(self._session.tracking.log_params, values)

    def set_tag(self, name: str, value: Any) -> None:
        """Set one tag (see :meth:`set_tags`)."""
        self.set_tags({name: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags (text; setting one again replaces it)."""
        values = {check_name("tag", k): param_value(v) for k, v in dict(tags).items()}
        if values:
            self._write(self._session.tracking.set_tags, values)

    def _write(self, method: Any, values: dict[str, str]) -> None:
        if self._queued:
            run_id = self.id
            self._writer.put_op(lambda conn: method(run_id, values, conn=conn))
        else:
            method(self.id, values)

    def log_artifact(self, path: str | os.PathLike, artifact_path: str | None = None) -> list[str]:
        """Copy a file (or every file under a folder) into the artifact root; return the paths in the run.

        The file is stored under ``[artifact_path/]<name>``; its content is
        addressed by sha256, written atomically, and verified when read back
        with :func:`download_artifact`.
        """
        src = Path(path)
        if artifact_path is not None:
            check_name("artifact path", artifact_path)
        prefix = f"{artifact_path}/" if artifact_path else ""
        if src.is_dir():
            files = sorted(p for p in src.rglob("*") if p.is_file())
            pairs = [(p, f"{prefix}{src.name}/{p.relative_to(src).as_posix()}") for p in files]
        elif src.is_file():
            pairs = [(src, f"{prefix}{src.name}")]
        else:
            raise FileNotFoundError(f"Cannot log the artifact {str(src)!r}: no such file or folder.")
        out = []
        for p, name in pairs:
            digest, size = self._session.store.artifacts.put_file(p)
            self._session.tracking.log_artifact(self.id, name, digest, size)
            out.append(name)
        return out

    def log_model(self, estimator: Any, name: str = "model") -> list[str]:
        """Save ``estimator`` with :func:`toolbox.io.save` and log the model folder as ``models/<name>``."""
        import tempfile

        try:
            from .. import io as tbio
        except ImportError as exc:  # pragma: no cover - toolbox.io is part of toolbox
            raise ImportError("log_model needs toolbox.io") from exc
        check_name("model", name)
        with tempfile.TemporaryDirectory(prefix="toolbox-model-") as tmp:
            folder = Path(tmp) / name
            tbio.save(estimator, folder)
            return self.log_artifact(folder, "models")

    def flush(self) -> None:
        """Wait until every queued metric point is in the store."""
        self._writer.flush()

    def record(self) -> RunRecord:
        """The run as stored now (params, latest metrics, tags, artifacts)."""
        self._writer.flush()
        return self._session.tracking.get_run(self.id)


def active_run() -> Run | None:
    """The innermost run started in this context and not yet ended, or None."""
    stack = _STACK.get()
    return stack[-1] if stack else None


def start_run(experiment: str | None = None, name: str | None = None, tags: Mapping[str, Any] | None = None,
              *, parent: Run | str | None = None) -> Run:
    """Start a run; use it as ``with tb.tracking.start_run("churn") as run:``.

    Parameters
    ----------
    experiment : str, optional
        Created if it does not exist. Default: the parent's experiment, or ``"default"``.
    name : str, optional
        Default ``run-<first 8 hex digits of the id>``.
    tags : dict, optional
        Set with the run, beside the ``toolbox.*`` system facts (versions, backend,
        device, host, git commit).
    parent : Run or run id, optional
        Default: the active run, so runs started inside another are its children.

    Returns
    -------
    Run
    """
    return _start_run(experiment, name, tags, parent=parent)


def _start_run(experiment: str | None, name: str | None, tags: Mapping[str, Any] | None, *,
               parent: Run | str | None = None, params: dict[str, str] | None = None,
               queued: bool = False) -> Run:
    """:func:`start_run`, with ``params`` written with the run and ``queued`` bookkeeping (autologging)."""
    from ._facts import system_tags

    session = _session()
    outer = active_run()
    if parent is None and outer is not None:
        parent = outer
    parent_id = parent.id if isinstance(parent, Run) else parent
    if experiment is None:
        if isinstance(parent, Run):
            experiment = parent.experiment
        elif parent_id is not None:
            experiment = session.tracking.get_run(parent_id).experiment
        else:
            experiment = DEFAULT_EXPERIMENT
    check_name("experiment", experiment)
    if name is not None and (not isinstance(name, str) or not name.strip() or len(name) > 256):
        raise ValueError(f"A run name is 1 to 256 characters of text, got {name!r}.")
    all_tags = system_tags()
    all_tags.update({check_name("tag", k): param_value(v) for k, v in dict(tags or {}).items()})
    eid = session.experiment_id(experiment)
    if queued:
        import uuid

        run_id, start = uuid.uuid4().hex, time.time()
        run_name = name or f"run-{run_id[:8]}"
        tracking = session.tracking
        session.writer.put_op(lambda conn: tracking.create_run(eid, run_name, parent_id, all_tags, start,
                                                               run_id=run_id, run_params=params, conn=conn))
    else:
        run_id, run_name = session.tracking.create_run(eid, name, parent_id, all_tags, run_params=params)
    run = Run(session, run_id, run_name, experiment, eid, parent_id, queued=queued)
    run._token = _STACK.set((*_STACK.get(), run))
    # scores reported by scorers and cross_validate in this block reach the run (when autologging)
    from .. import _hooks
    from ._autolog import on_metric

    run._listener = _hooks.metric_listener(on_metric)
    run._listener.__enter__()
    _LIVE[run_id] = run
    return run


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the active run (no error if there is none)."""
    run = active_run()
    if run is not None:
        run.end(status)


def _require_run() -> Run:
    run = active_run()
    if run is None:
        raise RuntimeError("No active run: log inside `with tb.tracking.start_run(...) as run:` "
                           "(or start one with tb.tracking.start_run()).")
    return run


def log_metric(name: str, value: Any, step: int | None = None) -> None:
    """:meth:`Run.log_metric` on the active run."""
    _require_run().log_metric(name, value, step)


def log_metrics(metrics: Mapping[str, Any], step: int | None = None) -> None:
    """:meth:`Run.log_metrics` on the active run."""
    _require_run().log_metrics(metrics, step)


def log_param(name: str, value: Any) -> None:
    """:meth:`Run.log_param` on the active run."""
    _require_run().log_param(name, value)


def log_params(params: Mapping[str, Any]) -> None:
    """:meth:`Run.log_params` on the active run."""
    _require_run().log_params(params)


def set_tag(name: str, value: Any) -> None:
    """:meth:`Run.set_tag` on the active run."""
    _require_run().set_tag(name, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """:meth:`Run.set_tags` on the active run."""
    _require_run().set_tags(tags)


def log_artifact(path: str | os.PathLike, artifact_path: str | None = None) -> list[str]:
    """:meth:`Run.log_artifact` on the active run."""
    return _require_run().log_artifact(path, artifact_path)


def flush() -> None:
    """Wait until every metric point queued in this process is in the store."""
    if _SESSION is not None:
        _SESSION.writer.flush()


# --------------------------------------------------------------------------- #
# reads
# --------------------------------------------------------------------------- #
def _reader() -> _Session:
    s = _session()
    s.writer.flush()
    return s


def get_run(run_id: str) -> RunRecord:
    """The run ``run_id`` as stored; :class:`toolbox.store.NotFoundError` naming it if unknown."""
    return _reader().tracking.get_run(run_id)


def get_metric_history(run_id: str, name: str) -> list[Metric]:
    """Every point logged for metric ``name`` of run ``run_id``, by step (empty if never logged)."""
    return _reader().tracking.metric_history(run_id, name)


def list_experiments() -> list[Experiment]:
    """Every experiment with its number of runs."""
    return _reader().tracking.list_experiments()


def search_runs(experiment: str | Iterable[str] | None = None, filter: str | None = None,
                order_by: str | Iterable[str] | None = None, max_results: int | None = 1000) -> RunList:
    """Runs matching ``filter``, in ``order_by`` order (newest first otherwise).

    Parameters
    ----------
    experiment : str or list of str, optional
        Experiment names; default every experiment.
    filter : str, optional
        E.g. ``"metrics.accuracy > 0.9 and params.C = '1.0'"``: clauses on
        ``metrics.*`` (latest values, numbers), ``params.*`` and ``tags.*``
        (quoted text) and ``attributes.*`` (status, name, run_id, parent_id,
        experiment, start_time, end_time), with ``= != < <= > >= like ilike in
        is null``, ``and``, ``or``, ``not`` and parentheses.
    order_by : str or list of str, optional
        E.g. ``["metrics.accuracy DESC", "params.C"]``; missing values last.
    max_results : int or None, default=1000

    Returns
    -------
    RunList
        A list of :class:`RunRecord`; ``.to_pandas()`` makes a DataFrame.
    """
    from sqlalchemy import and_

    from ..store._schema import runs
    from ._search import compile_filter, compile_order

    if max_results is not None and (isinstance(max_results, bool) or not isinstance(max_results, int)
                                    or max_results < 0):
        raise ValueError(f"max_results must be a non-negative int or None, got {max_results!r}.")
    cond = compile_filter(filter)
    order = compile_order(order_by)
    s = _reader()
    conds = [] if cond is None else [cond]
    if experiment is not None:
        names = [experiment] if isinstance(experiment, str) else list(experiment)
        ids = [s.tracking.experiment_id(n, create=False) for n in names]
        conds.append(runs.c.experiment_id.in_(ids))
    return s.tracking.select_runs(and_(*conds) if conds else None, order, max_results)


def delete_runs(run_ids: str | Iterable[str]) -> list[str]:
    """Delete runs with their child runs and everything logged with them; return the ids deleted.

    The artifact blobs stay in the artifact root (another run may share them).
    """
    ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
    return _reader().tracking.delete_runs(ids)


def download_artifact(run_id: str, path: str, dest: str | os.PathLike | None = None) -> Path:
    """Copy the artifact ``path`` of run ``run_id`` to ``dest`` (default: ``./<file name>``), verified."""
    from ..store import NotFoundError

    s = _reader()
    record = s.tracking.get_run(run_id)
    found = [a for a in record.artifacts if a.path == path]
    if not found:
        have = ", ".join(a.path for a in record.artifacts) or "none"
        raise NotFoundError(f"Run {run_id} has no artifact {path!r} (it has: {have}).")
    target = Path(dest) if dest is not None else Path(Path(path).name)
    return s.store.artifacts.export(found[0].digest, target)


# --------------------------------------------------------------------------- #
# process exit: every queued point written, runs still open marked finished
# --------------------------------------------------------------------------- #
def _at_exit() -> None:
    for run in list(_LIVE.values())[::-1]:
        try:
            run.end(RunStatus.FINISHED)
        except Exception:
            pass
    s = _SESSION
    if s is not None:
        try:
            s.writer.close()
        except Exception:
            pass


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):  # a forked child does not end (or write for) its parent's runs
    os.register_at_fork(after_in_child=_LIVE.clear)
