"""``evaluate`` and ``benchmark``: accuracy, F1, latency and throughput; the shipped offline suite."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["Suite", "benchmark", "evaluate", "load_suite"]


@dataclass(frozen=True)
class Suite:
    """A labelled text-classification suite with a fixed train / test split."""

    name: str
    license: str
    labels: tuple[str, ...]
    X_train: list[str]
    y_train: np.ndarray
    X_test: list[str]
    y_test: np.ndarray
    description: str = ""


def load_suite(name: str = "topics") -> Suite:
    """The shipped offline suite: ``"topics"`` (320 short English sentences, 4 topics, CC0, written for toolbox).

    Returns
    -------
    Suite
        ``X_train`` (240 texts), ``y_train``, ``X_test`` (80), ``y_test``; deterministic.
    """
    try:
        text = resources.files(__package__).joinpath("suite", f"{name}.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"no suite named {name!r}; shipped: ['topics']") from None
    doc = json.loads(text)
    return Suite(doc["name"], doc["license"], tuple(doc["labels"]),
                 [r["text"] for r in doc["train"]], np.asarray([r["label"] for r in doc["train"]]),
                 [r["text"] for r in doc["test"]], np.asarray([r["label"] for r in doc["test"]]),
                 doc.get("description", ""))


def _device_of(model: Any) -> str:
    steps = [s for _, s in getattr(model, "steps", [])] or [model]
    for s in steps:
        for attr in ("device_",):
            if getattr(s, attr, None):
                return str(getattr(s, attr))
        for inner in ("model_", "embedder_"):
            m = getattr(s, inner, None)
            if m is not None:
                if hasattr(m, "device_"):
                    return str(m.device_)
                try:
                    return str(next(m.parameters()).device)
                except (AttributeError, StopIteration, TypeError):
                    pass
    return "cpu"


def _host(a: Any) -> np.ndarray:
    from ..backends import framework_of, to_backend

    if framework_of(a) is not None and not isinstance(a, np.ndarray):
        return np.asarray(to_backend(a, "numpy"))
    return np.asarray(a)


def evaluate(model: Any, X: Any, y: Any, *, dataset: str | None = None, record: bool = True,
             latency_repeats: int = 5) -> dict[str, Any]:
    """Accuracy, macro F1, single-text latency and batch throughput of a fitted classifier.

    Parameters
    ----------
    model : a fitted classifier (``TextClassifier``, a ``Pipeline`` ending in one...)
    X, y : the texts and their labels
    dataset : str, optional
        A name for the card's evaluation results.
    record : bool
        Append the result to ``model.evaluation_results_``, which
        ``save_pretrained`` / ``push`` write into the model card.

    Returns
    -------
    dict
        ``accuracy``, ``f1`` (macro), ``latency_ms`` (median over single-text
        calls), ``throughput`` (texts/s over the whole batch), ``n``, ``device``, ``dataset``.
    """
    from ..metrics import accuracy_score, f1_score

    y_true = _host(y)
    texts = list(X)
    if len(texts) != y_true.shape[0]:
        raise ValueError(f"X has {len(texts)} texts but y has {y_true.shape[0]} labels")
    model.predict(texts[:1])  # warm-up (lazy loading, kernels)
    t0 = time.perf_counter()
    y_pred = _host(model.predict(texts))
    elapsed = time.perf_counter() - t0
    singles = []
    for i in range(max(1, latency_repeats)):
        t = time.perf_counter()
        model.predict(texts[i % len(texts):i % len(texts) + 1])
        singles.append(time.perf_counter() - t)
    result = {"dataset": dataset, "n": len(texts),
              "accuracy": float(accuracy_score(y_true, y_pred)),
              "f1": float(f1_score(y_true, y_pred, average="macro")),
              "latency_ms": 1000 * statistics.median(singles),
              "throughput": len(texts) / elapsed if elapsed > 0 else float("inf"),
              "device": _device_of(model)}
    if record:
        previous = list(getattr(model, "evaluation_results_", []) or [])
        model.evaluation_results_ = [*previous, result]
    return result


def benchmark(names: list[Any], suite: str = "topics", *, device: Any = "auto", head: str = "logreg",
              **load_params: Any) -> list[dict[str, Any]]:
    """Fit and evaluate each model on a suite; one row per model.

    An embedder gets a toolbox ``LogisticRegression`` on its embeddings
    (``head="logreg"``); a classifier is fitted as it is. Each fitted model's
    evaluation results are recorded for its model card.

    Parameters
    ----------
    names : list of str or estimator
        Names for :func:`toolbox.hub.load`, or estimators.
    suite : str
        A shipped suite (:func:`load_suite`).

    Returns
    -------
    list of dict
        ``model``, ``device``, ``accuracy``, ``f1``, ``latency_ms``, ``throughput``, ``fit_s``
        (``pandas.DataFrame(rows)`` makes a table of it).
    """
    from sklearn.pipeline import make_pipeline

    from ..linear_model import LogisticRegression
    from ._embedder import Embedder
    from ._load import load

    s = load_suite(suite)
    rows = []
    for name in names:
        est = load(name, device=device, **load_params) if isinstance(name, str) else name
        if isinstance(est, Embedder):
            est = make_pipeline(est, LogisticRegression(max_iter=1000)) if head == "logreg" else est
        t0 = time.perf_counter()
        est.fit(s.X_train, s.y_train)
        fit_s = time.perf_counter() - t0
        r = evaluate(est, s.X_test, s.y_test, dataset=s.name)
        rows.append({"model": name if isinstance(name, str) else type(name).__name__, **r, "fit_s": fit_s})
    return rows
