"""``n_jobs``: cross-validation and grid search with 1 and 2 jobs, same process, alternating.

    .venv/bin/python benchmarks/bench_parallel.py [--repeats 3] [--json benchmarks/results/parallel.json]

Cases (issue 15, part 1): a 5-fold ``cross_validate`` of ``LogisticRegression``
on 200,000 x 50, and a 20-candidate ``GridSearchCV`` of ``LogisticRegression``
(``C`` on a log grid, 3 folds) on 50,000 x 50. Reported: the median wall time
of each ``n_jobs`` and the ratio ``n_jobs=2 / n_jobs=1`` (target <= 0.6 on the
2-core machine), and whether the scores are bit-identical.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import toolbox as tb
from toolbox.linear_model import LogisticRegression
from toolbox.model_selection import GridSearchCV, cross_validate


def _data(n: int, d: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def _cases() -> dict:
    Xa, ya = _data(200_000)
    Xb, yb = _data(50_000)
    grid = {"C": list(np.logspace(-3, 2, 20))}
    return {
        "cross_validate LogisticRegression 200,000x50, 5 folds": (
            lambda n_jobs: cross_validate(LogisticRegression(), Xa, ya, cv=5, n_jobs=n_jobs)["test_score"]),
        "GridSearchCV LogisticRegression 20 candidates x 3 folds, 50,000x50": (
            lambda n_jobs: GridSearchCV(LogisticRegression(), grid, cv=3, n_jobs=n_jobs).fit(Xb, yb)
            .cv_results_["mean_test_score"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "parallel.json"))
    args = ap.parse_args()
    rows = []
    load_start = os.getloadavg()
    for name, run in _cases().items():
        run(1)  # warm-up: compilation, first allocations
        times: dict[int, list[float]] = {1: [], 2: []}
        results = {}
        for _ in range(args.repeats):
            for n_jobs in (1, 2):
                start = time.perf_counter()
                results[n_jobs] = np.asarray(run(n_jobs))
                times[n_jobs].append(time.perf_counter() - start)
        med = {k: statistics.median(v) for k, v in times.items()}
        row = {"case": name, "n_jobs_1_s": med[1], "n_jobs_2_s": med[2], "ratio": med[2] / med[1],
               "target": 0.6, "meets_target": med[2] / med[1] <= 0.6,
               "identical_scores": bool(np.array_equal(results[1], results[2])),
               "all_s": {str(k): v for k, v in times.items()}, "repeats": args.repeats}
        rows.append(row)
        print(f"{name}: n_jobs=1 {med[1]:.2f} s, n_jobs=2 {med[2]:.2f} s, ratio {row['ratio']:.2f} "
              f"(target 0.6), identical scores: {row['identical_scores']}", flush=True)
    out = {"benchmark": "parallel", "toolbox": tb.__version__,
           "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                       "load_average_start": load_start, "load_average_end": os.getloadavg()},
           "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")},
           "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows}
    if args.json != "none":
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
