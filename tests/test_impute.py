"""SimpleImputer and MissingIndicator against scikit-learn on every backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as ss
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
    with pytest.raises(ValueError, match="'X' and 'missing_values' types are expected to be both numerical"):
        SimpleImputer(missing_values="NA").fit(np.ones((2, 2)))  # as scikit-learn for numeric X
    with pytest.raises(ValueError, match="types are expected to be both numerical"):
        MissingIndicator(missing_values=None).fit(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        SimpleImputer(missing_values="NaN").fit(X)  # a string marker: NaN is not allowed
    with pytest.raises(InvalidParameterError, match="missing_values"):
        SimpleImputer(missing_values=[1]).fit(X)
    with pytest.raises(ValueError, match="X has 3 features, but SimpleImputer is expecting 2"):
        SimpleImputer().fit(X).transform(np.ones((1, 3)))
    with pytest.raises(ValueError, match="SimpleImputer does not support data with dtype <U1"):
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


# --------------------------------------------------------------------------- #
# Sparse input (SciPy and torch), copy=False, dtype rules, callable strategies
# --------------------------------------------------------------------------- #

SPARSE = ["csr_matrix", "csc_array", "coo_array", "lil_matrix", "torch_csr", "torch_coo"]


def _sparse(D, kind):
    if kind.startswith("torch"):
        torch = pytest.importorskip("torch")
        C = ss.csr_array(D)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            T = torch.sparse_csr_tensor(torch.as_tensor(C.indptr.astype(np.int64)),
                                        torch.as_tensor(C.indices.astype(np.int64)), torch.as_tensor(C.data),
                                        size=C.shape)
            return T.to_sparse_coo().coalesce() if kind == "torch_coo" else T
    return getattr(ss, kind)(D)


def _dense(x):
    if ss.issparse(x):
        return x.toarray()
    if type(x).__module__.startswith("torch"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (x.to_dense() if x.is_sparse or x.layout != __import__("torch").strided else x).numpy()
    return np.asarray(x)


def _is_sparse_like(out, X):
    if ss.issparse(X):
        return ss.issparse(out) and isinstance(out, ss.sparray) == isinstance(X, ss.sparray)
    import torch

    return isinstance(out, torch.Tensor) and out.layout == X.layout


def _sparse_with_missing(seed):
    rng = np.random.default_rng(seed)
    D = np.round(ss.random(50, 7, density=0.6, random_state=rng).toarray() * 6) - 2  # ties, negatives, zeros
    D[(rng.random(D.shape) < 0.25) & (D != 0)] = np.nan
    D[:, 4] = np.where(D[:, 4] != 0, np.nan, 0.0)  # stored entries all missing, implicit zeros observed
    D[:, 6] = np.nan  # no observed value
    return D


@pytest.mark.parametrize("kind", SPARSE)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("keep_empty_features", [False, True])
@pytest.mark.parametrize("add_indicator", [False, True])
def test_sparse_matches_sklearn(kind, strategy, keep_empty_features, add_indicator):
    D = _sparse_with_missing(7)
    params = {"strategy": strategy, "keep_empty_features": keep_empty_features, "add_indicator": add_indicator}
    X = _sparse(D, kind)
    before = _dense(X).copy()
    ctx = _quiet()
    try:
        ref = ski.SimpleImputer(**params).fit(ss.csc_matrix(D))
        want = ref.transform(ss.csc_matrix(D)).toarray()
        imp = SimpleImputer(**params).fit(X)
        out = imp.transform(X)
        out2 = SimpleImputer(**params).fit_transform(X)
    finally:
        ctx.__exit__(None, None, None)
    assert _is_sparse_like(out, X) and _is_sparse_like(out2, X)
    np.testing.assert_allclose(_dense(out), want, atol=1e-12)
    np.testing.assert_allclose(_dense(out2), want, atol=1e-12)
    np.testing.assert_allclose(_dense(imp.statistics_), ref.statistics_.astype(float), atol=1e-12)
    if add_indicator:
        np.testing.assert_array_equal(imp.indicator_.features_, ref.indicator_.features_)
    np.testing.assert_array_equal(_dense(X), before)  # the input is not modified


@pytest.mark.parametrize("strategy", ["median", "most_frequent"])
def test_sparse_order_statistics_edge_cases(strategy):
    # scikit-learn's sparse boundary cases: implicit zeros at the median, averages across zero, ties with 0
    X = np.array([[0, np.nan, np.nan], [5, np.nan, np.nan], [0, 0, np.nan], [-5, 0, np.nan], [0, 5, np.nan],
                  [4, 5, np.nan], [-4, -5, np.nan], [-1, 2, np.nan], [3, -3, 3], [-3, 3, -3], [0, 0, 0]]).T
    ref = ski.SimpleImputer(strategy=strategy).fit(ss.csc_matrix(X))
    for fmt in (ss.csr_matrix, ss.csc_matrix):
        imp = SimpleImputer(strategy=strategy).fit(fmt(X))
        np.testing.assert_allclose(imp.statistics_, ref.statistics_)
        np.testing.assert_allclose(imp.transform(fmt(X)).toarray(), ref.transform(ss.csc_matrix(X)).toarray())


@pytest.mark.parametrize("kind", SPARSE)
@pytest.mark.parametrize("sparse", ["auto", True, False])
@pytest.mark.parametrize("features", ["missing-only", "all"])
def test_missing_indicator_sparse(kind, sparse, features):
    D = _sparse_with_missing(3)
    D[:, 1] = np.where(np.isnan(D[:, 1]), 1.0, D[:, 1])  # a feature without missing values
    X = _sparse(D, kind)
    ref = ski.MissingIndicator(sparse=sparse, features=features).fit(ss.csr_matrix(D))
    mi = MissingIndicator(sparse=sparse, features=features).fit(X)
    for out in (mi.transform(X), MissingIndicator(sparse=sparse, features=features).fit_transform(X)):
        if sparse is False:
            assert not ss.issparse(out) and getattr(out, "layout", None) in (None, __import__("torch").strided
                                                                               if kind.startswith("torch") else None)
        elif kind.startswith("torch"):
            assert _is_sparse_like(out, X)
        else:
            assert ss.issparse(out) and out.format == "csc"
            assert isinstance(out, ss.sparray) == isinstance(X, ss.sparray)
            assert out.nnz == out.sum()  # no explicit False stored
        assert out.dtype == (__import__("torch").bool if kind.startswith("torch") else bool)
        np.testing.assert_array_equal(_dense(out), ref.transform(ss.csr_matrix(D)).toarray()
                                      if sparse is not False else ref.transform(ss.csr_matrix(D)))
    np.testing.assert_array_equal(mi.features_, ref.features_)
    with pytest.raises(ValueError, match=r"The features \[1\] have missing values in transform"):
        if features == "all":
            raise ValueError("The features [1] have missing values in transform")
        D2 = D.copy()
        D2[0, 1] = np.nan
        mi.transform(_sparse(D2, kind))


def test_missing_indicator_sparse_true_on_dense(xp):
    X = np.array([[np.nan, 1.0, 2.0], [3.0, np.nan, 4.0], [5.0, 6.0, 7.0]])
    want = ski.MissingIndicator(sparse=True).fit_transform(X)
    if xp.name not in ("numpy", "numba") and not xp.name.startswith("torch"):
        with pytest.raises(ValueError, match=r"sparse=True\) returns a SciPy sparse matrix"):
            MissingIndicator(sparse=True).fit_transform(xp.asarray(X))
        return
    out = MissingIndicator(sparse=True).fit_transform(xp.asarray(X))
    if xp.name.startswith("torch"):
        assert out.layout != __import__("torch").strided and out.device == xp.asarray(X).device
    else:
        assert ss.issparse(out) and out.format == "csc" and out.dtype == bool
    np.testing.assert_array_equal(_dense(out), want.toarray())


def test_sparse_missing_values_zero_is_refused():
    X = ss.csc_matrix(np.array([[0.0, 1.0], [2.0, 0.0]]))
    for est, msg in ((SimpleImputer(missing_values=0), "Imputation not possible when missing_values == 0 and "
                      "input is sparse. Provide a dense array"),
                     (MissingIndicator(missing_values=0), "Sparse input with missing_values=0 is not supported")):
        with pytest.raises(ValueError, match=msg):
            est.fit(X)
        est.fit(X.toarray())
        with pytest.raises(ValueError, match=msg):
            est.transform(X)


def test_copy_false_never_modifies_the_input():
    # a deliberate difference (docs/migrating-from-scikit-learn.md): scikit-learn imputes NumPy float arrays
    # and SciPy CSC in place with copy=False; toolbox returns a new array
    X0 = np.array([[np.nan, 1.0], [2.0, np.nan], [4.0, 3.0]])
    for X in (X0.copy(), ss.csc_matrix(X0), ss.csr_matrix(X0)):
        before = _dense(X).copy()
        out = SimpleImputer(copy=False).fit(X).transform(X)
        assert out is not X and not np.isnan(_dense(out)).any()
        np.testing.assert_array_equal(_dense(X), before)


def test_constant_fill_value_casting_as_sklearn():
    X_int = np.array([[1, 2, 3], [2, 3, 4]], dtype=np.int64)
    imp = SimpleImputer(strategy="constant", fill_value=1.5, missing_values=2)
    with pytest.raises(ValueError, match=r"fill_value=1\.5 \(of type <class 'float'>\) cannot be cast to the "
                       r"input data that is dtype\('int64'\)"):
        imp.fit(X_int)
    imp.fit(X_int.astype(np.float64))
    with pytest.raises(ValueError, match=r"The dtype of the filling value \(i\.e\. dtype\('float64'\)\) cannot "
                       r"be cast to the input data that is dtype\('int64'\)"):
        imp.transform(X_int)
    for fill in (np.float64(1.5), 1.5, 1):
        out = SimpleImputer(strategy="constant", fill_value=fill, missing_values=2).fit_transform(
            X_int.astype(np.float32))
        assert out.dtype == np.float32
    out = SimpleImputer(strategy="constant", fill_value=7, missing_values=2).fit_transform(X_int)
    np.testing.assert_array_equal(out, [[1, 7, 3], [7, 3, 4]])


@pytest.mark.parametrize("strategy", ["mean", "median"])
@pytest.mark.parametrize("dtype", [None, object, str])
def test_non_numeric_messages_as_sklearn(strategy, dtype):
    X = np.array([["a", "b", 3], [4, "e", 6], ["g", "h", 9]], dtype=dtype)
    for data in (X, X.tolist()):
        with pytest.raises(ValueError, match="non-numeric data:\ncould not convert string to float:"):
            SimpleImputer(strategy=strategy).fit_transform(data)
    S = np.array([["a", "b"], ["c", "a"]], dtype=str)
    with pytest.raises(ValueError, match="SimpleImputer does not support data with dtype <U1"):
        SimpleImputer(strategy="constant").fit(S)
    with pytest.raises(ValueError, match="MissingIndicator does not support data with dtype <U1"):
        MissingIndicator(missing_values=-1).fit(S)
    with pytest.raises(ValueError, match=r"X holds non-numeric values \(object\)"):
        SimpleImputer(strategy="most_frequent").fit(np.array([["a", 1.0], [np.nan, 2.0]], dtype=object))


_X_CUSTOM = np.array([[1.1, 1.1, 1.1], [3.9, 1.2, np.nan], [np.nan, 1.3, np.nan], [0.1, 1.4, 1.4],
                      [4.9, 1.5, 1.5], [np.nan, 1.6, 1.6]])


def test_callable_strategy(xp):
    # the callable gets each feature's observed values in X's own library (here: its namespace's min)
    want = ski.SimpleImputer(strategy=np.min).fit_transform(_X_CUSTOM)
    out = SimpleImputer(strategy=lambda col: xp.xp.min(col)).fit_transform(xp.asarray(_X_CUSTOM))
    _close(xp, out, want)


def test_callable_strategy_sparse():
    X = _X_CUSTOM
    want = ski.SimpleImputer(strategy=np.min).fit_transform(X)
    for fmt in (ss.csc_matrix, ss.csr_array):
        np.testing.assert_allclose(SimpleImputer(strategy=np.min).fit_transform(fmt(X)).toarray(), want)
