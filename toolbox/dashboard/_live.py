"""The change feed and the WebSocket that pushes its deltas, with sequence numbers and resume.

The training process and the dashboard are different processes, so the
writer's commits reach the dashboard through the database itself, cheaply:

* every ``interval`` (25 ms) the feed asks SQLite's ``PRAGMA data_version``
  (a counter in shared memory, no table read) whether another connection
  committed; only then, and on PostgreSQL every time, it reads the metric
  rows past the last id it saw (``WHERE id > :last``, the primary key: only
  new rows are touched) and the runs that are running or new;
* each change becomes an event with the next sequence number in a bounded
  log; the points go into the cached series as well (:class:`.Queries`);
* each WebSocket asks for the events after the sequence number it has
  (``since``) that match its subscription, and waits to be woken by the feed.
  A reconnect sends its last number and gets exactly what it missed; a client
  further behind than the log reaches is told to ``resync`` (reload).

On PostgreSQL, ids are taken from a sequence at insert time and transactions
commit in any order, so an id below the last one seen may still appear: the
feed remembers the gaps it saw for a few seconds and looks for them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import threading
import time
from typing import Any

from ._queries import Queries, jsonable, run_dict

__all__ = ["ChangeFeed", "Subscription", "websocket_endpoint"]

_GAP_SECONDS = 5.0
_BATCH = 20_000


class Subscription:
    """What one page wants: points of ``runs``; run changes of ``runs``, their children, an experiment, or all."""

    __slots__ = ("all_runs", "experiment", "points", "runs")

    def __init__(self, runs: Any = (), experiment: Any = None, points: bool = True, all_runs: bool = False) -> None:
        self.runs = {str(r) for r in runs or ()}
        self.experiment = None if experiment is None else int(experiment)
        self.points = bool(points)
        self.all_runs = bool(all_runs)

    @classmethod
    def from_message(cls, msg: dict[str, Any]) -> Subscription:
        """From a client's ``{"subscribe": {...}}`` message (unknown keys ignored, bad values rejected)."""
        sub = msg.get("subscribe") or {}
        if not isinstance(sub, dict):
            raise ValueError("subscribe must be an object")
        runs = sub.get("runs") or []
        if not isinstance(runs, list) or len(runs) > 5000:
            raise ValueError("subscribe.runs must be a list of at most 5000 run ids")
        return cls(runs, sub.get("experiment"), sub.get("points", True), sub.get("all_runs", False))

    def wants(self, kind: str, run: str, parent: str | None, experiment: int | None) -> bool:
        """Whether an event of ``kind`` about ``run`` (child of ``parent``, in ``experiment``) is for this page."""
        if kind == "points":
            return self.points and run in self.runs
        if kind == "run":
            return (self.all_runs or run in self.runs or (parent is not None and parent in self.runs)
                    or (self.experiment is not None and experiment == self.experiment))
        return True


