"""Measuring helpers: synchronisation, peak memory, machine and library information."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import importlib.metadata
import importlib.util
import os
import platform
import re
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "THREAD_VARS",
    "Peak",
    "library_versions",
    "machine_info",
    "memory_method",
    "peak_memory",
    "rss_method",
    "summarize",
    "sync",
    "thread_info",
]

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "OMP_WAIT_POLICY")


# ---------------------------------------------------------------- synchronisation


def _arrays_of(obj: Any) -> list[Any]:
    """The array results of an operation: the output itself, or a fitted estimator's ``*_`` attributes."""
    if hasattr(obj, "get_params") and hasattr(obj, "__dict__"):
        return [v for k, v in vars(obj).items() if k.endswith("_") and not k.startswith("_")]
    return [obj]


def sync(obj: Any, backend: str, device: Any = None) -> None:
    """Wait until the work that produced ``obj`` has finished (asynchronous backends)."""
    if backend == "jax":
        import jax

        leaves = [a for a in _arrays_of(obj) if isinstance(a, jax.Array)]
        if leaves:
            jax.block_until_ready(leaves)
    elif backend == "torch" and _device_kind(device) == "cuda":
        import torch

        torch.cuda.synchronize()
    elif backend == "cupy":
        import cupy

        cupy.cuda.get_current_stream().synchronize()


def summarize(times: list[float]) -> dict[str, float | int]:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "rounds": len(times)}


# ---------------------------------------------------------------- peak memory


def _device_kind(device: Any) -> str:
    """"cpu", "cuda" or "gpu" for a torch, JAX or CuPy device (or None: the CPU)."""
    if device is None:
        return "cpu"
    kind = getattr(device, "platform", None) or getattr(device, "type", None) or str(device)
    return str(kind).split(":")[0].lower()


def memory_method(backend: str, device: Any = None) -> str:
    """How peak memory is measured for a backend (recorded in the results)."""
    dev = _device_kind(device)
    if backend in ("numpy", "numba", "sklearn"):
        return "tracemalloc"  # NumPy reports its buffers to tracemalloc
    if backend == "torch" and dev == "cuda":
        return "torch.cuda.max_memory_allocated"
    if backend == "jax" and dev in ("gpu", "cuda"):
        return "jax memory_stats peak_bytes_in_use"
    if backend == "cupy":
        return "cupy memory pool total_bytes"
    # torch and JAX allocate outside Python's allocators: tracemalloc sees nothing
    return rss_method()


def rss_method() -> str:
    """The process-RSS method available here: "rss-hwm" (reset high-water mark) or "rss-sampled"."""
    return "rss-hwm" if _can_reset_hwm() else "rss-sampled"


_HWM_OK: bool | None = None


def _can_reset_hwm() -> bool:
    global _HWM_OK
    if _HWM_OK is None:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            _HWM_OK = _status("VmHWM") is not None
        except OSError:
            _HWM_OK = False
    return _HWM_OK


def _status(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.MULTILINE)
    except OSError:
        return None
    return int(m.group(1)) * 1024 if m else None


def _trim() -> None:
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class Peak:
    """Result holder for :func:`peak_memory`."""

    bytes: int | None = None


@contextlib.contextmanager
def peak_memory(method: str, device: Any = None) -> Iterator[Peak]:
    """Peak memory allocated inside the block, above what was held when it started (bytes)."""
    peak = Peak()
    _trim()
    if method == "tracemalloc":
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        try:
            yield peak
        finally:
            peak.bytes = max(0, tracemalloc.get_traced_memory()[1] - base)
            tracemalloc.stop()
    elif method == "rss-hwm":
        base = _status("VmRSS") or 0
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        try:
            yield peak
        finally:
            peak.bytes = max(0, (_status("VmHWM") or 0) - base)
    elif method == "rss-sampled":
        import psutil

        proc = psutil.Process()
        base = proc.memory_info().rss
        high = [base]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                high[0] = max(high[0], proc.memory_info().rss)
                time.sleep(0.002)

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        try:
            yield peak
        finally:
            stop.set()
            t.join()
            peak.bytes = max(0, max(high[0], proc.memory_info().rss) - base)
    elif method == "torch.cuda.max_memory_allocated":
        import torch

        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        try:
            yield peak
        finally:
            torch.cuda.synchronize()
            peak.bytes = max(0, torch.cuda.max_memory_allocated() - base)
    elif method == "jax memory_stats peak_bytes_in_use":
        stats = device.memory_stats() or {}
        base = stats.get("bytes_in_use", 0)
        try:
            yield peak
        finally:
            stats = device.memory_stats() or {}
            # the peak cannot be reset: this is the peak since start-up, less what was held before
            peak.bytes = max(0, stats.get("peak_bytes_in_use", 0) - base) if stats else None
    elif method == "cupy memory pool total_bytes":
        import cupy

        pool = cupy.get_default_memory_pool()
        pool.free_all_blocks()
        base = pool.used_bytes()
        try:
            yield peak
        finally:
            cupy.cuda.get_current_stream().synchronize()
            # freed blocks stay cached in the pool, so its size is close to the high-water mark
            peak.bytes = max(0, pool.total_bytes() - base)
    else:
        raise ValueError(f"unknown memory method {method!r}")


# ---------------------------------------------------------------- machine and versions


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _gpus() -> list[str]:
    names: list[str] = []
    if importlib.util.find_spec("torch") is not None:
        with contextlib.suppress(Exception):
            import torch

            if torch.cuda.is_available():
                names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return names


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "gpus": _gpus(),
    }
    with contextlib.suppress(Exception):
        import psutil

        info["physical_cores"] = psutil.cpu_count(logical=False)
        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    with contextlib.suppress(OSError):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return info


_DISTS = ("numpy", "scipy", "scikit-learn", "toolbox", "torch", "jax", "jaxlib", "numba", "cupy-cuda12x", "cupy-cuda13x", "cupy",
          "array-api-compat", "array-api-extra", "pytest-benchmark", "threadpoolctl", "lightgbm", "xgboost",
          "xgboost-cpu")


def library_versions() -> dict[str, str]:
    out = {}
    for dist in _DISTS:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[dist] = importlib.metadata.version(dist)
    return out


def thread_info() -> dict[str, Any]:
    """Thread settings: the environment variables and what the BLAS/OpenMP pools actually use."""
    info: dict[str, Any] = {v: os.environ.get(v) for v in THREAD_VARS}
    with contextlib.suppress(Exception):
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for p in threadpool_info()
        ]
    if "torch" in sys.modules:
        info["torch_num_threads"] = sys.modules["torch"].get_num_threads()
    return info


#: Seconds to wait before each timed run. NumPy and SciPy (hence scikit-learn) each ship their own
#: OpenBLAS, whose idle threads spin for up to about 0.1 s after a call (2**28 cycles) before they
#: sleep; a run started while the other library's threads still spin shares the cores with them
#: (measured: a NumPy product of 200,000 x 50 by 50 x 3 takes 15 ms instead of 6 ms right after
#: a SciPy Cholesky on 2 cores). Waiting lets them sleep, so neither library is timed against the
#: other's spinning threads.
SETTLE_S = 0.15


def settle() -> None:
    """A full garbage collection, then :data:`SETTLE_S` of idle time (before each timed run)."""
    gc.collect()
    time.sleep(SETTLE_S)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out
