"""The before/after figures behind docs/performance-tips.md, each pair taken in one run.

    .venv/bin/python benchmarks/bench_tips.py [--repeats 5] [--json benchmarks/results/tips.json]

Measured here (medians of interleaved repeats, same data):

* ``float32`` instead of ``float64`` input, for a few estimators (200,000 x 50);
* oversubscription: two fits run side by side from two threads, with the BLAS
  pool at its default (2 threads each on 2 cores) and limited to 1 each;
* first-call compilation: the first histogram-gradient-boosting fit in a new
  process with an empty numba cache, with the cache filled, and a warm fit;
* a torch CPU tensor handed to a NumPy-backend estimator (converted without a
  copy) against the copy ``numpy.array(tensor)`` makes;
* Dask chunk sizes (with ``toolbox[dask]`` installed): ``StandardScaler`` and
  ``LinearRegression`` fitted on the same 4,000,000 x 20 array, persisted on a
  2-worker LocalCluster, chunked by 10,000 / 100,000 / 1,000,000 rows.

The tips that other benchmarks measure (numba, the cache, ``n_jobs``) are read
from their result files in ``benchmarks/results/`` and quoted in the doc.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _median_pair(a: Callable[[], object], b: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median seconds of ``a`` and of ``b``, run alternately (``a`` first on even rounds)."""
    a(), b()  # warm: imports, compilation, first allocations
    ta, tb_ = [], []
    for i in range(repeats):
        for f, out in ((a, ta), (b, tb_)) if i % 2 == 0 else ((b, tb_), (a, ta)):
            t0 = time.perf_counter()
            f()
            out.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb_)


def _row(name: str, before: str, after: str, t_before: float, t_after: float, **extra: object) -> dict:
    return {"tip": name, "before": before, "after": after, "before_s": round(t_before, 5),
            "after_s": round(t_after, 5), "after_over_before": round(t_after / t_before, 3), **extra}


def bench_float32(repeats: int) -> list[dict]:
    from toolbox.cluster import KMeans
    from toolbox.decomposition import PCA
    from toolbox.linear_model import LogisticRegression
    from toolbox.neighbors import KNeighborsClassifier
    from toolbox.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X64 = rng.normal(size=(200_000, 50))
    y = (X64[:, 0] - X64[:, 1] + rng.normal(size=len(X64)) > 0).astype(np.int64)
    X32 = X64.astype(np.float32)
    knn64 = KNeighborsClassifier().fit(X64[:20_000], y[:20_000])
    knn32 = KNeighborsClassifier().fit(X32[:20_000], y[:20_000])
    cases = {
        "StandardScaler fit": lambda X: StandardScaler().fit(X),
        "PCA(10) fit": lambda X: PCA(10, svd_solver="covariance_eigh").fit(X),
        "KMeans(8) fit": lambda X: KMeans(8, n_init=1, random_state=0, max_iter=50, tol=0).fit(X),
        "LogisticRegression fit": lambda X: LogisticRegression().fit(X, y),
        "KNeighborsClassifier predict (20,000 fitted, 5,000 queries)": (
            lambda X: (knn32 if X.dtype == np.float32 else knn64).predict(X[:5_000])),
    }
    rows = []
    for name, run in cases.items():
        a, b = _median_pair(lambda run=run: run(X64), lambda run=run: run(X32), repeats)
        rows.append(_row("float32", f"{name}, float64 200,000 x 50", "same, float32", a, b))
    return rows


def bench_oversubscription(repeats: int) -> list[dict]:
    from threadpoolctl import threadpool_limits

    from toolbox.decomposition import PCA

    rng = np.random.default_rng(1)
    Xs = [rng.normal(size=(200_000, 100)) for _ in range(2)]

    def two_side_by_side(limit: int | None) -> None:
        def one(X: np.ndarray) -> None:
            PCA(10, svd_solver="covariance_eigh").fit(X)

        ctx = threadpool_limits(limits=limit, user_api="blas") if limit else None
        try:
            ts = [threading.Thread(target=one, args=(X,)) for X in Xs]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        finally:
            if ctx is not None:
                ctx.unregister()

    a, b = _median_pair(lambda: two_side_by_side(None), lambda: two_side_by_side(1), repeats)
    return [_row("threads", "two PCA(10) fits (200,000 x 100) from two threads, BLAS at 2 threads each",
                 "same, BLAS limited to 1 thread each (threadpoolctl)", a, b, cores=os.cpu_count())]


