"""Helper threads that wait for work by spinning, for compiled kernels that hand out many small parts (layer 1).

:func:`toolbox.backends._threaded.parallel_map` wakes a sleeping pool thread
for every call: 40-80 us on the 2-core development machine (a virtual machine,
where waking an idle CPU is slow), more than the work of a small tree node. For
a kernel that hands out hundreds of such parts in a row (the best-first loop of
gradient boosting), :class:`SpinLanes` keeps helper threads awake for the
duration of one compiled call sequence: each helper runs a compiled loop that
polls a shared control array (``load_acquire``) and yields the CPU between polls
(``cpu_yield``: ``sched_yield``, so a loaded machine's other threads still run);
the caller posts work with ``store_release`` and waits the same way. A round
trip costs about 1 us there.

Spinning is bounded by the caller: :meth:`SpinLanes.start` before the parts,
:meth:`SpinLanes.stop` after them (the helpers then block on an event, using no
CPU). :func:`enabled` says whether to spin: on POSIX systems (``sched_yield``),
unless ``TOOLBOX_SPIN_WAIT=0`` or ``OMP_WAIT_POLICY=passive`` (the setting that
tells OpenMP libraries not to spin either) is in the environment.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["SpinLanes", "compare_exchange", "cpu_yield", "enabled", "fetch_add", "load_acquire", "store_release"]



def enabled() -> bool:
    """Whether helpers may spin: POSIX (``sched_yield``), not turned off by the environment."""
    env = os.environ
    return (os.name == "posix" and env.get("TOOLBOX_SPIN_WAIT", "1").strip() != "0"
            and env.get("OMP_WAIT_POLICY", "").strip().lower() != "passive")


def _element(context: Any, builder: Any, signature: Any, args: Any) -> tuple[Any, list[Any]]:
    """The pointer to ``arr[i]`` (the intrinsic's first two arguments), and the further arguments as int64."""
    aryty = signature.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]])
    rest = [context.cast(builder, a, t, types.int64) for a, t in zip(args[2:], signature.args[2:])]
    return ptr, rest


@intrinsic
def load_acquire(typingctx: Any, arr: Any, i: Any) -> Any:
    """``arr[i]`` (int64 array) read with acquire ordering: what was written before the matching
    :func:`store_release` is visible after it. Never cached in a register across a loop."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr, _ = _element(context, builder, signature, args)
        return builder.load_atomic(ptr, ordering="acquire", align=8)

    return types.int64(arr, i), codegen


@intrinsic
def store_release(typingctx: Any, arr: Any, i: Any, v: Any) -> Any:
    """``arr[i] = v`` (int64 array) with release ordering (everything written before is published)."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr, (value,) = _element(context, builder, signature, args)
        builder.store_atomic(value, ptr, ordering="release", align=8)
        return context.get_dummy_value()

    return types.void(arr, i, v), codegen


@intrinsic
def fetch_add(typingctx: Any, arr: Any, i: Any, v: Any) -> Any:
    """Atomically ``arr[i] += v`` (int64 array, acquire-release); returns the value before."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr, (value,) = _element(context, builder, signature, args)
        return builder.atomic_rmw("add", ptr, value, "acq_rel")

    return types.int64(arr, i, v), codegen


@intrinsic
def compare_exchange(typingctx: Any, arr: Any, i: Any, expected: Any, new: Any) -> Any:
    """Atomically ``arr[i] = new`` if ``arr[i] == expected`` (int64 array, acquire-release); whether it was."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr, (exp, value) = _element(context, builder, signature, args)
        pair = builder.cmpxchg(ptr, exp, value, "acq_rel", "acquire")
        return builder.extract_value(pair, 1)

    return types.boolean(arr, i, expected, new), codegen


@intrinsic
def cpu_yield(typingctx: Any) -> Any:
    """``sched_yield()``: let another runnable thread have this CPU (returns at once when none waits)."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


class SpinLanes:
    """``n`` daemon helper threads, lanes 1..n beside the caller's lane 0.

    ``start(body)`` runs ``body(lane)`` once on every helper (a compiled loop
    that spins until the caller tells it to stop, through its own control
    array); ``stop(ctl, index)`` writes 1 to ``ctl[index]`` and waits until every
    helper's ``body`` returned. An exception in a helper's body sets
    ``ctl[failed]`` (so that a caller spinning for that helper gives up) and is
    raised again by :meth:`stop`. The threads end when the object is collected.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._state: dict[str, Any] = {"body": None, "error": None, "closed": False, "failed": None}
        self._go = [threading.Event() for _ in range(n)]
        self._idle = [threading.Event() for _ in range(n)]
        for ev in self._idle:
            ev.set()
        for j in range(n):
            threading.Thread(target=_helper, args=(self._state, self._go[j], self._idle[j], j + 1), daemon=True,
                             name=f"toolbox-lane-{j + 1}").start()
        weakref.finalize(self, _close, self._state, self._go)

    def start(self, body: Callable[[int], None], ctl: np.ndarray, failed: int) -> None:
        """Run ``body(lane)`` on every helper; on an error ``ctl[failed] = 1``."""
        self._state.update(body=body, error=None, failed=(ctl, failed))
        for go, idle in zip(self._go, self._idle):
            idle.clear()
            go.set()

    def stop(self, ctl: np.ndarray, index: int) -> None:
        """``ctl[index] = 1`` (the bodies' signal to return), then wait for every helper."""
        ctl[index] = 1
        for idle in self._idle:
            idle.wait()
        self._state["body"] = None
        error = self._state["error"]
        if error is not None:
            self._state["error"] = None
            raise error


def _helper(state: dict[str, Any], go: threading.Event, idle: threading.Event, lane: int) -> None:
    while True:
        go.wait()
        go.clear()
        if state["closed"]:
            return
        try:
            state["body"](lane)
        except BaseException as exc:  # handed to the caller by stop()
            state["error"] = exc
            ctl, failed = state["failed"]
            ctl[failed] = 1
        finally:
            idle.set()


def _close(state: dict[str, Any], go: list[threading.Event]) -> None:
    state["closed"] = True
    for ev in go:
        ev.set()
