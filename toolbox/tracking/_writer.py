"""The background metric writer: the training thread only enqueues.

``put`` appends one point to a bounded queue (it blocks while the queue is
full: back-pressure, never a dropped point). A daemon thread takes whatever
is queued (up to ``batch_size`` points) and inserts it in one transaction.
``flush`` returns once every point queued before it is committed (an
*acknowledged* batch), or raises the store's error; a batch that failed is
kept and written again before anything newer, so nothing logged before an
error is lost. Operations queued with ``put_op`` (an autologged run's
creation and end) run on the same thread, in queue order.
"""

from __future__ import annotations

import collections
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["MetricWriter"]

Row = tuple[str, str, float, int, float]


class _Flush:
    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


def _permanent(exc: BaseException) -> bool:
    """Errors that retrying cannot cure (as opposed to an unreachable, locked or read-only store)."""
    from ..store import NotFoundError, StoreReadOnlyError, StoreUnavailableError

    if isinstance(exc, (StoreUnavailableError, StoreReadOnlyError, OSError, TimeoutError)):
        return False
    return isinstance(exc, (NotFoundError, ValueError, TypeError, KeyError))


class _Op:
    __slots__ = ("op",)

    def __init__(self, op: Callable[[Any], None]) -> None:
        self.op = op


_STOP = object()


