"""toolbox.cache figures: hashing throughput, a cached LogisticRegression fit, a grid search re-run.

Run ``.venv/bin/python benchmarks/bench_cache.py`` (``--quick`` for smaller
sizes); it prints the figures and writes ``benchmarks/results/cache.json``.

* hashing 200,000 x 100 float64 (160 MB) with ``toolbox.cache.hash_array``
  (xxh3-128 straight from the buffer), median of repeats, in GB/s; beside it,
  as context, ``hashlib.sha256`` over the buffer and ``xxhash`` on
  ``bytes(x)`` (which copies first), and a Fortran-ordered and a strided
  array through ``hash_array``;
* a LogisticRegression fit on 200,000 x 50 through the cache: first
  (a miss, fitted) and second (a hit) time and their ratio;
* a cross-validated grid search (StandardScaler + LogisticRegression,
  5 folds) re-run with one more grid point: the number of real fits in each
  run and the time ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import xxhash

import toolbox
import toolbox.cache as tc
from toolbox import _hooks


def _median_time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_hashing(n: int, d: int, repeats: int) -> dict:
    x = np.random.default_rng(0).standard_normal((n, d))
    gb = x.nbytes / 1e9
    out = {"shape": [n, d], "bytes": int(x.nbytes), "repeats": repeats}
    tc.hash_array(x)  # warm
    t = _median_time(lambda: tc.hash_array(x), repeats)
    out["hash_array"] = {"seconds": t, "gb_per_s": gb / t}
    f = np.asfortranarray(x)
    t = _median_time(lambda: tc.hash_array(f), repeats)
    out["hash_array_fortran"] = {"seconds": t, "gb_per_s": gb / t}
    s = x[:, ::2]
    t = _median_time(lambda: tc.hash_array(s), max(3, repeats // 3))
    out["hash_array_strided_half"] = {"seconds": t, "gb_per_s": s.nbytes / 1e9 / t}
    t = _median_time(lambda: hashlib.sha256(memoryview(x).cast("B")).hexdigest(), max(3, repeats // 3))
    out["sha256_buffer"] = {"seconds": t, "gb_per_s": gb / t}
    t = _median_time(lambda: xxhash.xxh3_128(bytes(x)).hexdigest(), max(3, repeats // 3))
    out["xxh3_128_of_bytes_copy"] = {"seconds": t, "gb_per_s": gb / t}
    return out


def bench_fit(n: int, d: int) -> dict:
    from toolbox.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(np.int64)
    with toolbox.config_context(cache=False):  # warm-up (first-call costs are not the cache's)
        LogisticRegression().fit(X, y)
    tc.clear()
    with toolbox.config_context(cache=True):
        start = time.perf_counter()
        a = LogisticRegression().fit(X, y)
        first = time.perf_counter() - start
        start = time.perf_counter()
        b = LogisticRegression().fit(X, y)
        second = time.perf_counter() - start
    assert np.array_equal(a.coef_, b.coef_)
    with toolbox.config_context(cache=False):
        start = time.perf_counter()
        LogisticRegression().fit(X, y)
        plain = time.perf_counter() - start
    return {"shape": [n, d], "uncached_seconds": plain, "first_seconds": first, "second_seconds": second,
            "speedup": first / second, "first_overhead_vs_uncached": first / plain,
            "info": {k: tc.info()[k] for k in ("hits", "misses")}}


def bench_search(n: int, d: int) -> dict:
    from sklearn.pipeline import Pipeline

    from toolbox.linear_model import LogisticRegression
    from toolbox.model_selection import GridSearchCV
    from toolbox.preprocessing import StandardScaler

    rng = np.random.default_rng(2)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 0).astype(np.int64)
    fits: list[str] = []

    def spy(est, method, call, args, kwargs):
        fits.append(f"{type(est).__name__}.{method}")
        return call()

    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    grid = [0.001, 0.01, 0.1, 1.0]
    tc.clear()
    _hooks.add_fit_hook("bench-spy", spy)
    try:
        with toolbox.config_context(cache=True):
            start = time.perf_counter()
            first = GridSearchCV(pipe, {"clf__C": grid}, cv=5).fit(X, y)
            t1 = time.perf_counter() - start
            n1 = len(fits)
            fits.clear()
            start = time.perf_counter()
            second = GridSearchCV(pipe, {"clf__C": [*grid, 10.0]}, cv=5).fit(X, y)
            t2 = time.perf_counter() - start
            n2 = list(fits)
    finally:
        _hooks.remove_fit_hook("bench-spy")
    real = [f for f in n2 if not f.startswith("GridSearchCV")]
    return {"shape": [n, d], "folds": 5, "grid_first": grid, "grid_second": [*grid, 10.0],
            "fits_first": n1 - 1, "fits_second": len(real), "fits_second_detail": sorted(set(real)),
            "best_first": first.best_params_, "best_second": second.best_params_,
            "first_seconds": t1, "second_seconds": t2, "time_ratio": t1 / t2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cache.json"))
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    results = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "processor": platform.processor(), "toolbox": toolbox.__version__,
                    "xxhash": xxhash.VERSION},
        "hashing": bench_hashing(200_000 // scale, 100, 21),
        "fit": bench_fit(200_000 // scale, 50),
        "search": bench_search(20_000 // scale, 20),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    h, f, s = results["hashing"], results["fit"], results["search"]
    print(f"hash_array {h['shape']} float64: {h['hash_array']['seconds'] * 1e3:.1f} ms "
          f"({h['hash_array']['gb_per_s']:.1f} GB/s); Fortran {h['hash_array_fortran']['gb_per_s']:.1f} GB/s; "
          f"strided {h['hash_array_strided_half']['gb_per_s']:.1f} GB/s; sha256 {h['sha256_buffer']['gb_per_s']:.2f} "
          f"GB/s; xxh3 on bytes(x) {h['xxh3_128_of_bytes_copy']['gb_per_s']:.1f} GB/s")
    print(f"LogisticRegression {f['shape']}: first {f['first_seconds']:.3f} s, second {f['second_seconds'] * 1e3:.1f} ms "
          f"-> {f['speedup']:.0f}x (uncached fit {f['uncached_seconds']:.3f} s)")
    print(f"GridSearchCV {s['shape']} x5 folds: {s['fits_first']} fits, then {s['fits_second']} with one more point "
          f"({s['fits_second_detail']}); {s['first_seconds']:.2f} s vs {s['second_seconds']:.2f} s "
          f"-> {s['time_ratio']:.1f}x")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
