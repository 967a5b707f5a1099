"""Dask: toolbox's blockwise fits against dask-ml's on the same LocalCluster and the same lazily generated data.

    .venv/bin/python benchmarks/bench_dask.py [--rows 10000000] [--features 50] [--chunk-rows 250000]
        [--workers 2] [--no-persist] [--peer-solver newton] [--json benchmarks/results/dask.json]

Issue 15, part 2. The data (``--rows`` x ``--features`` float64, default 10^7 x 50) is
generated lazily block by block (8 Gaussian blobs plus noise, chunked by rows) and never
exists on the client; ``y`` is a lazy linear function of it (its sign for the classifiers).
Cases: ``StandardScaler``, ``LinearRegression``, ``LogisticRegression`` and ``KMeans`` of
toolbox and of dask-ml (``dask_ml.preprocessing``, ``dask_ml.linear_model`` with
``solver=--peer-solver``, default ``"newton"``, dask-ml's fastest here: its default ``"admm"``
is about 10x slower on this data; ``dask_ml.cluster``), fitted one after the other on one
``LocalCluster`` (``--workers`` processes, one thread each; both libraries imported on the
workers beforehand). Reported per case: wall time
of each fit, the peak resident memory of the workers during it (sampled every 0.1 s,
the largest worker, its increase over the worker's memory before the fit, and the sum over
workers), quality (R^2, accuracy, inertia, largest difference of the scaler's means) and the
ratios toolbox / dask-ml of time and peak worker memory. By default the generated data is
persisted on the workers first (untimed), so that the iterative fits time the algorithms
rather than the generator; with ``--no-persist`` every pass regenerates the blocks (as data
read from storage would be).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def _blob_block(centers: np.ndarray, block_info: Any = None) -> np.ndarray:
    """Rows of one block: a blob centre plus unit noise, seeded by the block's index."""
    i = block_info[None]["chunk-location"][0]
    shape = block_info[None]["chunk-shape"]
    rng = np.random.default_rng(1_000 + i)
    labels = rng.integers(0, centers.shape[0], size=shape[0])
    return centers[labels] + rng.standard_normal(shape)


