"""scikit-learn's callback API (sklearn.callback, 1.9) on toolbox's estimators and searches."""

from __future__ import annotations

import numpy as np
import pytest

callback = pytest.importorskip("sklearn.callback")

from toolbox.linear_model import LogisticRegression, Ridge  # noqa: E402
from toolbox.model_selection import GridSearchCV  # noqa: E402
from toolbox.preprocessing import StandardScaler  # noqa: E402


class Recorder:
    """A FitCallback that records its hooks (task names and what each hook received)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object]] = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name, estimator))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name, estimator))

    def on_fit_task_begin(self, estimator, context, *, metadata=None):
        self.calls.append(("begin", context.task_name, metadata))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None, metadata=None):
        self.calls.append(("end", context.task_name, fitted_estimator))

    def count(self, hook: str, task: str | None = None) -> int:
        return sum(1 for h, t, _ in self.calls if h == hook and (task is None or t == task))


class PropagatedRecorder(Recorder):
    max_propagation_depth = None


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("method", ["fit", "partial_fit", "fit_transform"])
def test_estimator_fit_is_one_callback_task(method):
    X, _ = _data()
    rec = Recorder()
    scaler = StandardScaler().set_callbacks(rec)
    getattr(scaler, method)(X)
    assert [rec.count(h) for h in ("setup", "begin", "end", "teardown")] == [1, 1, 1, 1]
    fitted = next(f for h, _, f in rec.calls if h == "end")
    np.testing.assert_allclose(fitted.transform(X), scaler.transform(X))  # a fitted copy, ready to use


def test_callbacks_are_torn_down_when_fit_fails():
    rec = Recorder()
    with pytest.raises(ValueError):
        Ridge().set_callbacks(rec).fit(np.full((5, 2), np.nan), np.zeros(5))
    assert rec.count("setup") == rec.count("teardown") == 1


@pytest.mark.parametrize("refit", [True, False])
def test_search_task_tree_and_propagation(refit):
    X, y = _data()
    plain, propagated = Recorder(), PropagatedRecorder()
    search = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0, 10.0]}, cv=2, refit=refit)
    search.set_callbacks(plain, propagated).fit(X, y, sample_weight=np.ones(len(y)))
    n_fits = 3 * 2
    expected = 1 + 1 + bool(refit) + n_fits  # root, search, refit, one per fold
    assert plain.count("begin") == plain.count("end") == expected
    assert plain.count("begin", "candidate-split-evaluation") == n_fits
    assert plain.count("begin", "refit-with-best-params") == int(refit)
    # the propagated callback reaches each fold's (and the refit's) estimator: it sees their own
    # root tasks, which stand for the search's fold tasks (scikit-learn merges the two trees)
    # (LogisticRegression's lbfgs also reports one 'lbfgs-iter' task per iteration, as scikit-learn's)
    assert propagated.count("begin") - propagated.count("begin", "lbfgs-iter") == expected
    assert propagated.count("begin", "fit") == propagated.count("end", "fit") == 1 + n_fits + bool(refit)
    assert propagated.count("begin", "candidate-split-evaluation") == 0
    assert plain.count("setup") == plain.count("teardown") == propagated.count("setup") == 1
    folds = [m for h, t, m in plain.calls if h == "begin" and t == "candidate-split-evaluation"]
    assert all(m is not None and len(m["sample_weight"]) == len(y) // 2 for m in folds)
    assert "_skl_callbacks" not in vars(search.best_estimator_) if refit else True  # not left behind
