"""``n_jobs``: cross-validation folds and search candidates side by side, with the results of a serial run.

Jobs run through joblib, in threads by default: every toolbox kernel releases
the GIL (BLAS, numba ``nogil`` kernels, torch, JAX), so threads share the
data without copying it (a GPU array stays where it is) and see the caller's
settings (backend, cache, autologging: each job runs in a copy of the
caller's context). A ``joblib.parallel_config(backend=...)`` set by the user
(``"loky"`` processes, or ``"dask"`` to spread the jobs over a Dask cluster)
takes precedence.

No oversubscription: while jobs run, BLAS is limited to one thread and each
job runs toolbox's own parallel parts serially
(:func:`toolbox.backends._threaded.job_context`), keeping the split of the
work of a serial run, so the results are bit-identical to ``n_jobs=1``.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Sequence
from typing import Any

from ..backends import _threaded

__all__ = ["check_n_jobs", "run_jobs"]


def check_n_jobs(n_jobs: Any, name: str = "n_jobs") -> int:
    """The number of jobs ``n_jobs`` asks for: None -> 1, -1 -> all cores, -2 -> all but one, ...

    Raises ValueError for 0 and TypeError for a non-integer, naming ``name``.
    """
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(f"{name} must be an integer or None; got {n_jobs!r}.")
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError(f"{name}=0 is not valid: use None or 1 for one job, -1 for one per core.")
    cores = os.cpu_count() or 1
    return n_jobs if n_jobs > 0 else max(1, cores + 1 + n_jobs)


def run_jobs(tasks: Sequence[Callable[[], Any]], n_jobs: Any) -> list[Any]:
    """``[task() for task in tasks]``, up to ``n_jobs`` at a time; results in the order of ``tasks``."""
    jobs = min(check_n_jobs(n_jobs), len(tasks))
    if jobs <= 1:
        return [task() for task in tasks]
    import joblib
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend(prefer="threads")
    if type(backend).__name__ != "ThreadingBackend":  # the user's choice: processes or a cluster
        return list(joblib.Parallel(n_jobs=jobs)(joblib.delayed(task)() for task in tasks))
    # the last len(tasks) % jobs tasks would run with cores idle: they run after, one at a time, each
    # with every core (the same results: a job splits its work exactly as a serial run does)
    head = len(tasks) - len(tasks) % jobs
    contexts = [_threaded.job_context() for _ in range(head)]  # before BLAS is limited: the caller's counts
    with _threaded.blas_one_thread():
        out = list(joblib.Parallel(n_jobs=jobs, prefer="threads")(
            joblib.delayed(ctx.run)(task) for ctx, task in zip(contexts, tasks[:head])))
    return out + [task() for task in tasks[head:]]
