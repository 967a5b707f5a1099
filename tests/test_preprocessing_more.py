"""MinMaxScaler, RobustScaler, OneHotEncoder, LabelEncoder and PolynomialFeatures against scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn import preprocessing as skp
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from toolbox.backends import framework_of
from toolbox.preprocessing import (
    LabelEncoder,
    MinMaxScaler,
    OneHotEncoder,
    PolynomialFeatures,
    RobustScaler,
)

DATASETS = {
    "wine": lambda: datasets.load_wine().data,
    "breast_cancer": lambda: datasets.load_breast_cancer().data,
    "diabetes": lambda: datasets.load_diabetes().data,
    "generated": lambda: np.random.default_rng(0).normal(3.0, 5.0, size=(301, 12)),
}


def _close(xp, got, want, dtype=None, scale=None):
    rtol = xp.rtol(dtype)
    want = np.asarray(want, dtype=float)
    ref = max(1.0, float(np.abs(want).max())) if scale is None else scale
    np.testing.assert_allclose(xp.to_numpy(got), want, rtol=rtol, atol=rtol * ref)


def _same_library(out, inp):
    assert framework_of(out) is framework_of(inp)


def _int_codes():
    """Integer-coded categories derived from the iris measurements (binned), plus a binary column."""
    X = datasets.load_iris().data
    bins = np.quantile(X, [0.25, 0.5, 0.75], axis=0)
    codes = np.stack([np.searchsorted(bins[:, j], X[:, j]) for j in range(4)], axis=1)
    return np.column_stack([codes * 3 + 1, (X[:, 0] > 5.8).astype(np.int64)]).astype(np.int64)


# --------------------------------------------------------------------------- #
# MinMaxScaler
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("feature_range", [(0, 1), (-2.0, 3.5)])
def test_minmax_matches_sklearn(xp, data, feature_range):
    X = DATASETS[data]()
    ref = skp.MinMaxScaler(feature_range=feature_range).fit(X)
    Xb = xp.asarray(X)
    sc = MinMaxScaler(feature_range=feature_range).fit(Xb)
    Xt = sc.transform(Xb)
    _same_library(Xt, Xb)
    assert Xt.dtype == Xb.dtype
    _close(xp, Xt, ref.transform(X))
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        _close(xp, getattr(sc, attr), getattr(ref, attr), scale=max(1.0, np.abs(getattr(ref, attr)).max()))
    assert sc.n_samples_seen_ == ref.n_samples_seen_
    _close(xp, sc.fit_transform(Xb), ref.transform(X))
    _close(xp, sc.inverse_transform(Xt), X)


def test_minmax_clip_and_constant_feature(xp):
    rng = np.random.default_rng(1)
    X = np.column_stack([np.full(40, 2.5), rng.normal(size=40)])
    X_new = np.array([[2.5, 10.0], [2.5, -10.0]])
    ref = skp.MinMaxScaler(clip=True).fit(X)
    sc = MinMaxScaler(clip=True).fit(xp.asarray(X))
    _close(xp, sc.transform(xp.asarray(X_new)), ref.transform(X_new))
    _close(xp, sc.scale_, ref.scale_)


def test_minmax_partial_fit_matches_fit(xp):
    X = np.random.default_rng(2).normal(size=(200, 5))
    sc = MinMaxScaler()
    for chunk in np.array_split(X, 3):
        sc.partial_fit(xp.asarray(chunk))
    ref = skp.MinMaxScaler().fit(X)
    _close(xp, sc.data_min_, ref.data_min_)
    _close(xp, sc.data_max_, ref.data_max_)
    assert sc.n_samples_seen_ == 200


def test_minmax_float32_preserved(xp):
    X = np.random.default_rng(3).normal(size=(60, 4)).astype(np.float32)
    Xt = MinMaxScaler().fit_transform(xp.asarray(X))
    assert Xt.dtype == xp.xp.float32
    _close(xp, Xt, skp.MinMaxScaler().fit_transform(X.astype(np.float64)), dtype=xp.xp.float32)


def test_minmax_bad_parameters():
    X = np.ones((5, 2))
    with pytest.raises(ValueError, match=r"Minimum of desired feature range must be smaller than maximum"):
        MinMaxScaler(feature_range=(1, 0)).fit(X)
    with pytest.raises(InvalidParameterError, match="feature_range"):
        MinMaxScaler(feature_range=[0, 1]).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        MinMaxScaler().fit(np.array([[1.0, np.nan], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="X has 3 features, but MinMaxScaler is expecting 2"):
        MinMaxScaler().fit(X).transform(np.ones((2, 3)))


# --------------------------------------------------------------------------- #
# RobustScaler
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"quantile_range": (10.0, 90.0), "unit_variance": True},
        {"with_centering": False},
        {"with_scaling": False, "quantile_range": (5.0, 50.0)},
    ],
)
def test_robust_matches_sklearn(xp, data, params):
    X = DATASETS[data]()
    ref = skp.RobustScaler(**params).fit(X)
    Xb = xp.asarray(X)
    sc = RobustScaler(**params).fit(Xb)
    Xt = sc.transform(Xb)
    _same_library(Xt, Xb)
    assert Xt.dtype == Xb.dtype
    _close(xp, Xt, ref.transform(X))
    for attr in ("center_", "scale_"):
        if getattr(ref, attr) is None:
            assert getattr(sc, attr) is None
        else:
            _close(xp, getattr(sc, attr), getattr(ref, attr))
    _close(xp, sc.fit_transform(Xb), ref.transform(X))
    _close(xp, sc.inverse_transform(Xt), X)


def test_robust_quantiles_of_ties_and_constant_features(xp):
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.integers(0, 3, 31), np.full(31, 7.0), rng.normal(size=31)]).astype(float)
    ref = skp.RobustScaler(quantile_range=(20.0, 80.0)).fit(X)
    sc = RobustScaler(quantile_range=(20.0, 80.0)).fit(xp.asarray(X))
    _close(xp, sc.center_, ref.center_)
    _close(xp, sc.scale_, ref.scale_)


def test_robust_float32_preserved(xp):
    X = np.random.default_rng(5).normal(size=(50, 3)).astype(np.float32)
    sc = RobustScaler().fit(xp.asarray(X))
    assert sc.center_.dtype == xp.xp.float32
    _close(xp, sc.transform(xp.asarray(X)), skp.RobustScaler().fit_transform(X.astype(float)), dtype=xp.xp.float32)


def test_robust_bad_quantile_range():
    with pytest.raises(ValueError, match=r"Invalid quantile range: \(80.0, 20.0\)"):
        RobustScaler(quantile_range=(80.0, 20.0)).fit(np.ones((4, 2)))
    with pytest.raises(InvalidParameterError, match="quantile_range"):
        RobustScaler(quantile_range=[25, 75]).fit(np.ones((4, 2)))


# --------------------------------------------------------------------------- #
# OneHotEncoder
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "params",
    [{}, {"drop": "first"}, {"drop": "if_binary"}, {"handle_unknown": "ignore"}, {"drop": [4, 7, 1, 10, 0]}],
)
def test_onehot_matches_sklearn(xp, params):
    X = _int_codes()
    ref = skp.OneHotEncoder(sparse_output=False, **params).fit(X)
    Xb = xp.asarray(X)
    enc = OneHotEncoder(sparse_output=False, **params).fit(Xb)
    Xt = enc.transform(Xb)
    _same_library(Xt, Xb)
    np.testing.assert_array_equal(xp.to_numpy(Xt), ref.transform(X))
    assert len(enc.categories_) == len(ref.categories_)
    for got, want in zip(enc.categories_, ref.categories_):
        _same_library(got, Xb)
        np.testing.assert_array_equal(xp.to_numpy(got), want)
    assert list(enc.get_feature_names_out()) == list(ref.get_feature_names_out())
    if ref.drop_idx_ is None:
        assert enc.drop_idx_ is None
    else:
        assert enc.drop_idx_.tolist() == ref.drop_idx_.tolist()
    back = enc.inverse_transform(Xt)
    _same_library(back, Xb)
    np.testing.assert_array_equal(xp.to_numpy(back), ref.inverse_transform(ref.transform(X)))
    np.testing.assert_array_equal(xp.to_numpy(enc.fit_transform(Xb)), ref.transform(X))


def test_onehot_unknown_categories(xp):
    X = _int_codes()
    X_new = X[:6].copy()
    X_new[2, 3] = 99
    X_new[4, 3] = 55
    enc = OneHotEncoder(sparse_output=False).fit(xp.asarray(X))
    with pytest.raises(ValueError, match=r"Found unknown categories \[55, 99\] in column 3 during transform"):
        enc.transform(xp.asarray(X_new))
    ref = skp.OneHotEncoder(sparse_output=False, handle_unknown="ignore").fit(X)
    ign = OneHotEncoder(sparse_output=False, handle_unknown="ignore").fit(xp.asarray(X))
    out = ign.transform(xp.asarray(X_new))
    np.testing.assert_array_equal(xp.to_numpy(out), ref.transform(X_new))
    # an all-zero group (unknown) inverts to None in an object array on NumPy, as scikit-learn;
    # to NaN on the other backends (which hold no None)
    back = xp.to_numpy(ign.inverse_transform(out))
    if xp.name in ("numpy", "numba"):
        np.testing.assert_array_equal(back, ref.inverse_transform(ref.transform(X_new)))
        assert back[2, 3] is None and back[4, 3] is None
    else:
        assert np.isnan(back[2, 3]) and np.isnan(back[4, 3])
    np.testing.assert_array_equal(back[:2], X_new[:2])
    warn = OneHotEncoder(sparse_output=False, handle_unknown="warn").fit(xp.asarray(X))
    with pytest.warns(UserWarning, match=r"Found unknown categories in columns \[3\] during transform"):
        out = warn.transform(xp.asarray(X_new))
    np.testing.assert_array_equal(xp.to_numpy(out), ref.transform(X_new))


def test_onehot_given_categories(xp):
    X = np.array([[1, 10], [2, 20], [1, 30]])
    cats = [[0, 1, 2, 3], [10, 20, 30]]
    ref = skp.OneHotEncoder(categories=cats, sparse_output=False).fit(X)
    enc = OneHotEncoder(categories=cats, sparse_output=False).fit(xp.asarray(X))
    np.testing.assert_array_equal(xp.to_numpy(enc.transform(xp.asarray(X))), ref.transform(X))
    with pytest.raises(ValueError, match=r"Found unknown categories \[30\] in column 1 during fit"):
        OneHotEncoder(categories=[[0, 1, 2], [10, 20]]).fit(xp.asarray(X))
    with pytest.raises(ValueError, match="Unsorted categories are not supported for numerical categories"):
        OneHotEncoder(categories=[[2, 1], [10, 20, 30]]).fit(xp.asarray(X))
    with pytest.raises(ValueError, match="Shape mismatch"):
        OneHotEncoder(categories=[[1, 2]]).fit(xp.asarray(X))


def test_onehot_dtype_and_float_categories(xp):
    X = np.array([[0.5, 2.0], [1.5, 2.0], [0.5, 3.0]])
    enc = OneHotEncoder(dtype=np.float32, sparse_output=False).fit(xp.asarray(X))
    out = enc.transform(xp.asarray(X))
    assert out.dtype == xp.xp.float32
    ref = skp.OneHotEncoder(sparse_output=False, dtype=np.float32).fit(X)
    np.testing.assert_array_equal(xp.to_numpy(out), ref.transform(X))
    assert list(enc.get_feature_names_out(["a", "b"])) == list(ref.get_feature_names_out(["a", "b"]))


def test_onehot_strings_on_host():
    X = np.array([["red", "S"], ["green", "M"], ["red", "L"], ["blue", "M"]], dtype=object)
    ref = skp.OneHotEncoder(sparse_output=False, drop="if_binary").fit(X)
    enc = OneHotEncoder(drop="if_binary", sparse_output=False).fit(X)
    out = enc.transform(X)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, ref.transform(X))
    np.testing.assert_array_equal(enc.inverse_transform(out), X)
    assert list(enc.get_feature_names_out()) == list(ref.get_feature_names_out())
    with pytest.raises(ValueError, match=r"Found unknown categories \['purple'\] in column 0 during transform"):
        enc.transform(np.array([["purple", "S"]], dtype=object))
    lst = [["a", "x"], ["b", "y"]]
    np.testing.assert_array_equal(OneHotEncoder(sparse_output=False).fit_transform(lst), skp.OneHotEncoder(sparse_output=False)
                                  .fit_transform(lst))


def test_onehot_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"color": ["r", "g", "r"], "size": ["S", "M", "S"]})
    enc = OneHotEncoder(sparse_output=False).fit(df)
    assert list(enc.get_feature_names_out()) == ["color_g", "color_r", "size_M", "size_S"]
    np.testing.assert_array_equal(enc.transform(df), [[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])


def test_onehot_bad_input():
    X = np.array([[1, 2], [3, 4]])
    with pytest.raises(InvalidParameterError, match="min_frequency"):
        OneHotEncoder(min_frequency=1.0).fit(X)
    with pytest.raises(InvalidParameterError, match="handle_unknown"):
        OneHotEncoder(handle_unknown="maybe").fit(X)
    with pytest.raises(ValueError, match="infinity"):
        OneHotEncoder().fit(np.array([[1.0], [np.inf]]))
    with pytest.raises(ValueError, match="Nan should be the last element"):
        OneHotEncoder(categories=[[np.nan, 1.0]]).fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="Expected a 2-dimensional container"):
        import pandas as pd

        OneHotEncoder().fit(pd.Series([1, 2]))
    with pytest.raises(TypeError, match="uniformly strings or numbers"):
        OneHotEncoder().fit(np.array([["a"], [1]], dtype=object))
    with pytest.raises(ValueError, match="were supposed to be dropped"):
        OneHotEncoder(drop=[1, 99]).fit(X)
    enc = OneHotEncoder().fit(X)
    with pytest.raises(ValueError, match="Expected 4 columns, got 3"):
        enc.inverse_transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="can not be inverted when drop=None and handle_unknown='error'"):
        enc.inverse_transform(np.zeros((1, 4)))
    with pytest.raises(TypeError, match="Sparse data was passed"):
        import scipy.sparse

        enc.transform(scipy.sparse.csr_matrix(X))


def _dense(out):
    if hasattr(out, "toarray"):
        return out.toarray()
    return np.asarray(out.to_dense().cpu()) if hasattr(out, "to_dense") else out


@pytest.mark.parametrize(
    "params",
    [{"min_frequency": 5}, {"min_frequency": 0.2}, {"max_categories": 3}, {"max_categories": 3, "drop": "first"},
     {"min_frequency": 4, "drop": "if_binary", "handle_unknown": "infrequent_if_exist"},
     {"max_categories": 2, "handle_unknown": "ignore"}],
)
def test_onehot_infrequent_matches_sklearn(xp, params):
    rng = np.random.default_rng(5)
    X = rng.choice([0.0, 1.0, 2.0, 3.0, 5.0, np.nan], size=(80, 3), p=[0.4, 0.2, 0.15, 0.1, 0.05, 0.1])
    X[:, 2] = rng.integers(0, 4, 80)
    ref = skp.OneHotEncoder(sparse_output=False, **params).fit(X)
    enc = OneHotEncoder(sparse_output=False, **params).fit(xp.asarray(X))
    out = enc.transform(xp.asarray(X))
    _same_library(out, xp.asarray(X))
    np.testing.assert_array_equal(xp.to_numpy(out), ref.transform(X))
    assert list(enc.get_feature_names_out()) == list(ref.get_feature_names_out())
    for got, want in zip(enc.infrequent_categories_, ref.infrequent_categories_):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(xp.to_numpy(got), want)
    assert [None if v is None else int(v) for v in (enc.drop_idx_ if enc.drop_idx_ is not None else [])] == \
        [None if v is None else int(v) for v in (ref.drop_idx_ if ref.drop_idx_ is not None else [])]
    X_new = X[:10].copy()
    X_new[0, 0], X_new[3, 2] = 7.0, 9.0  # unknown values
    if params.get("handle_unknown", "error") == "error":
        with pytest.raises(ValueError, match=r"Found unknown categories \[7.0\] in column 0 during transform"):
            enc.transform(xp.asarray(X_new))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got, want = enc.transform(xp.asarray(X_new)), ref.transform(X_new)
    np.testing.assert_array_equal(xp.to_numpy(got), want)
    back = enc.inverse_transform(got)  # the infrequent group: 'infrequent_sklearn' (a NumPy object array)
    want_back = ref.inverse_transform(want)
    if framework_of(back) is not framework_of(np.zeros(1)):  # unknown numeric categories: NaN off NumPy
        want_back = np.where(np.equal(want_back, None), np.nan, want_back).astype(float)
    np.testing.assert_array_equal(np.asarray(xp.to_numpy(back) if framework_of(back) is not None else back,
                                             dtype=object).astype(str), want_back.astype(str))


def test_onehot_infrequent_strings_and_drop_errors():
    X = np.array([["a"] * 5 + ["b"] * 20 + ["c"] * 10 + ["d"] * 3], dtype=object).T
    for kw in ({"max_categories": 3}, {"min_frequency": 6}, {"min_frequency": 0.16}):
        ref = skp.OneHotEncoder(handle_unknown="infrequent_if_exist", **kw).fit(X)
        enc = OneHotEncoder(handle_unknown="infrequent_if_exist", **kw).fit(X)
        test = np.array([["b"], ["a"], ["c"], ["d"], ["e"]], dtype=object)
        np.testing.assert_array_equal(enc.transform(test).toarray(), ref.transform(test).toarray())
        np.testing.assert_array_equal(enc.infrequent_categories_[0], ["a", "d"])
        assert list(enc.get_feature_names_out()) == ["x0_b", "x0_c", "x0_infrequent_sklearn"]
        np.testing.assert_array_equal(enc.inverse_transform(enc.transform(test)),
                                      [["b"], ["infrequent_sklearn"], ["c"], ["infrequent_sklearn"],
                                       ["infrequent_sklearn"]])
    with pytest.raises(ValueError, match="Unable to drop category 'a' from feature 0 because it is infrequent"):
        OneHotEncoder(max_categories=2, drop=["a"]).fit(X)
    enc = OneHotEncoder(max_categories=2, drop=["b"], sparse_output=False).fit(X)
    assert enc.categories_[0][enc.drop_idx_[0]] == "b"
    np.testing.assert_array_equal(enc.transform(np.array([["b"], ["c"]], dtype=object)), [[0], [1]])
    with pytest.raises(AttributeError):
        _ = OneHotEncoder().fit(X).infrequent_categories_


def test_onehot_missing_values_are_categories():
    pd = pytest.importorskip("pandas")
    X = np.array([["b", 1.0], [None, np.nan], ["a", 2.0], [np.nan, np.nan], ["a", 1.0]], dtype=object)
    ref = skp.OneHotEncoder(sparse_output=False).fit(X)
    enc = OneHotEncoder(sparse_output=False).fit(X)
    assert enc.categories_[0][:2].tolist() == ["a", "b"] and enc.categories_[0][2] is None
    assert np.isnan(enc.categories_[0][3])
    np.testing.assert_array_equal(enc.transform(X), ref.transform(X))
    assert list(enc.get_feature_names_out()) == list(ref.get_feature_names_out())
    back = enc.inverse_transform(enc.transform(X))
    assert back[1, 0] is None and np.isnan(back[3, 0]) and back[0, 0] == "b"
    Xf = np.array([[1.0], [np.nan], [3.0], [np.nan]])
    np.testing.assert_array_equal(OneHotEncoder().fit(Xf).transform(Xf).toarray(),
                                  skp.OneHotEncoder().fit(Xf).transform(Xf).toarray())
    df = pd.DataFrame({"c": pd.Series(["c", "a", pd.NA, "b"], dtype="category"), "n": [3.0, np.nan, 0.0, 3.0]})
    ref = skp.OneHotEncoder(sparse_output=False).fit(df)
    enc = OneHotEncoder(sparse_output=False).fit(df)
    np.testing.assert_array_equal(enc.transform(df), ref.transform(df))
    assert list(enc.get_feature_names_out()) == list(ref.get_feature_names_out())
    assert list(enc.get_feature_names_out()) == ["c_a", "c_b", "c_c", "c_nan", "n_0.0", "n_3.0", "n_nan"]
    enc = OneHotEncoder(drop=["b", np.nan]).fit(X)
    np.testing.assert_array_equal(enc.transform(X).toarray(), skp.OneHotEncoder(drop=["b", np.nan]).fit(X)
                                  .transform(X).toarray())


def test_onehot_drop_with_unknown_warns_and_inverts():
    X = [["a", 0], ["b", 2], ["b", 1]]
    for drop in ("first", "if_binary"):
        for hu, what in (("ignore", "all zeros"), ("infrequent_if_exist", "the infrequent category."),
                         ("warn", "the infrequent category.")):
            enc = OneHotEncoder(drop=drop, sparse_output=False, handle_unknown=hu).fit(X)
            ref = skp.OneHotEncoder(drop=drop, sparse_output=False, handle_unknown=hu).fit(X)
            with pytest.warns(UserWarning, match=r"Found unknown categories in columns \[0, 1\] during transform. "
                                                 f"These unknown categories will be encoded as {what}"):
                out = enc.transform([["c", 3]])
            np.testing.assert_array_equal(out, np.zeros((1, out.shape[1])))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                want = ref.inverse_transform(ref.transform([["c", 3]]))
            np.testing.assert_array_equal(enc.inverse_transform(out), want)
    enc = OneHotEncoder(handle_unknown="ignore").fit(X)
    back = enc.inverse_transform(enc.transform([["c", 0]]))
    assert back.dtype == object and back[0, 0] is None and back[0, 1] == 0


def test_onehot_string_categories_and_errors():
    X = np.array([["b"], ["a"]], dtype="S")
    enc = OneHotEncoder(categories=[np.array(["b", "a"], dtype="U")], sparse_output=False).fit(X)
    np.testing.assert_array_equal(enc.transform(np.array([["a"], ["b"]], dtype="S")), [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="the predefined categories have type 'bytes' which is incompatible"):
        OneHotEncoder(categories=[np.array(["b", "a"], dtype="S")]).fit(np.array([["b"], ["a"]], dtype="U"))
    with pytest.raises(ValueError, match="the predefined categories contain duplicate elements"):
        OneHotEncoder(categories=[["a", "b", "a"]]).fit(np.array([["a"], ["b"]], dtype=object))
    X = [["abc", 2, 55], ["def", 1, 55], ["abc", 3, 55]]
    enc = OneHotEncoder(categories=[["abc", "def"], [1, 2], [54, 55, 56]], handle_unknown="ignore").fit(X)
    back = enc.inverse_transform(enc.transform(X))
    expected = np.array(X, dtype=object)
    expected[2, 1] = None
    np.testing.assert_array_equal(back, expected)
    with pytest.raises(ValueError, match="Pandas output does not support sparse data"):
        pytest.importorskip("pandas")
        OneHotEncoder().set_output(transform="pandas").fit_transform(np.array([[1], [2]]))


# --------------------------------------------------------------------------- #
# LabelEncoder
# --------------------------------------------------------------------------- #


def test_label_encoder_numeric(xp):
    y = datasets.load_iris().target * 2 + 3
    ref = skp.LabelEncoder().fit(y)
    yb = xp.asarray(y)
    le = LabelEncoder().fit(yb)
    _same_library(le.classes_, yb)
    np.testing.assert_array_equal(xp.to_numpy(le.classes_), ref.classes_)
    codes = le.transform(yb)
    _same_library(codes, yb)
    np.testing.assert_array_equal(xp.to_numpy(codes), ref.transform(y))
    np.testing.assert_array_equal(xp.to_numpy(le.fit_transform(yb)), ref.transform(y))
    back = le.inverse_transform(codes)
    _same_library(back, yb)
    np.testing.assert_array_equal(xp.to_numpy(back), y)
    with pytest.raises(ValueError, match=r"y contains previously unseen labels: \[4, 100\]"):
        le.transform(xp.asarray(np.array([3, 4, 100, 5])))
    with pytest.raises(ValueError, match=r"y contains previously unseen labels: \[3\]"):
        le.inverse_transform(xp.asarray(np.array([0, 3])))


def test_label_encoder_floats_and_host_labels_with_device_data(xp):
    y = np.array([0.5, 2.5, 0.5, 1.5])
    le = LabelEncoder().fit(xp.asarray(y))
    np.testing.assert_array_equal(xp.to_numpy(le.transform(xp.asarray(y))), [0, 2, 0, 1])
    # a fitted encoder computes where the data lives
    np.testing.assert_array_equal(xp.to_numpy(le.transform(y)), [0, 2, 0, 1])


def test_label_encoder_strings():
    y = np.array(["paris", "tokyo", "amsterdam", "paris"])
    ref = skp.LabelEncoder().fit(y)
    le = LabelEncoder().fit(y)
    assert isinstance(le.classes_, np.ndarray)
    np.testing.assert_array_equal(le.classes_, ref.classes_)
    codes = le.transform(y)
    np.testing.assert_array_equal(codes, ref.transform(y))
    np.testing.assert_array_equal(le.inverse_transform(codes), y)
    np.testing.assert_array_equal(LabelEncoder().fit_transform(list(y)), ref.transform(y))
    with pytest.raises(ValueError, match=r"y contains previously unseen labels: \['berlin'\]"):
        le.transform(["paris", "berlin"])


def test_label_encoder_strings_decoded_from_device_codes(xp):
    y = np.array(["b", "a", "c", "a"])
    le = LabelEncoder().fit(y)
    back = le.inverse_transform(xp.asarray(np.array([2, 0, 1])))
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, ["c", "a", "b"])


def test_label_encoder_shapes():
    le = LabelEncoder()
    with pytest.raises(ValueError, match=r"y should be a 1d array, got an array of shape \(2, 2\) instead"):
        le.fit(np.ones((2, 2)))
    with pytest.warns(Warning, match="A column-vector y was passed"):
        le.fit(np.array([[1], [2]]))
    np.testing.assert_array_equal(le.classes_, [1, 2])
    assert le.transform(np.array([], dtype=np.int64)).shape == (0,)


# --------------------------------------------------------------------------- #
# PolynomialFeatures
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"degree": 3},
        {"degree": (2, 3)},
        {"degree": 3, "interaction_only": True},
        {"degree": (0, 2), "include_bias": False},
        {"degree": 1, "include_bias": False},
    ],
)
def test_polynomial_matches_sklearn(xp, params):
    X = datasets.load_diabetes().data[:, :6]
    ref = skp.PolynomialFeatures(**params).fit(X)
    Xb = xp.asarray(X)
    pf = PolynomialFeatures(**params).fit(Xb)
    Xt = pf.transform(Xb)
    _same_library(Xt, Xb)
    assert Xt.dtype == Xb.dtype
    _close(xp, Xt, ref.transform(X))
    assert pf.n_output_features_ == ref.n_output_features_
    np.testing.assert_array_equal(pf.powers_, ref.powers_)
    assert list(pf.get_feature_names_out()) == list(ref.get_feature_names_out())


def test_polynomial_real_data_degree_2(xp):
    X = datasets.load_breast_cancer().data[:100]
    ref = skp.PolynomialFeatures(2).fit_transform(X)
    _close(xp, PolynomialFeatures(2).fit_transform(xp.asarray(X)), ref)


def test_polynomial_feature_names_from_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    pf = PolynomialFeatures(2).fit(df)
    assert list(pf.get_feature_names_out()) == ["1", "a", "b", "a^2", "a b", "b^2"]


def test_polynomial_order_f_gives_fortran_numpy():
    X = np.arange(10.0).reshape(5, 2)
    assert PolynomialFeatures().fit_transform(X).flags.c_contiguous
    out = PolynomialFeatures(order="F").fit_transform(X)
    assert out.flags.f_contiguous
    np.testing.assert_array_equal(out, skp.PolynomialFeatures(order="F").fit_transform(X))


def test_polynomial_bad_degree():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="would result in an empty output array"):
        PolynomialFeatures(0, include_bias=False).fit(X)
    with pytest.raises(ValueError, match=r"min_degree <= max_degree, got \(3, 2\)"):
        PolynomialFeatures((3, 2)).fit(X)
    with pytest.raises(InvalidParameterError, match="order"):
        PolynomialFeatures(order="K").fit(X)


# --------------------------------------------------------------------------- #
# shared contract
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "est",
    [MinMaxScaler(), RobustScaler(), OneHotEncoder(handle_unknown="ignore"), PolynomialFeatures()],
    ids=lambda e: type(e).__name__,
)
def test_inputs_not_modified(xp, est):
    X = _int_codes().astype(float)[:40]
    Xb = xp.asarray(X)
    before = xp.to_numpy(Xb).copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit_transform(Xb)
        est.transform(Xb)
    np.testing.assert_array_equal(xp.to_numpy(Xb), before)


def test_fitted_on_torch_transforms_numpy():
    torch = pytest.importorskip("torch")
    X = datasets.load_wine().data
    sc = MinMaxScaler().fit(torch.asarray(X))
    out = sc.transform(X)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, skp.MinMaxScaler().fit_transform(X), rtol=1e-12, atol=1e-12)


@parametrize_with_checks(
    [
        MinMaxScaler(),
        MinMaxScaler(feature_range=(-1, 1), clip=True),
        RobustScaler(),
        RobustScaler(with_centering=False, quantile_range=(10.0, 90.0), unit_variance=True),
        OneHotEncoder(),
        OneHotEncoder(handle_unknown="ignore", drop="if_binary"),
        PolynomialFeatures(),
        PolynomialFeatures(degree=(2, 3), interaction_only=True, include_bias=False),
    ]
)
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_to_backend_keeps_host_metadata():
    torch = pytest.importorskip("torch")
    X = _int_codes()
    enc = OneHotEncoder(drop="first", sparse_output=False).fit(X).to_backend("torch")
    assert isinstance(enc.categories_[0], torch.Tensor) and isinstance(enc.drop_idx_, np.ndarray)
    out = enc.transform(torch.asarray(X))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(out.numpy(), skp.OneHotEncoder(drop="first", sparse_output=False).fit_transform(X))
    le = LabelEncoder().fit(np.array(["b", "a"])).to_backend("torch")  # string classes stay NumPy
    np.testing.assert_array_equal(le.transform(["a", "b"]), [0, 1])


def test_label_encoder_nan_is_one_label():
    """NaN is one label, sorted last, as scikit-learn's LabelEncoder (also among strings, where it is 'nan')."""
    from sklearn.preprocessing import LabelEncoder as SkLabelEncoder

    y = np.array([1.0, np.nan, 2.0, np.nan])
    ours, theirs = LabelEncoder().fit(y), SkLabelEncoder().fit(y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.transform(y), theirs.transform(y))
    np.testing.assert_array_equal(LabelEncoder().fit_transform(y), theirs.transform(y))
    mixed = ["a", "a", "b", np.nan]
    np.testing.assert_array_equal(LabelEncoder().fit(mixed).transform([np.nan]), SkLabelEncoder().fit(mixed).transform([np.nan]))
    with pytest.raises(ValueError, match="previously unseen labels"):
        LabelEncoder().fit([1.0, 2.0]).transform([np.nan])