def make_data(rows: int, d: int, chunk_rows: int) -> tuple[Any, Any, Any, np.ndarray]:
    import dask.array as da

    rng = np.random.default_rng(0)
    centers = rng.uniform(-6, 6, size=(8, d))
    w = rng.standard_normal(d)
    X = da.map_blocks(_blob_block, centers=centers, chunks=((chunk_rows,) * (rows // chunk_rows)
                      + ((rows % chunk_rows,) if rows % chunk_rows else ()), (d,)), dtype=np.float64,
                      meta=np.empty((0, 0)))
    noise = da.random.default_rng(1).standard_normal(rows, chunks=(X.chunks[0],))
    score = X @ w
    y_reg = score + noise
    y_clf = (score - float(centers.mean(axis=0) @ w) + 3.0 * noise > 0).astype(np.int64)
    return X, y_reg, y_clf, w


class PeakMemory:
    """Samples the resident memory of every worker while a fit runs."""

    def __init__(self, client: Any, interval: float = 0.1) -> None:
        self.client, self.interval = client, interval
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()

    @staticmethod
    def _rss() -> int:
        import psutil

        return int(psutil.Process().memory_info().rss)

    def _sample(self) -> None:
        for addr, rss in self.client.run(self._rss).items():
            self.peak[addr] = max(self.peak.get(addr, 0), rss)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._sample()
            except Exception:  # a worker busy in a long GIL-holding call: try again
                pass
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self.baseline = dict(self.client.run(self._rss))
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _r2(est: Any, X: Any, y: Any) -> float:
    import dask

    pred = est.predict(X)
    ss_res, ss_tot = dask.compute(((y - pred) ** 2).sum(), ((y - y.mean()) ** 2).sum())
    return float(1 - ss_res / ss_tot)


def _accuracy(est: Any, X: Any, y: Any) -> float:
    import dask

    (acc,) = dask.compute((est.predict(X) == y).mean())
    return float(acc)


def _inertia(est: Any, X: Any) -> float:
    import dask

    c = np.asarray(est.cluster_centers_)
    d2 = X.map_blocks(lambda b: ((b[:, None, :] - c[None, :, :]) ** 2).sum(-1).min(1), drop_axis=1,
                      dtype=float)
    (total,) = dask.compute(d2.sum())
    return float(total)


def cases(X: Any, y_reg: Any, y_clf: Any, peer_solver: str) -> list[dict]:
    import dask_ml.cluster
    import dask_ml.linear_model
    import dask_ml.preprocessing

    from toolbox.cluster import KMeans
    from toolbox.linear_model import LinearRegression, LogisticRegression
    from toolbox.preprocessing import StandardScaler

    return [
        {"case": "StandardScaler", "toolbox": lambda: StandardScaler().fit(X),
         "dask_ml": lambda: dask_ml.preprocessing.StandardScaler().fit(X),
         "peer_estimator": "dask_ml.preprocessing.StandardScaler()",
         "quality": ("max |mean_ - toolbox mean_|", None)},
        {"case": "LinearRegression", "toolbox": lambda: LinearRegression().fit(X, y_reg),
         "dask_ml": lambda: dask_ml.linear_model.LinearRegression(solver=peer_solver).fit(X, y_reg),
         "peer_estimator": f"dask_ml.linear_model.LinearRegression(solver={peer_solver!r})",
         "quality": ("R^2", lambda est: _r2(est, X, y_reg))},
        {"case": "LogisticRegression", "toolbox": lambda: LogisticRegression().fit(X, y_clf),
         "dask_ml": lambda: dask_ml.linear_model.LogisticRegression(solver=peer_solver).fit(X, y_clf),
         "peer_estimator": f"dask_ml.linear_model.LogisticRegression(solver={peer_solver!r})",
         "quality": ("accuracy", lambda est: _accuracy(est, X, y_clf))},
        {"case": "KMeans", "toolbox": lambda: KMeans(n_clusters=8, random_state=0).fit(X),
         "dask_ml": lambda: dask_ml.cluster.KMeans(n_clusters=8, random_state=0).fit(X),
         "peer_estimator": "dask_ml.cluster.KMeans(n_clusters=8, random_state=0) (init='k-means||')",
         "quality": ("inertia", lambda est: _inertia(est, X))},
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--features", type=int, default=50)
    ap.add_argument("--chunk-rows", type=int, default=250_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="auto", help="per worker, as LocalCluster takes it")
    ap.add_argument("--no-persist", dest="persist", action="store_false",
                    help="regenerate the blocks in every pass instead of persisting them on the workers first")
    ap.add_argument("--peer-solver", default="newton",
                    help="dask-ml's solver for the linear models (its default, 'admm', is ~10x slower here)")
    ap.add_argument("--only", nargs="*", help="case names to run (default: all)")
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "dask.json"))
    args = ap.parse_args()

    import dask
    import dask_ml
    import distributed
    from distributed import Client, LocalCluster

    import toolbox as tb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               memory_limit=args.memory_limit, dashboard_address=None, host="127.0.0.1")
    client = Client(cluster)
    load_start = os.getloadavg()
    X, y_reg, y_clf, _ = make_data(args.rows, args.features, args.chunk_rows)
    if args.persist:
        start = time.perf_counter()
        X, y_reg, y_clf = client.persist([X, y_reg, y_clf])
        distributed.wait([X, y_reg, y_clf])
        print(f"data generated and persisted on the workers in {time.perf_counter() - start:.1f} s", flush=True)
    # untimed: every worker imports both libraries first (the first task would otherwise pay for it)
    for module in ("toolbox.dask._fits", "toolbox.dask._iterative", "toolbox.linear_model._logistic_loss",
                   "toolbox.cluster", "dask_ml.preprocessing", "dask_ml.linear_model", "dask_ml.cluster",
                   "dask_glm.algorithms"):
        client.run(importlib.import_module, module)
    all_cases = cases(X, y_reg, y_clf, args.peer_solver)
    rows = []
    toolbox_mean = None
    for case in all_cases:
        if args.only and case["case"] not in args.only:
            continue
        row: dict[str, Any] = {"case": case["case"], "peer_estimator": case["peer_estimator"]}
        for lib in ("toolbox", "dask_ml"):
            with warnings.catch_warnings(record=True) as caught, PeakMemory(client) as mem:
                warnings.simplefilter("always")
                start = time.perf_counter()
                est = case[lib]()
                elapsed = time.perf_counter() - start
            name, quality = case["quality"]
            if case["case"] == "StandardScaler":
                if lib == "toolbox":
                    toolbox_mean = np.asarray(est.mean_)
                    value = 0.0
                else:
                    value = float(np.max(np.abs(np.asarray(est.mean_) - toolbox_mean)))
            else:
                value = quality(est)
            extra = max(mem.peak[a] - mem.baseline.get(a, 0) for a in mem.peak)
            row[lib] = {"seconds": elapsed, "peak_worker_rss_bytes": max(mem.peak.values()),
                        "peak_rss_sum_bytes": sum(mem.peak.values()),
                        "baseline_worker_rss_bytes": max(mem.baseline.values()),
                        "peak_worker_rss_increase_bytes": extra,
                        "quality": {name: value},
                        "warnings": sorted({f"{type(c.message).__name__}: {str(c.message)[:120]}" for c in caught})}
            print(f"{case['case']:20s} {lib:8s} {elapsed:8.2f} s  peak worker RSS "
                  f"{max(mem.peak.values()) / 2**20:7.0f} MiB (+{extra / 2**20:.0f} MiB during the fit)  "
                  f"{name} {value:.6g}", flush=True)
        row["time_ratio"] = row["toolbox"]["seconds"] / row["dask_ml"]["seconds"]
        row["peak_memory_ratio"] = row["toolbox"]["peak_worker_rss_bytes"] / row["dask_ml"]["peak_worker_rss_bytes"]
        row["peak_memory_increase_ratio"] = (row["toolbox"]["peak_worker_rss_increase_bytes"]
                                             / max(row["dask_ml"]["peak_worker_rss_increase_bytes"], 1))
        print(f"{'':20s} ratios toolbox / dask-ml: time {row['time_ratio']:.2f}, peak worker memory "
              f"{row['peak_memory_ratio']:.2f} (increase during the fit {row['peak_memory_increase_ratio']:.2f})",
              flush=True)
        rows.append(row)
    out = {"benchmark": "dask", "toolbox": tb.__version__, "dask": dask.__version__,
           "distributed": distributed.__version__, "dask_ml": dask_ml.__version__,
           "data": {"rows": args.rows, "features": args.features, "dtype": "float64",
                    "bytes": args.rows * args.features * 8, "chunk_rows": args.chunk_rows,
                    "n_blocks": len(X.chunks[0]), "generated": "lazily, block by block (8 Gaussian blobs + noise)",
                    "persisted": bool(args.persist)},
           "peer_solver": args.peer_solver,
           "cluster": {"workers": args.workers, "threads_per_worker": 1, "processes": True,
                       "memory_limit": args.memory_limit},
           "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                       "load_average_start": load_start, "load_average_end": os.getloadavg()},
           "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows}
    client.close()
    cluster.close()
    if args.json != "none":
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
