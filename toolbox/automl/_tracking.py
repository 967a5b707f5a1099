"""The tracking record of a :func:`toolbox.fit` call: one run, a child run per trial, written off the hot path.

A background thread opens the store (importing SQLAlchemy and creating the
run take a few hundred milliseconds the first time) while the search starts,
and writes each trial's child run as it arrives, so that the search never
waits on the store. :meth:`Recorder.finish` logs the leaderboard and the
final model as artifacts, ends the run and waits for the thread.
"""

from __future__ import annotations

import json
import os
import queue
import tempfile
import threading
import time
from typing import Any

__all__ = ["Recorder"]


class Recorder:
    """Write the run of one fit from a background thread (see the module docstring)."""

    def __init__(self, experiment: str, name: str, params: dict, tags: dict, parent: Any = None) -> None:
        self.run_id: str | None = None
        self.error: str | None = None
        self._queue: queue.Queue = queue.Queue()
        self._per_item = 0.01  # seconds per child run, measured as they are written
        self._pending = 0
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(experiment, name, params, tags, parent),
                                        name="toolbox-fit-tracking", daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- thread
    def _main(self, experiment: str, name: str, params: dict, tags: dict, parent: Any) -> None:
        from .. import tracking

        run = None
        try:
            run = tracking.start_run(experiment=experiment, name=name, tags=tags, parent=parent)
            run.log_params(params)
            self.run_id = run.id
        except Exception as exc:  # the store is unusable: the fit goes on without a record
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()
        while True:
            item = self._queue.get()
            if item is None:
                break
            kind, payload = item
            t0 = time.perf_counter()
            try:
                if run is not None:
                    if kind == "trial":
                        self._write_trial(tracking, run, payload)
                    elif kind == "finish":
                        self._write_finish(run, payload)
            except Exception as exc:
                self.error = self.error or f"{type(exc).__name__}: {exc}"
            finally:
                dt = time.perf_counter() - t0
                with self._lock:
                    self._pending -= 1
                    if kind == "trial":
                        self._per_item = 0.7 * self._per_item + 0.3 * dt
        if run is not None:
            try:
                run.end("finished")
            except Exception as exc:
                self.error = self.error or f"{type(exc).__name__}: {exc}"

    @staticmethod
    def _write_trial(tracking: Any, parent: Any, r: dict) -> None:
        # queued child runs (as autologging writes them): the store's writer thread batches their writes
        from ..tracking._checks import param_value
        from ..tracking._run import _start_run

        params = {"model": r["model"], **dict(r["params"])}
        child = _start_run(None, f"trial-{r['trial']:03d}-{r['model']}",
                           {"toolbox.fit.status": r["status"], "toolbox.fit.source": r["source"],
                            "toolbox.fit.message": r["message"] or ""},
                           parent=parent, params={k: param_value(v) for k, v in params.items()}, queued=True)
        try:
            metrics = {"fit_time": r["fit_time"], "predict_time_per_1k": r["predict_time_per_1k"],
                       "score_mean": r["score_mean"], "score_std": r["score_std"]}
            child.log_metrics({k: v for k, v in metrics.items() if v is not None})
            for i, s in enumerate(r["fold_scores"]):
                child.log_metric("fold_score", s, step=i)
        finally:
            child.end("finished" if r["status"] != "failed" else "failed")

    @staticmethod
    def _write_finish(run: Any, payload: dict) -> None:
        run.flush()
        with tempfile.TemporaryDirectory(prefix="toolbox-fit-") as tmp:
            path = os.path.join(tmp, "leaderboard.json")
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(payload["leaderboard"], fh, indent=1, default=str)
            run.log_artifact(path)
        run.log_metrics(payload["metrics"])
        run.set_tags(payload["tags"])
        if payload.get("model") is not None:
            run.log_model(payload["model"], name="model")

    # ------------------------------------------------------------------ API
    def trial(self, row: dict) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put(("trial", row))

    def pending_seconds(self) -> float:
        """Seconds the queued writes are expected to take."""
        with self._lock:
            return self._pending * self._per_item

    def finish(self, payload: dict, timeout: float | None) -> bool:
        """Queue the final writes, end the run; wait at most ``timeout`` seconds. True when all was written."""
        with self._lock:
            self._pending += 1
        self._queue.put(("finish", payload))
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def wait_ready(self, timeout: float) -> None:
        self._ready.wait(timeout)
