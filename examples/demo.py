"""toolbox demo: the same estimators on every installed backend, on bundled data; then the workflow.

Run with ``bash scripts/demo.sh`` (or ``python examples/demo.py`` in an
environment with toolbox installed). Each task runs with scikit-learn (the
reference) and then with toolbox on every installed backend and device; each
row gives the device, the result (which should agree with scikit-learn's) and
the median time. Then: a model saved from torch and loaded on NumPy, a fit
served by the cache, ``toolbox.fit``, a tracked run, the registry (register,
promote, load back), a pretrained MiniLM from ``toolbox.hub``, and the
command that opens the dashboard on what was logged (``./toolbox-runs``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn.cluster
import sklearn.decomposition
import sklearn.ensemble
import sklearn.linear_model
import sklearn.preprocessing
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

import toolbox as tb
from toolbox.backends import get_framework
from toolbox.cluster import KMeans
from toolbox.decomposition import PCA
from toolbox.ensemble import HistGradientBoostingClassifier
from toolbox.linear_model import LogisticRegression
from toolbox.preprocessing import StandardScaler


@dataclass
class Task:
    """One demo task: what it computes on (X, y) arrays of some library, and how it is reported."""

    title: str
    result_name: str
    toolbox_fn: Callable[[Any, Any, Any, Any], Any]
    sklearn_fn: Callable[[Any, Any, Any, Any], Any]
    #: Backends left out: the standard-only reference backend is for tests, too slow for a tree ensemble.
    skip: tuple[str, ...] = ()



def _np(x: Any) -> np.ndarray:
    return np.asarray(tb.to_backend(x, "numpy"))


TASKS = [
    Task("StandardScaler().fit_transform", "mean |z|",
         lambda Xtr, ytr, Xte, yte: float(np.abs(_np(StandardScaler().fit_transform(Xtr))).mean()),
         lambda Xtr, ytr, Xte, yte: float(np.abs(sklearn.preprocessing.StandardScaler().fit_transform(Xtr)).mean())),
    Task("LogisticRegression(C=0.1).fit -> test accuracy", "accuracy",
         lambda Xtr, ytr, Xte, yte: LogisticRegression(C=0.1, max_iter=500).fit(Xtr, ytr).score(Xte, yte),
         lambda Xtr, ytr, Xte, yte: sklearn.linear_model.LogisticRegression(C=0.1, max_iter=500).fit(Xtr, ytr).score(Xte, yte)),
    Task("PCA(n_components=10).fit", "explained var.",
         lambda Xtr, ytr, Xte, yte: float(np.sum(_np(PCA(10).fit(Xtr).explained_variance_ratio_))),
         lambda Xtr, ytr, Xte, yte: float(np.sum(sklearn.decomposition.PCA(10).fit(Xtr).explained_variance_ratio_))),
    Task("KMeans(10, n_init=1, same init).fit", "inertia",
         lambda Xtr, ytr, Xte, yte: KMeans(10, init=Xtr[:10, ...], n_init=1).fit(Xtr).inertia_,
         lambda Xtr, ytr, Xte, yte: sklearn.cluster.KMeans(10, init=Xtr[:10, ...], n_init=1).fit(Xtr).inertia_),
    Task("HistGradientBoostingClassifier(max_iter=30).fit -> test accuracy", "accuracy",
         lambda Xtr, ytr, Xte, yte: HistGradientBoostingClassifier(max_iter=30, early_stopping=False)
         .fit(Xtr, ytr).score(Xte, yte),
         lambda Xtr, ytr, Xte, yte: sklearn.ensemble.HistGradientBoostingClassifier(max_iter=30, early_stopping=False)
         .fit(Xtr, ytr).score(Xte, yte),
         skip=("array_api_strict",)),
]


def _targets() -> list[tuple[str, str | None]]:
    """(backend, device) pairs for every installed backend, GPUs included when present."""
    out: list[tuple[str, str | None]] = []
    for name in tb.available_backends():
        if name == "dask":  # a scale-out engine for data beyond one machine's memory (docs/scaling.md), not a device
            continue
        if name == "cupy":
            try:
                import cupy

                if cupy.cuda.runtime.getDeviceCount() > 0:
                    out.append(("cupy", "cuda"))
            except Exception:
                pass
            continue
        out.append((name, "cpu"))
        try:
            if name == "torch":
                import torch

                if torch.cuda.is_available():
                    out.append(("torch", "cuda"))
            elif name == "jax":
                import jax

                if jax.devices("gpu"):
                    out.append(("jax", "gpu"))
        except Exception:
            pass
    return out


def _time(fn: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    result = fn()  # warm-up: compilation, first allocations
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()  # every task returns a Python number: asynchronous backends are synchronized
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def _model_files_and_cache(Xtr: Any, ytr: Any, Xte: Any, workdir: Path) -> None:
    """Save a model fitted on torch, load it on NumPy; fit twice through the cache."""
    import toolbox.cache

    print("Model files (safetensors + JSON, no pickle) and the cache")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    if "torch" in tb.available_backends():
        with tb.use_backend("torch"):
            model.fit(tb.to_backend(Xtr, "torch"), ytr)
    else:
        model.fit(Xtr, ytr)
    path = workdir / "digits-model"
    tb.save(model, path)
    files = ", ".join(f"{f.name} {f.stat().st_size / 1e3:.1f} kB" for f in sorted(path.iterdir()))
    on_numpy = tb.load(path, backend="numpy")
    same = np.array_equal(_np(on_numpy.predict(Xte)), _np(tb.load(path).predict(Xte)))
    print(f"  tb.save -> {path.name}/: {files}")
    print(f"  tb.load(backend='numpy'): {type(on_numpy[-1].coef_).__name__} coefficients, "
          f"same predictions as the torch model: {same}")
    tb.set_config(cache=True)
    try:
        times = []
        for _ in range(2):
            start = time.perf_counter()
            LogisticRegression(max_iter=200).fit(Xtr, ytr)
            times.append(time.perf_counter() - start)
        info = toolbox.cache.info()
        print(f"  set_config(cache=True): first fit {times[0] * 1e3:.1f} ms, identical second fit "
              f"{times[1] * 1e3:.2f} ms ({times[0] / times[1]:.0f}x); cache hits {info['hits']}, "
              f"misses {info['misses']}")
    finally:
        tb.set_config(cache=False)
    print()


def _workflow(Xtr: Any, ytr: Any, Xte: Any, yte: Any) -> None:
    """toolbox.fit, tracking, the registry and the hub, as a user strings them together."""
    import toolbox.registry as registry
    import toolbox.tracking as tracking

    print("toolbox.fit: one call from data to a tuned model (every trial tracked in ./toolbox-runs)")
    start = time.perf_counter()  # max_trials + random_state: reproducible (a time budget is the other way)
    model = tb.fit(Xtr, ytr, time_budget=None, max_trials=5, random_state=0, verbose=False)
    took = time.perf_counter() - start
    accuracy = float(np.mean(_np(model.predict(Xte)) == yte))
    print(f"  task {model.task_} ({model.task_reason_}); best: {model.leaderboard_[0]['model']} "
          f"of {len(model.leaderboard_)} trials in {took:.1f} s; held-out accuracy {accuracy:.4f}")

    with tracking.start_run(experiment="demo", name="held-out evaluation") as run:
        run.log_params({"source": "toolbox.fit", "fit_run": model.run_id_})
        run.log_metric("accuracy", accuracy)
    best = tracking.search_runs("demo", filter="metrics.accuracy > 0.5", order_by=["metrics.accuracy DESC"])
    print(f"  tracking: {len(best)} run(s) in experiment 'demo' with accuracy > 0.5; "
          f"best {best[0].metrics['accuracy']:.4f}")

    version = registry.register(model, "digits", bump="minor", metrics={"accuracy": accuracy},
                                data=(Xtr, ytr), description="toolbox.fit on the demo digits")
    registry.promote("digits", version.version, "production", reason="demo: held-out accuracy")
    served = registry.load("digits", stage="production")
    same = np.array_equal(_np(served.predict(Xte)), _np(model.predict(Xte)))
    print(f"  registry: digits {version.version} in production; loaded back (checksums verified), "
          f"same predictions: {same}")

    try:
        suite = tb.hub.load_suite()
        pipe = make_pipeline(tb.hub.load("minilm"), LogisticRegression(max_iter=1000))
        pipe.fit(suite.X_train, suite.y_train)
        hub_acc = float(np.mean(np.asarray(pipe.predict(suite.X_test)) == np.asarray(suite.y_test)))
        print(f"  hub: all-MiniLM-L6-v2 (offline, from the installed package) + LogisticRegression on "
              f"{len(suite.X_train)} sentences: accuracy {hub_acc:.3f} on {len(suite.X_test)} held-out")
    except Exception as exc:  # the hub extra (and its packaged model) is optional
        print(f"  hub: skipped ({type(exc).__name__}: {exc})")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per cell (median reported)")
    args = parser.parse_args()

    digits = load_digits()
    X = np.repeat(digits.data, 3, axis=0) + np.random.default_rng(0).normal(0, 0.5, (3 * 1797, 64))
    y = np.repeat(digits.target, 3)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    print(f"toolbox {tb.__version__} demo: scikit-learn's bundled digits, 3 noisy copies: "
          f"train {Xtr.shape}, test {Xte.shape}\n")
    targets = _targets()
    for task in TASKS:
        print(task.title)
        print(f"  {'backend':<18} {'device':<11} {'dtype':<8} {task.result_name:>15} {'median time':>12}")
        ref, t = _time(lambda task=task: task.sklearn_fn(Xtr, ytr, Xte, yte), args.repeat)
        print(f"  {'scikit-learn':<18} {'cpu':<11} {'float64':<8} {ref:>15.6g} {t * 1e3:>10.1f}ms")
        for name, device in targets:
            if name in task.skip:
                continue
            with tb.use_backend(name, device):
                fw = get_framework(name)
                arrays = [tb.to_backend(a, name, device) for a in (Xtr, ytr, Xte, yte)]
                res, t = _time(lambda task=task, a=arrays: task.toolbox_fn(*a), args.repeat)
                dev = fw.describe_device(fw.device_of(arrays[0]))
                dtype = str(arrays[0].dtype).rsplit(".", 1)[-1]
            print(f"  {name:<18} {dev:<11} {dtype:<8} {res:>15.6g} {t * 1e3:>10.1f}ms")
        print()
    with tempfile.TemporaryDirectory(prefix="toolbox-demo-") as tmp:
        _model_files_and_cache(Xtr, ytr, Xte, Path(tmp))
    _workflow(Xtr, ytr, Xte, yte)
    print(f"conversions during the demo: {tb.transfer_stats()}")
    print("\nsee the runs live: toolbox dashboard --store ./toolbox-runs   (opens on http://127.0.0.1:<port>/)")


if __name__ == "__main__":
    main()
