"""Autologging: estimator fits, per-iteration losses, scorers, cross_validate and searches become runs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("sqlalchemy")

import toolbox as tb
from toolbox import tracking
from toolbox.cluster import KMeans
from toolbox.linear_model import LogisticRegression, Ridge
from toolbox.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate, get_scorer
from toolbox.preprocessing import StandardScaler
from toolbox.tracking import RunStatus
from toolbox.tracking._run import _close_session


@pytest.fixture
def tr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tracking.set_store(tmp_path / "store")
    try:
        yield tracking
    finally:
        tracking.autolog(disable=True)
        tb.set_config(autolog=False)
        _close_session()


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=300) > 0).astype(np.int64)
    return X, y


def test_a_fit_is_a_run_with_params_data_facts_and_loss_history(tr, data):
    X, y = data
    tr.autolog(experiment="auto")
    model = LogisticRegression(C=0.5).fit(X, y)
    (run,) = tr.search_runs("auto")
    assert run.name == "LogisticRegression" and run.status == RunStatus.FINISHED and run.parent_id is None
    assert run.params["C"] == "0.5" and run.params["solver"] == "lbfgs"
    assert run.tags["toolbox.estimator"] == "toolbox.linear_model._logistic.LogisticRegression"
    assert run.tags["data.X_shape"] == "300x4" and run.tags["data.X_dtype"] == "float64"
    assert run.tags["data.y_shape"] == "300" and run.tags["data.X_type"] == "numpy.ndarray"
    assert len(run.tags["data.X_fingerprint"]) == 32
    assert run.tags["toolbox.backend"] == "auto"
    assert run.metrics["fit_time"] > 0
    loss = tr.get_metric_history(run.id, "loss")
    assert len(loss) == int(model.n_iter_[0]) or len(loss) == int(model.n_iter_[0]) - 1
    assert [m.step for m in loss] == list(range(len(loss))) and len(loss) >= 2
    assert all(b.value <= a.value for a, b in itertools.pairwise(loss))  # a descent method

    LogisticRegression(C=0.5).fit(X.copy(), y)  # the same data: the same fingerprint
    X2 = X.copy()
    X2[0, 0] += 1.0
    LogisticRegression(C=0.5).fit(X2, y)
    fps = [r.tags["data.X_fingerprint"] for r in tr.search_runs("auto", order_by=["attributes.start_time"])]
    assert fps[0] == fps[1] != fps[2]


def test_fits_inside_a_run_are_child_runs_and_scores_reach_runs(tr, data):
    X, y = data
    tb.set_config(autolog=True)
    with tr.start_run(experiment="work") as parent:
        scaler = StandardScaler()
        Xs = scaler.fit_transform(X)  # fit_transform calls fit: one run, not two
        model = LogisticRegression().fit(Xs, y)
        acc = get_scorer("accuracy")(model, Xs, y)  # a scorer on an autologged model: to its run
        tr.log_metric("by_hand", 1.0)
    kids = tr.search_runs("work", filter=f"attributes.parent_id = '{parent.id}'", order_by=["attributes.start_time"])
    assert [k.name for k in kids] == ["StandardScaler", "LogisticRegression"]
    assert kids[0].tags["toolbox.autolog"] == "fit_transform"
    assert kids[1].metrics["accuracy"] == pytest.approx(acc)
    assert tr.get_run(parent.id).metrics == {"by_hand": 1.0}


def test_cross_validate_records_fold_scores(tr, data):
    X, y = data
    tb.set_config(autolog=True)
    with tr.start_run(experiment="cv") as run:
        res = cross_validate(LogisticRegression(), X, y, cv=4, return_train_score=True)
    hist = tr.get_metric_history(run.id, "cv_test_score")
    assert [m.step for m in hist] == [0, 1, 2, 3]
    np.testing.assert_allclose([m.value for m in hist], res["test_score"])
    np.testing.assert_allclose([m.value for m in tr.get_metric_history(run.id, "cv_train_score")],
                               res["train_score"])
    folds = tr.search_runs("cv", filter=f"attributes.parent_id = '{run.id}'")
    assert len(folds) == 4 and all(f.name == "LogisticRegression" for f in folds)
    assert all("score" not in f.metrics and "accuracy" not in f.metrics for f in folds)


def test_grid_search_has_one_child_run_per_candidate_with_fold_scores(tr, data):
    X, y = data
    tr.autolog(experiment="search")
    search = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0, 100.0]}, cv=3,
                          scoring=["accuracy", "neg_log_loss"], refit="accuracy").fit(X, y)
    top = tr.search_runs("search", filter="attributes.parent_id is null")
    assert [r.name for r in top] == ["GridSearchCV"]  # the candidates' and the refit's fits are not runs
    (srun,) = top
    assert srun.metrics["best_score"] == pytest.approx(search.best_score_)
    assert srun.metrics["n_candidates"] == 3.0 and "C=" in srun.tags["best_params"]
    kids = tr.search_runs("search", filter=f"attributes.parent_id = '{srun.id}'",
                          order_by=["tags.toolbox.candidate_index"])
    assert [k.params["C"] for k in kids] == ["0.01", "1.0", "100.0"]
    assert all(k.params["solver"] == "lbfgs" for k in kids)  # the base estimator's parameters too
    res = search.cv_results_
    for i, k in enumerate(kids):
        assert k.status == RunStatus.FINISHED
        folds = tr.get_metric_history(k.id, "test_accuracy")
        assert [m.step for m in folds] == [0, 1, 2]
        np.testing.assert_allclose([m.value for m in folds], [res[f"split{s}_test_accuracy"][i] for s in range(3)])
        assert k.metrics["mean_test_neg_log_loss"] == pytest.approx(res["mean_test_neg_log_loss"][i])
        assert k.metrics["rank_test_accuracy"] == res["rank_test_accuracy"][i]
    best = tr.search_runs("search", filter=f"attributes.parent_id = '{srun.id}'",
                          order_by=["metrics.rank_test_accuracy", "tags.toolbox.candidate_index"],
                          max_results=1)[0]
    assert best.params["C"] == str(search.best_params_["C"])


def test_randomized_search_inside_a_run(tr, data):
    X, y = data
    tb.set_config(autolog=True)
    with tr.start_run(experiment="rs") as run:
        RandomizedSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0, 100.0]}, n_iter=3, cv=2, random_state=0).fit(X, y)
    (srun,) = tr.search_runs("rs", filter=f"attributes.parent_id = '{run.id}'")
    assert srun.name == "RandomizedSearchCV"
    kids = tr.search_runs("rs", filter=f"attributes.parent_id = '{srun.id}'")
    assert len(kids) == 3 and all(len(tr.get_metric_history(k.id, "test_score")) == 2 for k in kids)


def test_kmeans_inertia_per_initialization(tr, data):
    X, _ = data
    tr.autolog(experiment="km")
    KMeans(n_clusters=3, n_init=4, random_state=0).fit(X)
    (run,) = tr.search_runs("km")
    inertia = tr.get_metric_history(run.id, "inertia")
    assert [m.step for m in inertia] == [0, 1, 2, 3] and all(m.value > 0 for m in inertia)


def test_a_failing_fit_is_a_failed_run(tr, data):
    X, y = data
    tr.autolog(experiment="bad")
    X = X.copy()
    X[3, 2] = np.nan
    with pytest.raises(ValueError):
        LogisticRegression().fit(X, y)
    (run,) = tr.search_runs("bad")
    assert run.status == RunStatus.FAILED and "ValueError" in run.tags["toolbox.error"]


def test_autolog_off_records_nothing(tr, data):
    X, y = data
    tr.autolog(experiment="off")
    tr.autolog(disable=True)
    assert tb.get_config()["autolog"] is False
    LogisticRegression().fit(X, y)
    with pytest.raises(Exception, match="No experiment named 'off'"):
        tr.search_runs("off")


def test_large_data_is_hashed_beside_the_fit(tr, data, monkeypatch):
    from toolbox.cache._hashing import hash_array
    from toolbox.tracking import _autolog

    X, y = data
    monkeypatch.setattr(_autolog, "_BACKGROUND_HASH_BYTES", 1)  # every input counts as large
    tr.autolog(experiment="big")
    LogisticRegression().fit(X, y)
    (run,) = tr.search_runs("big")
    assert run.tags["data.X_fingerprint"] == hash_array(X) and run.tags["data.y_fingerprint"] == hash_array(y)
    assert run.status == RunStatus.FINISHED
