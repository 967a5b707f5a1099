"""n_jobs in cross-validation and searches: the results of a serial run, the caller's settings, clear errors."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

import toolbox as tb
from toolbox import _hooks
from toolbox.backends import _threaded
from toolbox.cluster import KMeans
from toolbox.ensemble import HistGradientBoostingClassifier
from toolbox.linear_model import LogisticRegression, Ridge
from toolbox.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score, cross_validate
from toolbox.neighbors import KNeighborsClassifier
from toolbox.preprocessing import StandardScaler

rng = np.random.default_rng(0)
X = rng.normal(size=(3000, 12))
y = (X[:, 0] + X[:, 1] + 0.3 * rng.normal(size=3000) > 0).astype(np.int64)

ESTIMATORS = [
    LogisticRegression(),
    Ridge(alpha=0.3),
    make_pipeline(StandardScaler(), KNeighborsClassifier()),
    HistGradientBoostingClassifier(max_iter=10, random_state=0),
    KMeans(n_clusters=3, n_init=2, random_state=0),
]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("n_jobs", [2, -1])
def test_cross_validate_gives_the_serial_results(est, n_jobs):
    serial = cross_validate(est, X, y, cv=4, return_train_score=True)
    parallel = cross_validate(est, X, y, cv=4, n_jobs=n_jobs, return_train_score=True)
    for key in ("test_score", "train_score"):
        np.testing.assert_array_equal(parallel[key], serial[key])  # bit-identical


def test_searches_give_the_serial_results():
    grid = {"C": [0.01, 0.1, 1.0, 10.0]}
    a = GridSearchCV(LogisticRegression(), grid, cv=3).fit(X, y)
    b = GridSearchCV(LogisticRegression(), grid, cv=3, n_jobs=2).fit(X, y)
    for k, v in a.cv_results_.items():
        if "time" not in k:
            np.testing.assert_array_equal(np.asarray(b.cv_results_[k]), np.asarray(v), err_msg=k)
    np.testing.assert_array_equal(b.best_estimator_.coef_, a.best_estimator_.coef_)
    r1 = RandomizedSearchCV(Ridge(), {"alpha": [0.1, 1.0, 3.0, 10.0]}, n_iter=3, cv=3, random_state=0).fit(X, y)
    r2 = RandomizedSearchCV(Ridge(), {"alpha": [0.1, 1.0, 3.0, 10.0]}, n_iter=3, cv=3, random_state=0,
                            n_jobs=2).fit(X, y)
    assert r1.best_params_ == r2.best_params_
    np.testing.assert_array_equal(r2.cv_results_["mean_test_score"], r1.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(cross_val_score(Ridge(), X, y, n_jobs=2), cross_val_score(Ridge(), X, y))


def test_jobs_run_side_by_side_in_the_callers_context():
    seen = []
    lock = threading.Lock()

    def hook(est, method, call, args, kwargs):
        with lock:
            seen.append((threading.get_ident(), tb.get_backend()[0], _threaded.in_job(), _threaded.blas_threads()))
        return call()

    parent_blas = _threaded.blas_threads()
    _hooks.add_fit_hook("test-parallel", hook)
    try:
        with tb.use_backend("numpy"):
            cross_validate(Ridge(), X, y, cv=4, n_jobs=2)
    finally:
        _hooks.remove_fit_hook("test-parallel")
    assert len(seen) == 4
    assert {b for _, b, _, _ in seen} == {"numpy"}  # the caller's backend, in every job
    assert all(job for _, _, job, _ in seen)
    assert {n for _, _, _, n in seen} == {parent_blas}  # sizes decided as in a serial run
    assert _threaded.blas_threads() == parent_blas  # BLAS limits restored afterwards
    assert not _threaded.in_job()


def test_nested_toolbox_parallelism_is_serial_inside_jobs():
    calls = []

    def task():
        calls.append(_threaded.parallel_map(lambda p: threading.get_ident(), 4))
        return True

    from toolbox.model_selection._parallel import run_jobs

    assert run_jobs([task, task], 2) == [True, True]
    for idents in calls:
        assert len(set(idents)) == 1  # the parts of each job ran in that job's thread


@pytest.mark.parametrize("bad, err, match", [
    (0, ValueError, "n_jobs=0 is not valid"),
    (1.5, TypeError, "n_jobs must be an integer or None; got 1.5"),
    ("2", TypeError, "n_jobs must be an integer or None"),
    (True, TypeError, "n_jobs must be an integer"),
])
def test_bad_n_jobs(bad, err, match):
    with pytest.raises(err, match=match):
        cross_validate(Ridge(), X, y, n_jobs=bad)
    with pytest.raises(err, match=match):
        GridSearchCV(Ridge(), {"alpha": [1.0]}, n_jobs=bad).fit(X, y)


def test_user_chosen_joblib_backend_is_used():
    import joblib

    with joblib.parallel_config(backend="loky", n_jobs=2):
        scores = cross_val_score(Ridge(), X, y, cv=3, n_jobs=2)
    np.testing.assert_array_equal(scores, cross_val_score(Ridge(), X, y, cv=3))