class MetricWriter:
    """Batches metric points into ``write(rows)`` calls on a background thread.

    Parameters
    ----------
    write : callable
        ``write(rows, conn=None)`` inserts a list of ``(run_id, key, value, step, timestamp)`` (in the
        transaction ``conn``, else in one of its own).
    transaction : callable, optional
        A context manager giving a write transaction: what the thread has gathered then goes in one
        transaction (falling back to one transaction per unit when that fails).
    max_queue : int
        Items that may wait; ``put`` blocks beyond that.
    batch_size : int
        Most points per transaction.
    linger : float
        Seconds the thread waits for more points before writing what it has
        (a flush, a full batch or the end of the process write at once). 0.05 s:
        a slow stream costs 20 small transactions a second at most, and a point
        reaches the dashboard of another process within ~0.1 s.

    Besides points, the queue takes *operations* (:meth:`put_op`: a run's
    creation, its end) that run on the writer thread in queue order, so a run
    is created before its points are written and ended after them.
    """

    def __init__(self, write: Callable[..., None], *, transaction: Callable[[], Any] | None = None,
                 max_queue: int = 100_000, batch_size: int = 20_000, linger: float = 0.05) -> None:
        self._write = write
        self._transaction = transaction
        self.linger = linger
        self._queue: queue.Queue[Any] = queue.Queue(max_queue)
        self.batch_size = batch_size
        # work taken from the queue and not yet done, in order: lists of points and operations;
        # a unit whose write failed stays first and is tried again before anything newer
        self._backlog: collections.deque[Any] = collections.deque()
        self._error: BaseException | None = None
        self._dropped: BaseException | None = None  # why a unit that could never be written was dropped
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.points_written = 0
        self.batches_written = 0

    # -- calling thread -------------------------------------------------------
    def put(self, row: Row) -> None:
        """Queue one point (blocks while the queue is full)."""
        if self._thread is None or self._pid != os.getpid():
            self._start()
        try:
            self._queue.put_nowait(row)
        except queue.Full:  # back-pressure: wake the writer now, then wait for room
            self._wake.set()
            self._queue.put(row)

    def put_op(self, op: Callable[[Any], None]) -> None:
        """Queue ``op(conn)`` to run on the writer thread after the points queued before it.

        ``conn`` is a write transaction to use, or None (the op opens its own).
        """
        if self._thread is None or self._pid != os.getpid():
            self._start()
        self._queue.put(_Op(op))

    def flush(self, timeout: float | None = None) -> None:
        """Wait until everything queued so far is committed; raise the store error if it cannot be."""
        if self._thread is None or self._pid != os.getpid():
            if not self._backlog or self._pid != os.getpid():
                return
            self._start()
        marker = _Flush()
        self._queue.put(marker)
        self._wake.set()
        if not marker.done.wait(timeout):
            raise TimeoutError(f"The tracking writer did not flush within {timeout} s.")
        if marker.error is not None:
            raise marker.error

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush and stop the thread (it starts again on the next ``put``)."""
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            return
        try:
            self.flush(timeout)
        finally:
            self._queue.put(_STOP)
            self._wake.set()
            thread.join(timeout)
            self._thread = None

    @property
    def error(self) -> BaseException | None:
        """The last write error, if the latest write failed."""
        return self._error

    # -- writer thread ----------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's queue and thread are not ours
                self._queue = queue.Queue(self._queue.maxsize)
                self._backlog = collections.deque()
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="toolbox-tracking-writer", daemon=True)
                self._thread.start()

    def _add(self, item: Any) -> None:
        if isinstance(item, _Op):
            self._backlog.append(item)
            return
        last = self._backlog[-1] if self._backlog else None
        if isinstance(last, list) and len(last) < self.batch_size and not (last is self._backlog[0] and self._error):
            last.append(item)
        else:
            self._backlog.append([item])

    def _work(self) -> None:
        """Do the backlog in order; stop at the first failure that may pass (kept, with the error).

        A unit that can never succeed (its run was deleted meanwhile, a rejected value) is dropped
        instead of blocking everything after it; its error is raised by the next flush.
        """
        if self._transaction is not None and len(self._backlog) > 1 and self._error is None:
            units = list(self._backlog)
            try:
                with self._transaction() as conn:
                    for unit in units:
                        self._do(unit, conn)
            except BaseException:
                pass
            else:
                for unit in units:
                    self._backlog.popleft()
                    self._count(unit)
                return
        while self._backlog:
            unit = self._backlog[0]
            try:
                self._do(unit, None)
            except BaseException as exc:
                if _permanent(exc) and not isinstance(unit, _Op) and len({r[0] for r in unit}) > 1:
                    # one run's points are refused (that run was deleted): write the others run by run
                    self._backlog.popleft()
                    groups: dict[str, list[Row]] = {}
                    for r in unit:
                        groups.setdefault(r[0], []).append(r)
                    self._backlog.extendleft(reversed(list(groups.values())))
                    continue
                if _permanent(exc):
                    self._backlog.popleft()
                    self._dropped = exc
                    continue
                self._error = exc
                return
            self._backlog.popleft()
            self._count(unit)
            self._error = None

    def _do(self, unit: Any, conn: Any) -> None:
        if isinstance(unit, _Op):
            unit.op(conn)
        else:
            self._write(unit, conn=conn)

    def _count(self, unit: Any) -> None:
        if not isinstance(unit, _Op):
            self.points_written += len(unit)
            self.batches_written += 1

    def _loop(self) -> None:
        q = self._queue
        while True:
            item = q.get()
            if self.linger > 0 and not isinstance(item, _Flush) and item is not _STOP \
                    and q.qsize() < self.batch_size:
                # let a slow stream gather for `linger` (few, large transactions) without waking on every
                # point; a flush, a close or a queue that fills up ends the wait early
                self._wake.wait(self.linger)
            self._wake.clear()
            markers: list[_Flush] = []
            stop = False
            n = 0
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, _Flush):
                    markers.append(item)
                else:
                    self._add(item)
                    n += 1
                if n >= self.batch_size or markers or stop:
                    break
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
            failed_before = self._error is not None
            self._work()
            if self._error is not None and not failed_before and not markers:
                time.sleep(0.05)  # a failed write: retry soon, report it at the next flush
            for m in markers:
                if self._error is not None:  # one more try before reporting
                    self._work()
                m.error, self._dropped = self._error or self._dropped, None
                m.done.set()
            if stop:
                return
