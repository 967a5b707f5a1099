"""Estimator fits through toolbox.cache: hits restore the fitted state, searches refit only what changed."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

import toolbox
import toolbox.cache as tc
from toolbox import _hooks
from toolbox.linear_model import LogisticRegression, Ridge
from toolbox.model_selection import GridSearchCV, cross_validate
from toolbox.neighbors import KNeighborsClassifier
from toolbox.preprocessing import StandardScaler


@pytest.fixture(autouse=True)
def fresh_cache():
    tc.configure()
    tc.clear()
    with toolbox.config_context(cache=True):
        yield
    tc.configure()
    tc.clear()


@pytest.fixture
def fits():
    """The real fits with the cache on (the spy hook is innermost: a cache hit never reaches it).

    Reference fits made with ``cache=False`` (:func:`_uncached`) are not recorded.
    """
    seen: list[tuple[str, str, dict]] = []

    def spy(est, method, call, args, kwargs):
        if toolbox.get_config()["cache"]:
            seen.append((type(est).__name__, method, est.get_params(deep=False)))
        return call()

    _hooks.add_fit_hook("test-spy", spy)
    yield seen
    _hooks.remove_fit_hook("test-spy")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(300) > 0).astype(np.int64)
    return X, y


def _uncached(make, *args, **kwargs):
    with toolbox.config_context(cache=False):
        return make().fit(*args, **kwargs)


def test_off_by_default(data):
    X, y = data
    seen = []
    _hooks.add_fit_hook("test-count", lambda est, method, call, args, kwargs: (seen.append(1), call())[1])
    try:
        with toolbox.config_context(cache=False):
            LogisticRegression().fit(X, y)
            LogisticRegression().fit(X, y)
    finally:
        _hooks.remove_fit_hook("test-count")
    assert len(seen) == 2
    assert tc.info()["misses"] == tc.info()["hits"] == 0


def test_second_fit_is_restored(data, fits):
    X, y = data
    a = LogisticRegression(C=0.5).fit(X, y)
    b = LogisticRegression(C=0.5).fit(X, y)
    assert len(fits) == 1
    assert tc.info()["hits"] == 1
    ref = _uncached(lambda: LogisticRegression(C=0.5), X, y)
    for attr in ("coef_", "intercept_", "classes_", "n_iter_"):
        np.testing.assert_array_equal(getattr(b, attr), getattr(ref, attr))
    assert b.n_features_in_ == ref.n_features_in_
    assert b.coef_ is not a.coef_
    np.testing.assert_array_equal(b.predict(X), ref.predict(X))
    LogisticRegression(C=0.6).fit(X, y)
    LogisticRegression(C=0.5).fit(X, y, sample_weight=np.ones(len(y)))
    assert len(fits) == 3


def test_sample_weight_and_each_input_change_is_a_miss(data, fits):
    X, y = data
    w = np.linspace(0.5, 2, len(y))
    LogisticRegression().fit(X, y, sample_weight=w)
    LogisticRegression().fit(X, y, sample_weight=w.copy())
    assert len(fits) == 1
    w2 = w.copy()
    w2[-1] = 3.0
    m = LogisticRegression().fit(X, y, sample_weight=w2)
    y2 = y.copy()
    y2[0] = 1 - y2[0]
    LogisticRegression().fit(X, y2, sample_weight=w2)
    assert len(fits) == 3
    ref = _uncached(LogisticRegression, X, y, sample_weight=w2)
    np.testing.assert_array_equal(m.coef_, ref.coef_)


def test_c_and_f_ordered_data_never_share_a_model(fits):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((40, 40))
    y = (A[:, 0] > 0).astype(np.int64)
    # A.T is A's own buffer read in Fortran order: same bytes, shape and dtype, different data
    for X in (A, A.T, np.asfortranarray(A), np.ascontiguousarray(A.T)):
        got = Ridge(alpha=1.0).fit(X, y)
        ref = _uncached(lambda: Ridge(alpha=1.0), X, y)
        np.testing.assert_array_equal(got.coef_, ref.coef_)
    assert len(fits) == 4
    # and each one, fitted again, is a hit that returns its own model
    for X in (A.T, A):
        got = Ridge(alpha=1.0).fit(X, y)
        np.testing.assert_array_equal(got.coef_, _uncached(lambda: Ridge(alpha=1.0), X, y).coef_)
    assert len(fits) == 4


def test_a_hit_is_an_independent_copy(data, fits):
    X, y = data
    X_orig = X.copy()
    first = LogisticRegression().fit(X, y)
    coef = first.coef_.copy()
    first.coef_[:] = 123.0  # mutate the fitted model...
    second = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(second.coef_, coef)
    second.coef_ *= 0  # ...and a model restored from the cache
    second.classes_[:] = 7
    third = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(third.coef_, coef)
    np.testing.assert_array_equal(third.classes_, [0, 1])
    assert len(fits) == 1
    X[:] = 0  # mutate the input: a miss with the new data, the old entry is intact
    LogisticRegression().fit(X, np.r_[0, np.ones(len(y) - 1, dtype=np.int64)])
    assert len(fits) == 2
    np.testing.assert_array_equal(LogisticRegression().fit(X_orig, y).coef_, coef)
    assert len(fits) == 2


def test_a_model_that_keeps_its_training_data_does_not_alias_the_cache(data, fits):
    X0, y = data
    X = X0.copy()
    knn = KNeighborsClassifier(3).fit(X, y)
    pred = knn.predict(X0[:20])
    for value in vars(knn).values():  # whatever the estimator keeps of X, mutate it
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            value[:] = 0
    X[:] = 0
    hit = KNeighborsClassifier(3).fit(X0.copy(), y)
    np.testing.assert_array_equal(hit.predict(X0[:20]), pred)
    assert len(fits) == 1


def test_fit_transform_output_is_cached_and_copied(data, fits):
    X, _ = data
    s = StandardScaler()
    Z = s.fit_transform(X)
    ref = Z.copy()
    Z[:] = 0
    s2 = StandardScaler()
    Z2 = s2.fit_transform(X)
    np.testing.assert_array_equal(Z2, ref)
    np.testing.assert_allclose(s2.mean_, X.mean(axis=0), rtol=1e-12)
    assert [f[:2] for f in fits] == [("StandardScaler", "fit_transform")]


def test_stale_fitted_attributes_are_removed_on_a_hit(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    LogisticRegression().fit(X, y)
    est = LogisticRegression().fit(pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), y)
    assert hasattr(est, "feature_names_in_")
    est.fit(X, y)  # a hit: the real fit would drop feature_names_in_, so does the restore
    assert not hasattr(est, "feature_names_in_")


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_fits_on_other_frameworks_come_back_on_their_framework(data, fits, framework):
    mod = pytest.importorskip("jax.numpy" if framework == "jax" else framework)
    X, y = data
    Xf = mod.asarray(X.astype(np.float32)) if framework == "jax" else mod.from_numpy(X)
    a = LogisticRegression().fit(Xf, y)
    b = LogisticRegression().fit(Xf, y)
    assert len(fits) == 1
    assert type(b.coef_) is type(a.coef_)
    np.testing.assert_array_equal(np.asarray(b.coef_), np.asarray(a.coef_))
    Z = StandardScaler().fit_transform(Xf)
    Z2 = StandardScaler().fit_transform(Xf)
    assert type(Z2) is type(Z) and len(fits) == 2
    LogisticRegression().fit(X, y)  # the same values as NumPy: another entry
    assert len(fits) == 3


def test_uncacheable_parameters_fit_normally(data, fits):
    X, y = data
    LogisticRegression(random_state=np.random.RandomState(0)).fit(X, y)
    LogisticRegression(random_state=np.random.RandomState(0)).fit(X, y)
    assert len(fits) == 2
    assert tc.info()["uncacheable"] == 2


def test_warm_start_refits(data, fits):
    X, y = data
    est = LogisticRegression(warm_start=True)
    est.fit(X, y)
    est.fit(X, y)  # continues from its own state: never restored from the cache
    assert len(fits) == 2


def test_disabled_block(data, fits):
    X, y = data
    LogisticRegression().fit(X, y)
    with tc.disabled():
        LogisticRegression().fit(X, y)
    assert len(fits) == 2


def test_errors_are_not_cached(fits):
    X = np.ones((10, 2))
    for _ in range(2):
        with pytest.raises(ValueError):
            LogisticRegression().fit(X, np.zeros(10))  # a single class
    assert len(fits) == 2
    assert tc.info()["memory"]["entries"] == 0


# --------------------------------------------------------------------------- #
# Pipelines, cross-validation, searches
# --------------------------------------------------------------------------- #


def _pipe():
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])


def _counts(fits):
    return Counter((name, params.get("C")) for name, _, params in fits)


def test_pipeline_reuses_fitted_preprocessing(data, fits):
    X, y = data
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=1.0))]).fit(X, y)
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=2.0))]).fit(X, y)
    assert _counts(fits) == {("StandardScaler", None): 1, ("LogisticRegression", 1.0): 1,
                             ("LogisticRegression", 2.0): 1}
    fits.clear()
    p = _pipe().fit(X, y)
    assert fits == []
    ref = _pipe()
    with toolbox.config_context(cache=False):
        ref.fit(X, y)
    np.testing.assert_array_equal(p.predict_proba(X), ref.predict_proba(X))


def test_cross_validate_rerun_fits_nothing(data, fits):
    X, y = data
    first = cross_validate(_pipe(), X, y, cv=4)
    n = len(fits)
    assert n == 8  # 4 folds x (scaler + classifier)
    again = cross_validate(_pipe(), X, y, cv=4)
    assert len(fits) == n
    np.testing.assert_array_equal(first["test_score"], again["test_score"])


def test_grid_search_rerun_with_one_more_point_fits_only_that_point(data, fits):
    X, y = data
    cv = 3
    grid = {"clf__C": [0.01, 0.1]}
    first = GridSearchCV(_pipe(), grid, cv=cv).fit(X, y)
    counts = _counts(fits)
    # every fold's scaler once (shared by both candidates), both candidates' folds, the refit (scaler + clf)
    assert counts[("StandardScaler", None)] == cv + 1
    assert counts[("LogisticRegression", 0.01)] + counts[("LogisticRegression", 0.1)] == 2 * cv + 1
    fits.clear()

    bigger = {"clf__C": [0.01, 0.1, 1.0]}
    second = GridSearchCV(_pipe(), bigger, cv=cv).fit(X, y)
    counts = _counts(fits)
    refit = 1 if second.best_params_ != first.best_params_ else 0
    assert counts[("LogisticRegression", 1.0)] == cv + (refit if second.best_params_["clf__C"] == 1.0 else 0)
    assert counts[("LogisticRegression", 0.01)] + counts[("LogisticRegression", 0.1)] == (
        refit if second.best_params_["clf__C"] != 1.0 else 0)
    assert counts[("StandardScaler", None)] == 0
    assert counts[("GridSearchCV", None)] == 1

    with toolbox.config_context(cache=False):
        ref = GridSearchCV(_pipe(), bigger, cv=cv).fit(X, y)
    np.testing.assert_array_equal(second.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"])
    assert second.best_params_ == ref.best_params_
    np.testing.assert_array_equal(second.predict(X), ref.predict(X))

    fits.clear()
    third = GridSearchCV(_pipe(), bigger, cv=cv).fit(X, y)  # everything identical: the search itself hits
    assert fits == []
    np.testing.assert_array_equal(third.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"])
    third.cv_results_["mean_test_score"][:] = -1
    fourth = GridSearchCV(_pipe(), bigger, cv=cv).fit(X, y)
    np.testing.assert_array_equal(fourth.cv_results_["mean_test_score"], ref.cv_results_["mean_test_score"])


def test_grid_search_new_point_that_wins_is_refit(fits):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 5))
    y = (X @ rng.standard_normal(5) > 0).astype(np.int64)
    GridSearchCV(LogisticRegression(), {"C": [1e-4]}, cv=3).fit(X, y)
    fits.clear()
    second = GridSearchCV(LogisticRegression(), {"C": [1e-4, 10.0]}, cv=3).fit(X, y)
    assert second.best_params_ == {"C": 10.0}
    assert _counts(fits) == {("LogisticRegression", 10.0): 3 + 1, ("GridSearchCV", None): 1}
