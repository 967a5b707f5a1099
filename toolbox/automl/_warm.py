"""Candidates' one-time preparation (compiling kernels) on helper threads, once per process.

A candidate whose first fit would spend seconds compiling (histogram gradient
boosting's numba kernels: about 20 s in a new environment, about 1 s to load
them from numba's cache) declares a ``warm_up``. Under a time budget the search
asks :func:`ready` before it starts a trial of that candidate: the first ask
starts the warm-up on a daemon thread, in a clean context (no autologging, no
cache, no budget listener), and the trials wait until it has finished, so a
compilation that cannot be interrupted never runs inside a timed trial. A
warm-up still running when ``toolbox.fit`` returns goes on in the background
(it fills numba's cache for the next call).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable

__all__ = ["ready"]

_LOCK = threading.Lock()
_DONE: set[str] = set()
_RUNNING: dict[str, threading.Thread] = {}


def _clean_run(key: str, fn: Callable[[], None]) -> None:
    from .. import _hooks
    from .._config import config_context

    try:
        _hooks._LISTENER.set(None)
        _hooks._STACK.set(())
        with config_context(autolog=False, cache=False):
            fn()
    except Exception:  # a failing warm-up only means that the trials compile (and fail) themselves
        pass
    finally:
        with _LOCK:
            _DONE.add(key)
            _RUNNING.pop(key, None)


def ready(key: str, fn: Callable[[], None]) -> bool:
    """Whether the warm-up ``key`` has finished in this process; starts ``fn`` on a thread if not yet started."""
    with _LOCK:
        if key in _DONE:
            return True
        if key not in _RUNNING:
            ctx = contextvars.copy_context()  # the caller's backend and device
            thread = threading.Thread(target=ctx.run, args=(_clean_run, key, fn), daemon=True,
                                      name=f"toolbox-warm-up-{key}")
            _RUNNING[key] = thread
            thread.start()
        return False

