"""SimpleImputer and MissingIndicator against scikit-learn on every backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn import impute as ski
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from toolbox.backends import framework_of
from toolbox.impute import MissingIndicator, SimpleImputer

STRATEGIES = ["mean", "median", "most_frequent", "constant"]


def _with_missing(X, frac, seed, empty_column=None):
    rng = np.random.default_rng(seed)
    X = np.array(X, dtype=float)
    X[rng.random(X.shape) < frac] = np.nan
    if empty_column is not None:
        X[:, empty_column] = np.nan
    return X


DATASETS = {
    # diabetes has few distinct values per column after rounding: exercises ties in most_frequent
    "diabetes": lambda: _with_missing(np.round(datasets.load_diabetes().data, 2), 0.2, 0, empty_column=3),
    "wine": lambda: _with_missing(datasets.load_wine().data, 0.1, 1),
    "breast_cancer": lambda: _with_missing(datasets.load_breast_cancer().data[:200, :12], 0.3, 2, empty_column=0),
    "generated": lambda: _with_missing(np.random.default_rng(3).integers(0, 6, size=(120, 7)), 0.25, 4),
}


def _close(xp, got, want, dtype=None):
    rtol = xp.rtol(got.dtype if dtype is None and hasattr(got, "dtype") else dtype)
    want = np.asarray(want, dtype=float)
    finite = want[np.isfinite(want)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    np.testing.assert_allclose(xp.to_numpy(got), want, rtol=rtol, atol=rtol * scale)


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.filterwarnings("ignore", message="Skipping features without any observed values")
    return ctx


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("keep_empty_features", [False, True])
def test_matches_sklearn(xp, data, strategy, keep_empty_features):
    X = DATASETS[data]()
    params = {"strategy": strategy, "keep_empty_features": keep_empty_features}
    if strategy == "constant":
        params["fill_value"] = -7.5
    ctx = _quiet()
    try:
        ref = ski.SimpleImputer(**params).fit(X)
        want = ref.transform(X)
        Xb = xp.asarray(X)
        imp = SimpleImputer(**params).fit(Xb)
        out = imp.transform(Xb)
        out2 = SimpleImputer(**params).fit_transform(Xb)
    finally:
        ctx.__exit__(None, None, None)
    assert framework_of(out) is framework_of(Xb)
    assert out.dtype == Xb.dtype
    _close(xp, out, want)
    _close(xp, out2, want)
    _close(xp, imp.statistics_, ref.statistics_.astype(float))
    assert list(imp.get_feature_names_out()) == list(ref.get_feature_names_out())


def test_all_nan_column_is_dropped_unless_kept(xp):
    X = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 5.0], [7.0, np.nan, np.nan], [1.0, np.nan, 5.0]])
    imp = SimpleImputer(strategy="median").fit(xp.asarray(X))
    assert np.isnan(xp.to_numpy(imp.statistics_)[1])
    with pytest.warns(UserWarning, match=r"Skipping features without any observed values: \[1\]"):
        out = imp.transform(xp.asarray(X))
    assert out.shape == (4, 2)
    _close(xp, out, [[1.0, 3.0], [1.0, 5.0], [7.0, 5.0], [1.0, 5.0]])
    kept = SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(xp.asarray(X))
    _close(xp, kept[:, 1], np.zeros(4))
    const = SimpleImputer(strategy="constant", fill_value=2.0, keep_empty_features=True).fit_transform(xp.asarray(X))
    _close(xp, const[:, 1], np.full(4, 2.0))


def test_empty_feature_names_in_warning():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]})
    imp = SimpleImputer().fit(df)
    with pytest.warns(UserWarning, match=r"Skipping features without any observed values: \['b'\]"):
        imp.transform(df)
    assert list(imp.get_feature_names_out()) == ["a"]


def test_most_frequent_ties_go_to_smallest(xp):
    X = np.array([[3.0, 1.0], [3.0, np.nan], [2.0, 5.0], [2.0, 5.0], [9.0, 1.0], [np.nan, 4.0]])
    imp = SimpleImputer(strategy="most_frequent").fit(xp.asarray(X))
    _close(xp, imp.statistics_, [2.0, 1.0])
    _close(xp, imp.statistics_, ski.SimpleImputer(strategy="most_frequent").fit(X).statistics_)


def test_median_even_and_odd_counts(xp):
    X = np.array([[1.0, 10.0], [4.0, np.nan], [2.0, 30.0], [np.nan, 20.0], [8.0, 50.0]])
    imp = SimpleImputer(strategy="median").fit(xp.asarray(X))
    _close(xp, imp.statistics_, [3.0, 25.0])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_numeric_sentinel(xp, strategy):
    rng = np.random.default_rng(5)
    X = rng.integers(0, 5, size=(80, 4))
    X[rng.random(X.shape) < 0.2] = -1
    ref = ski.SimpleImputer(missing_values=-1, strategy=strategy).fit(X)
    imp = SimpleImputer(missing_values=-1, strategy=strategy).fit(xp.asarray(X))
    _close(xp, imp.transform(xp.asarray(X)), ref.transform(X))


def test_zero_as_missing_value_and_float32(xp):
    X = np.array([[0.0, 2.0], [4.0, 0.0], [6.0, 8.0]], dtype=np.float32)
    out = SimpleImputer(missing_values=0).fit_transform(xp.asarray(X))
    assert out.dtype == xp.xp.float32
    _close(xp, out, [[5.0, 2.0], [4.0, 5.0], [6.0, 8.0]], dtype=xp.xp.float32)


def test_add_indicator_and_inverse_transform(xp):
    X = DATASETS["wine"]()[:60]
    ref = ski.SimpleImputer(add_indicator=True).fit(X)
    Xb = xp.asarray(X)
    imp = SimpleImputer(add_indicator=True).fit(Xb)
    out = imp.transform(Xb)
    _close(xp, out, ref.transform(X))
    np.testing.assert_array_equal(imp.indicator_.features_, ref.indicator_.features_)
    assert list(imp.get_feature_names_out()) == list(ref.get_feature_names_out())
    back = xp.to_numpy(imp.inverse_transform(out))
    np.testing.assert_array_equal(np.isnan(back), np.isnan(X))
    _close(xp, np.nan_to_num(back), np.nan_to_num(ref.inverse_transform(ref.transform(X))), dtype=out.dtype)
    with pytest.raises(ValueError, match="works only when 'SimpleImputer' is instantiated with 'add_indicator=True'"):
        SimpleImputer().fit(Xb).inverse_transform(out)


def test_missing_indicator(xp):
    X = DATASETS["diabetes"]()[:80]
    X[:, 5] = 1.0  # no missing value in fit
    X_new = X.copy()
    X_new[0, 5] = np.nan
    for features in ("missing-only", "all"):
        ref = ski.MissingIndicator(features=features).fit(X)
        mi = MissingIndicator(features=features).fit(xp.asarray(X))
        out = mi.transform(xp.asarray(X))
        assert framework_of(out) is framework_of(xp.asarray(X))
        np.testing.assert_array_equal(xp.to_numpy(out), ref.transform(X))
        np.testing.assert_array_equal(mi.features_, ref.features_)
        assert list(mi.get_feature_names_out()) == list(ref.get_feature_names_out())
    with pytest.raises(ValueError, match=r"The features \[5\] have missing values in transform"):
        MissingIndicator().fit(xp.asarray(X)).transform(xp.asarray(X_new))
    out = MissingIndicator(error_on_new=False).fit(xp.asarray(X)).transform(xp.asarray(X_new))
    np.testing.assert_array_equal(xp.to_numpy(out), ski.MissingIndicator(error_on_new=False).fit(X).transform(X_new))


def test_bad_input():
    X = np.array([[1.0, np.nan], [2.0, 3.0]])
    with pytest.raises(ValueError, match="NaN"):
        SimpleImputer(missing_values=-1).fit(X)  # NaN is not the missing marker here
    with pytest.raises(ValueError, match="1 infinite value"):
        SimpleImputer().fit(np.array([[1.0, np.inf], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="fill_value='x'"):
        SimpleImputer(strategy="constant", fill_value="x").fit(X)
    with pytest.raises(InvalidParameterError, match="strategy"):
        SimpleImputer(strategy="mode").fit(X)
    with pytest.raises(InvalidParameterError, match="missing_values"):
        SimpleImputer(missing_values="NA").fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but SimpleImputer is expecting 2"):
        SimpleImputer().fit(X).transform(np.ones((1, 3)))
    with pytest.raises(ValueError, match="non-numeric"):
        SimpleImputer(strategy="most_frequent").fit(np.array([["a", "b"], ["c", "d"]]))


def test_input_not_modified(xp):
    X = DATASETS["generated"]()
    Xb = xp.asarray(X)
    before = xp.to_numpy(Xb).copy()
    for strategy in STRATEGIES:
        SimpleImputer(strategy=strategy, add_indicator=True).fit_transform(Xb)
    np.testing.assert_array_equal(xp.to_numpy(Xb), before)


@parametrize_with_checks(
    [
        SimpleImputer(),
        SimpleImputer(strategy="median"),
        SimpleImputer(strategy="most_frequent"),
        SimpleImputer(strategy="constant", fill_value=2, add_indicator=True),
        SimpleImputer(missing_values=-1, keep_empty_features=True),
        MissingIndicator(),
    ]
)
def test_sklearn_conformance(estimator, check):
    check(estimator)