class ChangeFeed:
    """Watches one store for new metric points and run changes; keeps the numbered events.

    Parameters
    ----------
    queries : Queries
        The dashboard's reads (its series cache is kept current).
    interval : float, default=0.025
        Seconds between checks.
    max_points : int, default=1_000_000
        Most points the event log keeps (older events go; a client that far behind resyncs).
    """

    def __init__(self, queries: Queries, *, interval: float = 0.025, max_points: int = 1_000_000,
                 max_events: int = 100_000) -> None:
        self.q = queries
        self.interval = interval
        self.max_points, self.max_events = max_points, max_events
        self.seq = 0
        self._events: list[tuple[int, str, str, str | None, int | None, Any, int]] = []
        self._base = 1  # the sequence number of _events[0]
        self._log_points = 0
        self._waiters: dict[asyncio.Event, asyncio.AbstractEventLoop] = {}
        self._wlock = threading.Lock()
        self._meta: dict[str, tuple[str | None, int]] = {}  # run -> (parent, experiment)
        self._sig: dict[str, tuple[Any, float]] = {}  # watched run -> (signature, last seen active)
        self._gaps: dict[int, float] = {}
        self.last_id = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._dv_conn: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._last_runs_check = 0.0
        self._runs_dirty = False
        self._last_dead_check = 0.0
        self.polls = self.queries_run = 0
        self.error: BaseException | None = None

    # -- lifecycle --------------------------------------------------------------
    def start(self, watch: bool = True) -> None:
        """Take the current state as the baseline and start watching (a daemon thread; ``watch=False``:
        the caller calls :meth:`poll`)."""
        self.last_id = self.q.max_metric_id()
        with self.q.lock:
            self.q.feed_last_id = self.last_id
        loc = self.q.store.location
        if loc.dialect == "sqlite" and loc.path is not None:
            self._dv_conn = sqlite3.connect(f"file:{loc.path}?mode=ro", uri=True, check_same_thread=False,
                                            isolation_level=None)
            self._data_version = self._read_data_version()
        self._check_runs(emit=False)
        self._last_dead_check = time.monotonic()
        if not watch:
            return
        self._thread = threading.Thread(target=self._loop, name="toolbox-dashboard-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._dv_conn is not None:
            self._dv_conn.close()
            self._dv_conn = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
                self.error = None
            except Exception as exc:  # a locked or restarting database: try again at the next tick
                self.error = exc

    def _read_data_version(self) -> int | None:
        assert self._dv_conn is not None
        return int(self._dv_conn.execute("PRAGMA data_version").fetchone()[0])

    # -- one check ----------------------------------------------------------------
    def poll(self) -> bool:
        """Look once for changes; return whether there were any."""
        self.polls += 1
        now = time.monotonic()
        changed = False
        fresh = True
        if self._dv_conn is not None:
            dv = self._read_data_version()
            fresh = dv != self._data_version
            self._data_version = dv
        if fresh:
            self.queries_run += 1
            changed = self._check_metrics()
            self._runs_dirty = self._runs_dirty or self._dv_conn is not None or changed
        if self._dv_conn is None and now - self._last_runs_check > 1.0:
            self._runs_dirty = True  # PostgreSQL: run changes without metric points show within a second
        if self._runs_dirty and now - self._last_runs_check >= 0.2:
            self._runs_dirty = False
            changed = self._check_runs(emit=True) or changed
        if now - self._last_dead_check > 5.0:
            self._last_dead_check = now
            with contextlib.suppress(Exception):
                self.q.tracking.mark_dead_runs_killed()
        return changed

    def _check_metrics(self) -> bool:
        from sqlalchemy import func, or_, select

        from ..store._schema import metrics

        cols = (metrics.c.id, metrics.c.run_id, metrics.c.key, metrics.c.step, metrics.c.timestamp, metrics.c.value)
        got_any = False
        while True:
            cond = metrics.c.id > self.last_id
            tnow = time.monotonic()
            self._gaps = {i: t for i, t in self._gaps.items() if t > tnow}
            if self._gaps:
                cond = or_(cond, metrics.c.id.in_(sorted(self._gaps)[:1000]))
            with self.q.store.read() as conn:
                rows = conn.execute(select(*cols).where(cond).order_by(metrics.c.id).limit(_BATCH)).all()
                if not rows and not self._gaps:
                    top = int(conn.execute(select(func.coalesce(func.max(metrics.c.id), 0))).scalar_one())
                    if top < self.last_id:  # runs were deleted and SQLite reuses their ids: start again
                        self._resync(top)
                        return True
            if not rows:
                return got_any
            got_any = True
            self._add_points(rows)
            if len(rows) < _BATCH:
                return True

    def _add_points(self, rows: list[Any]) -> None:
        new_last = self.last_id
        pts: list[tuple[str, str, int, float, float | None]] = []
        for i, run, key, step, ts, value in rows:
            i = int(i)
            if i in self._gaps:
                del self._gaps[i]
            elif i > new_last:
                if self.q.dialect == "postgresql" and i > new_last + 1 and len(self._gaps) < 10_000:
                    deadline = time.monotonic() + _GAP_SECONDS
                    for g in range(new_last + 1, min(i, new_last + 1 + 10_000)):
                        self._gaps[g] = deadline
                new_last = i
            v = None if value is None else float(value)
            if v is not None and v != v:
                v = None
            pts.append((run, key, int(step), float(ts), v))
        unknown = [r for r in {p[0] for p in pts} if r not in self._meta]
        if unknown:
            for rid, rd in self.q.run_rows(unknown).items():
                self._meta[rid] = (rd["parent_id"], rd["experiment_id"])
        by_run: dict[str, dict[str, list[list[Any]]]] = {}
        for run, key, step, ts, v in pts:
            by_run.setdefault(run, {}).setdefault(key, []).append(
                [step, ts, v if v is None or abs(v) != float("inf") else ("Infinity" if v > 0 else "-Infinity")])
        with self.q.lock:
            self.q.add_points(pts)
            self.q.feed_last_id = max(self.q.feed_last_id or 0, new_last)
            self.last_id = new_last
            for run, data in by_run.items():
                parent, exp = self._meta.get(run, (None, None))
                self._append("points", run, parent, exp, {"run": run, "points": data},
                             sum(len(v) for v in data.values()))
        self._notify()

    def _check_runs(self, emit: bool) -> bool:
        from sqlalchemy import or_

        from ..store._schema import runs

        wall = time.time()
        self._last_runs_check = time.monotonic()
        since = wall - 5.0 if emit else wall - 2.0
        watched = list(self._sig)[:2000]
        cond = or_(runs.c.status == "running", runs.c.start_time >= since,
                   *([runs.c.id.in_(watched)] if watched else []))
        recs = self.q.tracking.select_runs(cond, limit=5000)
        changed = []
        for r in recs:
            self._meta[r.id] = (r.parent_id, r.experiment_id)
            d = run_dict(r)
            sig = json.dumps(d, sort_keys=True, default=str)
            old = self._sig.get(r.id)
            active = r.status == "running" or r.start_time >= since
            self._sig[r.id] = (sig, wall if active or old is None else old[1])
            if old is None or old[0] != sig:
                changed.append(d)
        for rid in [k for k, (_, seen) in self._sig.items() if seen < wall - 60]:
            del self._sig[rid]
        if emit and changed:
            with self.q.lock:
                for d in changed:
                    self._append("run", d["id"], d["parent_id"], d["experiment_id"], {"run": d}, 1)
            self._notify()
        return bool(changed)

    def _resync(self, top: int) -> None:
        self.q.forget()
        with self.q.lock:
            self.last_id = top
            self.q.feed_last_id = top
            self._gaps.clear()
            self._append("resync", "", None, None, {}, 1)
        self._notify()

    # -- the event log ------------------------------------------------------------
    def _append(self, kind: str, run: str, parent: str | None, exp: int | None, payload: Any, size: int) -> None:
        # callers hold self.q.lock: a series snapshot and its sequence number agree
        self.seq += 1
        self._events.append((self.seq, kind, run, parent, exp, payload, size))
        self._log_points += size
        drop = 0
        while (self._log_points > self.max_points or len(self._events) - drop > self.max_events) \
                and drop < len(self._events) - 1:
            self._log_points -= self._events[drop][6]
            drop += 1
        if drop:
            del self._events[:drop]
            self._base += drop

    def collect(self, since: int, sub: Subscription, limit: int = 5000) -> tuple[dict[str, Any] | None, int]:
        """The message for a client at ``since``: its events (at most ``limit``), or a resync; and its new ``since``.

        Returns ``(None, since)`` when nothing new is for it.
        """
        with self.q.lock:
            if since > self.seq or since < self._base - 1:  # a future number (a restarted server) or too far behind
                return {"type": "resync", "seq": self.seq}, self.seq
            start = since + 1 - self._base
            chosen, upto = [], since
            for ev in self._events[start:]:
                seq, kind, run, parent, exp, payload, _ = ev
                upto = seq
                if sub.wants(kind, run, parent, exp):
                    if kind == "resync":
                        return {"type": "resync", "seq": self.seq}, self.seq
                    chosen.append({"seq": seq, "kind": kind, **payload})
                    if len(chosen) >= limit:
                        break
        if not chosen:
            return None, upto
        return {"type": "delta", "seq": upto, "events": chosen}, upto

    # -- waking the WebSockets ----------------------------------------------------
    def subscribe(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        """An event the feed sets (from its thread, through ``loop``) whenever it logs something."""
        ev = asyncio.Event()
        with self._wlock:
            self._waiters[ev] = loop
        return ev

    def unsubscribe(self, ev: asyncio.Event) -> None:
        """Stop waking ``ev``."""
        with self._wlock:
            self._waiters.pop(ev, None)

    def _notify(self) -> None:
        with self._wlock:
            waiters = list(self._waiters.items())
        for ev, loop in waiters:
            with contextlib.suppress(RuntimeError):  # a loop that has closed
                loop.call_soon_threadsafe(ev.set)


def _dumps(msg: Any) -> str:
    return json.dumps(jsonable(msg), allow_nan=False, separators=(",", ":"))


async def websocket_endpoint(websocket: Any) -> None:
    """``/ws``: the first message ``{"subscribe": {...}, "since": n}``; later ones change the subscription.

    Sends ``{"type": "hello", "seq"}`` (when ``since`` is absent), ``{"type": "delta", "seq", "events"}``,
    ``{"type": "resync", "seq"}`` and, every few seconds while the sequence moves, ``{"type": "seq", "seq"}``.
    """
    from starlette.websockets import WebSocketDisconnect

    feed: ChangeFeed = websocket.app.state.feed
    await websocket.accept()  # the Host, Origin and token checks were made by SecurityMiddleware
    try:
        first = await websocket.receive_json()
        sub = Subscription.from_message(first)
        since = first.get("since")
        if since is None:
            since = feed.seq
            await websocket.send_text(_dumps({"type": "hello", "seq": since}))
        since = int(since)
    except (WebSocketDisconnect, ValueError, TypeError, KeyError, AttributeError):
        with contextlib.suppress(Exception):
            await websocket.close(code=1003)
        return
    ev = feed.subscribe(asyncio.get_running_loop())
    recv = asyncio.ensure_future(websocket.receive_json())
    told = since
    try:
        while True:
            ev.clear()
            msg, since = feed.collect(since, sub)
            if msg is not None:
                await websocket.send_text(_dumps(msg))
                told = since
            waiter = asyncio.ensure_future(ev.wait())
            done, _ = await asyncio.wait({recv, waiter}, timeout=5.0, return_when=asyncio.FIRST_COMPLETED)
            if waiter not in done:
                waiter.cancel()
            if recv in done:
                data = recv.result()  # raises WebSocketDisconnect when the page has gone
                sub = Subscription.from_message(data)
                if data.get("since") is not None:
                    since = int(data["since"])
                recv = asyncio.ensure_future(websocket.receive_json())
            elif not done and since != told:
                await websocket.send_text(_dumps({"type": "seq", "seq": since}))
                told = since
    except (WebSocketDisconnect, RuntimeError, ValueError, TypeError):
        pass
    finally:
        feed.unsubscribe(ev)
        recv.cancel()
        with contextlib.suppress(BaseException):
            await recv