_FIRST_FIT = """
import time, numpy as np
t0 = time.perf_counter()
from toolbox.ensemble import HistGradientBoostingClassifier
rng = np.random.default_rng(0)
X = rng.normal(size=(20_000, 20)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
t1 = time.perf_counter()
HistGradientBoostingClassifier(max_iter=20).fit(X, y)
t2 = time.perf_counter()
HistGradientBoostingClassifier(max_iter=20).fit(X, y)
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def bench_first_call() -> list[dict]:
    def run(cache_dir: str) -> tuple[float, float, float]:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        out = subprocess.run([sys.executable, "-c", _FIRST_FIT], env=env, capture_output=True, text=True,
                             check=True, cwd=ROOT)
        imp, first, warm = (float(v) for v in out.stdout.split())
        return imp, first, warm

    with tempfile.TemporaryDirectory() as cache:
        _, cold, warm = run(cache)  # empty cache: every kernel compiles
        _, cached, warm2 = run(cache)  # the kernels compiled above, loaded from the cache
    warm = min(warm, warm2)
    return [_row("first call", "first HistGradientBoostingClassifier(max_iter=20) fit (20,000 x 20) in a new "
                 "process, empty numba cache", "same, numba cache filled by an earlier process", cold, cached,
                 warm_fit_s=round(warm, 5))]


def bench_device() -> list[dict]:
    try:
        import torch
    except ImportError:
        return []
    import toolbox as tb

    t = torch.randn(2_000_000, 50, dtype=torch.float64)

    def copy() -> None:
        np.array(t.numpy(), copy=True)

    def convert() -> None:
        tb.to_backend(t, "numpy")

    a, b = _median_pair(copy, convert, 7)
    same = np.shares_memory(tb.to_backend(t, "numpy"), t.numpy())
    return [_row("data where it is", "a 2,000,000 x 50 float64 torch CPU tensor copied to NumPy",
                 "toolbox.to_backend(tensor, 'numpy') (DLPack, no copy)", a, b, shares_memory=bool(same))]


def bench_dask_chunks(repeats: int) -> list[dict]:
    try:
        import dask.array as da
        from distributed import Client, LocalCluster, wait
    except ImportError:
        return []
    from toolbox.linear_model import LinearRegression
    from toolbox.preprocessing import StandardScaler

    n, d = 4_000_000, 20
    rows = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        for name, make in (("StandardScaler fit", lambda X, y: StandardScaler().fit(X)),
                           ("LinearRegression fit", lambda X, y: LinearRegression().fit(X, y))):
            times = {}
            for chunk in (10_000, 100_000, 1_000_000):
                # generated and kept on the workers first, so that the fit alone is timed
                X = da.random.RandomState(0).normal(size=(n, d), chunks=(chunk, d)).persist()
                y = (X[:, 0] + 1.0).persist()
                wait([X, y])
                make(X, y)  # warm
                ts = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    make(X, y)
                    ts.append(time.perf_counter() - t0)
                times[chunk] = statistics.median(ts)
                del X, y
                client.run(lambda: None)  # the persisted blocks are released before the next size
            rows.append(_row("dask chunks", f"{name}, 4,000,000 x 20 generated on the workers, 10,000-row chunks",
                             "same, 100,000-row chunks", times[10_000], times[100_000],
                             chunk_rows_s={str(k): round(v, 4) for k, v in times.items()}))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "tips.json"))
    args = ap.parse_args()
    started = time.time()
    load = os.getloadavg()
    rows = []
    for bench in (lambda: bench_float32(args.repeats), lambda: bench_oversubscription(args.repeats),
                  bench_first_call, bench_device, lambda: bench_dask_chunks(3)):
        for r in bench():
            print(f"{r['tip']:>16}: {r['before_s']:8.4f} s -> {r['after_s']:8.4f} s  ({r['after_over_before']}x)"
                  f"  {r['before']}", flush=True)
            rows.append(r)
    out = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                       "cpus": os.cpu_count(), "load_avg_at_start": load},
           "started": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started)),
           "wall_s": round(time.time() - started, 1), "rows": rows}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
