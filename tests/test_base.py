"""The estimator contract: validation errors, no mutation, output mirroring, to_backend, sklearn interop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import toolbox as tb
from toolbox.backends import framework_of
from toolbox.exceptions import NotFittedError
from toolbox.preprocessing import StandardScaler


def _fit_err(X, match, exc=ValueError, **kw):
    with pytest.raises(exc, match=match):
        StandardScaler().fit(X, **kw)


def test_nan_error_names_count_and_first_position(xp):
    X = np.ones((30, 5))
    X[17, 3] = np.nan
    X[20, 1] = np.nan
    X[25, 0] = np.inf
    _fit_err(xp.asarray(X), r"Input X contains NaN: 2 NaN and 1 infinite value\(s\); the first is at row 17, column 3")


def test_inf_only(xp):
    X = np.ones((4, 2))
    X[2, 1] = -np.inf
    _fit_err(xp.asarray(X), r"Input X contains infinity: 0 NaN and 1 infinite value\(s\); the first is at row 2, column 1")


def test_huge_finite_values_pass(xp):
    big = 1e300 if xp.float64 else 1e38
    StandardScaler(with_std=False).fit(xp.asarray(np.full((10, 2), big)))  # the sum overflows; values are finite


def test_dimension_errors(xp):
    _fit_err(xp.asarray(np.ones(5)), "Expected 2D array, got 1D array instead.*Reshape your data")
    _fit_err(xp.asarray(np.ones((2, 2, 2))), "Found array with dim 3 for X. StandardScaler expected <= 2")


def test_empty_errors(xp):
    _fit_err(xp.asarray(np.ones((0, 3))), r"Found array with 0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 1")
    _fit_err(xp.asarray(np.ones((3, 0))), r"Found array with 0 feature\(s\) \(shape=\(3, 0\)\)")


def test_n_features_checked_at_transform(xp):
    sc = StandardScaler().fit(xp.asarray(np.ones((5, 4))))
    with pytest.raises(ValueError, match="X has 3 features, but StandardScaler is expecting 4 features as input"):
        sc.transform(xp.asarray(np.ones((5, 3))))


def test_sample_weight_length_mismatch(xp):
    _fit_err(xp.asarray(np.ones((5, 2))), r"sample_weight.shape == \(4,\), expected \(5,\)",
             sample_weight=xp.asarray(np.ones(4)))


def test_host_input_errors():
    import scipy.sparse

    _fit_err(scipy.sparse.csr_matrix(np.eye(3)), r"Cannot center sparse matrices.*with_mean=False")
    _fit_err(np.ones((3, 2)) + 1j, "Complex data not supported")
    _fit_err(np.array([["a", "b"], ["c", "d"]]), r"X holds non-numeric values \(<U1\)")
    X = np.ones((3, 2), dtype=object)
    X[0, 0] = {"a": 1}
    _fit_err(X, "argument must be a string.* number", exc=TypeError)


def test_pandas_input_and_feature_names():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1, 5, 9]})
    sc = StandardScaler().fit(df)
    np.testing.assert_array_equal(sc.feature_names_in_, ["a", "b"])
    assert isinstance(sc.transform(df), np.ndarray)
    np.testing.assert_array_equal(sc.get_feature_names_out(), ["a", "b"])
    with pytest.raises(ValueError, match="The feature names should match"):
        sc.transform(df[["b", "a"]].rename(columns={"b": "c"}))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        sc.transform(df.to_numpy())
    with pytest.raises(TypeError, match="X column 'c' has non-numeric dtype"):
        StandardScaler().fit(df.assign(c=["x", "y", "z"]))


def test_nested_lists():
    Xt = StandardScaler().fit_transform([[1, 2], [3, 4], [5, 6]])
    assert isinstance(Xt, np.ndarray) and Xt.dtype == np.float64
    np.testing.assert_allclose(Xt[:, 0], [-1.224744871391589, 0.0, 1.224744871391589])


def test_input_is_never_modified(xp):
    a = np.random.default_rng(0).normal(size=(20, 3))
    X = xp.asarray(a)
    sc = StandardScaler().fit(X)
    sc.transform(X)
    sc.inverse_transform(X)
    np.testing.assert_array_equal(xp.to_numpy(X), xp.to_numpy(xp.asarray(a)))


def test_mixed_libraries_in_one_call():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="X is a numpy array on cpu but sample_weight is a torch array"):
        StandardScaler().fit(np.ones((3, 2)), sample_weight=torch.ones(3))


def test_not_fitted():
    with pytest.raises(NotFittedError):
        StandardScaler().transform(np.ones((2, 2)))
    with pytest.raises(NotFittedError):
        StandardScaler().to_backend("torch")


def test_output_mirrors_input(xp):
    X = xp.asarray(np.random.default_rng(0).normal(size=(10, 3)))
    Xt = StandardScaler().fit_transform(X)
    assert framework_of(Xt) is framework_of(X)
    assert xp.to_numpy(Xt).shape == (10, 3)


def test_explicit_backend_converts_and_mirrors_back():
    pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=(10, 3))
    with tb.use_backend("torch"):
        sc = StandardScaler().fit(a)
        assert framework_of(sc.mean_).name == "torch"  # fitted where it computed
        out = sc.transform(a)
    assert isinstance(out, np.ndarray)  # mirrors the NumPy input
    with tb.use_backend("torch"), tb.config_context(output_type="backend"):
        assert framework_of(sc.transform(a)).name == "torch"
    with tb.config_context(output_type="jax"):
        assert framework_of(sc.transform(a)).name == "jax"


def test_estimator_to_backend_moves_fitted_arrays():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).normal(size=(10, 3))
    sc = StandardScaler().fit(a)
    assert sc.to_backend("torch") is sc
    assert isinstance(sc.mean_, torch.Tensor) and isinstance(sc.scale_, torch.Tensor)
    assert isinstance(sc.n_samples_seen_, int)
    out = sc.transform(torch.asarray(a))
    np.testing.assert_allclose(out.numpy(), StandardScaler().fit_transform(a))
    # fitted on torch, used on NumPy data: attributes follow the data, the input type is mirrored
    assert isinstance(sc.transform(a), np.ndarray)


def test_sklearn_interop():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)) * 10 + 5, rng.normal(size=60)
    sc = StandardScaler(with_mean=False)
    params = clone(sc).get_params()
    assert params == {"copy": True, "with_mean": False, "with_std": True}
    pipe = make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)
    assert pipe.score(X, y) > -1
    gs = GridSearchCV(make_pipeline(StandardScaler(), LinearRegression()),
                      {"standardscaler__with_std": [True, False]}, cv=3).fit(X, y)
    assert gs.best_params_["standardscaler__with_std"] in (True, False)
    import pickle

    fitted = StandardScaler().fit(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).transform(X), fitted.transform(X))


def test_classifier_fitted_on_one_library_predicts_on_another():
    torch = pytest.importorskip("torch")
    from sklearn.datasets import load_iris

    from toolbox.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression().fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(clf.classes_, torch.Tensor)
    pred = clf.predict(X)  # NumPy data: the model's arrays follow it, labels mirror the input
    assert isinstance(pred, np.ndarray)
    np.testing.assert_array_equal(pred, clf.predict(torch.asarray(X)).numpy())
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = LogisticRegression().fit(torch.asarray(X), names)
    assert clf.predict(torch.asarray(X)).dtype.kind == "U"  # string labels come back as NumPy
    assert clf.score(torch.asarray(X), names) > 0.9


@pytest.mark.parametrize("y", [
    np.array([2, 0, 1, 2, 2]),
    np.array([-128, 127, 0, -128], dtype=np.int8),
    np.array([5, 5], dtype=np.uint16),
    np.array([0, 2**40, 17]),
    np.array([2**63 + 5, 2**63 + 1], dtype=np.uint64),
    np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max]),
    np.array(["b", "a", "b"]),
])
def test_label_encoding_equals_numpy_unique(y):
    """Integer labels are counted instead of sorted: the same classes, dtype and codes as np.unique."""
    from toolbox._labels import _unique_inverse

    classes, inverse = _unique_inverse(y)
    ref_classes, ref_inverse = np.unique(y, return_inverse=True)
    np.testing.assert_array_equal(classes, ref_classes, strict=True)
    np.testing.assert_array_equal(inverse, ref_inverse)
