"""Sparse input (``scipy.sparse`` and torch sparse tensors), with scikit-learn as the reference."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as ss
import sklearn.decomposition as skd
import sklearn.preprocessing as skp

import toolbox.decomposition as td
import toolbox.preprocessing as tp

# every container on a CPU backend with sparse arrays
CONTAINERS = ["csr_matrix", "csr_array", "csc_matrix", "csc_array", "coo_array", "torch_csr", "torch_coo"]


def make(X, kind):
    """SciPy CSR ``X`` as the container ``kind``."""
    if kind.startswith("torch"):
        torch = pytest.importorskip("torch")
        C = ss.csr_array(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            T = torch.sparse_csr_tensor(torch.as_tensor(C.indptr.astype(np.int64)),
                                        torch.as_tensor(C.indices.astype(np.int64)),
                                        torch.as_tensor(C.data), size=C.shape)
            return T.to_sparse_coo().coalesce() if kind == "torch_coo" else T
    return getattr(ss, kind)(X)


def dense(x):
    """A NumPy array from a dense or sparse result of any library."""
    if ss.issparse(x):
        return x.toarray()
    mod = type(x).__module__
    if mod.startswith("torch"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return (x.to_dense() if x.layout != __import__("torch").strided else x).numpy()
    return np.asarray(x)


def snapshot(X):
    """A copy of ``X``'s stored arrays, to check later that ``X`` was not modified."""
    if ss.issparse(X):
        return [np.array(a, copy=True) for a in (X.data, *(getattr(X, n) for n in ("indices", "indptr", "row",
                                                                                     "col") if hasattr(X, n)))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [dense(X).copy()]


def same(X, snap):
    for a, b in zip(snapshot(X), snap, strict=True):
        np.testing.assert_array_equal(a, b)


def assert_same_family(out, X):
    """Sparse output in the input's family: SciPy matrix/array class kept, torch stays torch sparse."""
    if ss.issparse(X):
        assert ss.issparse(out), type(out)
        assert isinstance(out, ss.sparray) == isinstance(X, ss.sparray)
    else:
        import torch

        assert isinstance(out, torch.Tensor) and out.layout != torch.strided
        assert out.layout == X.layout


@pytest.fixture(params=CONTAINERS)
def kind(request):
    return request.param


@pytest.fixture
def X_sp():
    rng = np.random.default_rng(0)
    X = ss.random(120, 25, density=0.15, random_state=rng, format="csr") * 4.0
    X.data -= 1.0  # negative entries too
    return ss.csr_matrix(X)


# --------------------------------------------------------------------------- #
# validation
# --------------------------------------------------------------------------- #


def test_refusal_names_the_sparse_alternative():
    X = ss.csr_matrix(np.eye(4))
    with pytest.raises(TypeError, match=r"Sparse data was passed for X to PCA.*TruncatedSVD"):
        td.PCA(2).fit(X)
    with pytest.raises(ValueError, match=r"Cannot center sparse matrices.*with_mean=False.*MaxAbsScaler"):
        tp.StandardScaler().fit(X)


def test_sparse_nan_and_inf_are_refused():
    X = ss.csr_matrix(np.array([[0.0, 1.0], [np.nan, 0.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        tp.MaxAbsScaler().fit(X)


# --------------------------------------------------------------------------- #
# transformers: sparse in, sparse out of the same family
# --------------------------------------------------------------------------- #

TRANSFORMERS = [
    (lambda: tp.StandardScaler(with_mean=False), lambda: skp.StandardScaler(with_mean=False)),
    (lambda: tp.StandardScaler(with_mean=False, with_std=False),
     lambda: skp.StandardScaler(with_mean=False, with_std=False)),
    (tp.MaxAbsScaler, skp.MaxAbsScaler),
    (tp.Normalizer, skp.Normalizer),
    (lambda: tp.Normalizer("l1"), lambda: skp.Normalizer("l1")),
    (lambda: tp.Normalizer("max"), lambda: skp.Normalizer("max")),
]


@pytest.mark.parametrize("make_pair", TRANSFORMERS, ids=["std", "std_nostd", "maxabs", "l2", "l1", "max"])
def test_transformers_match_sklearn_and_stay_sparse(make_pair, kind, X_sp):
    ours, ref = make_pair[0](), make_pair[1]()
    X = make(X_sp, kind)
    snap = snapshot(X)
    out = ours.fit_transform(X)
    expected = ref.fit_transform(X_sp)
    assert_same_family(out, X)
    np.testing.assert_allclose(dense(out), expected.toarray(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dense(ours.transform(X)), expected.toarray(), rtol=1e-12, atol=1e-12)
    for attr in ("scale_", "mean_", "var_", "max_abs_"):
        if getattr(ref, attr, None) is not None:
            np.testing.assert_allclose(dense(getattr(ours, attr)), getattr(ref, attr), rtol=1e-12, atol=1e-14)
    if hasattr(ours, "inverse_transform"):
        back = ours.inverse_transform(out)
        assert_same_family(back, X)
        np.testing.assert_allclose(dense(back), X_sp.toarray(), rtol=1e-12, atol=1e-12)
    same(X, snap)


def test_fitted_attributes_live_where_the_data_is(X_sp):
    torch = pytest.importorskip("torch")
    sc = tp.MaxAbsScaler().fit(make(X_sp, "torch_csr"))
    assert isinstance(sc.scale_, torch.Tensor)
    sc = tp.MaxAbsScaler().fit(X_sp)
    assert isinstance(sc.scale_, np.ndarray)


def test_standard_scaler_sample_weight_and_partial_fit(X_sp):
    w = np.random.default_rng(1).uniform(0.5, 2.0, X_sp.shape[0])
    ours = tp.StandardScaler(with_mean=False).fit(X_sp, sample_weight=w)
    ref = skp.StandardScaler(with_mean=False).fit(X_sp, sample_weight=w)
    np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-10)
    ours = tp.StandardScaler(with_mean=False).partial_fit(X_sp[:50]).partial_fit(X_sp[50:])
    ref = skp.StandardScaler(with_mean=False).partial_fit(X_sp[:50]).partial_fit(X_sp[50:])
    np.testing.assert_allclose(ours.var_, ref.var_, rtol=1e-10)
    ours = tp.MaxAbsScaler().partial_fit(X_sp[:50]).partial_fit(X_sp[50:])
    np.testing.assert_allclose(ours.max_abs_, skp.MaxAbsScaler().fit(X_sp).max_abs_)


def test_dense_input_of_the_new_transformers(X_sp):
    Xd = X_sp.toarray()
    for ours, ref in [(tp.MaxAbsScaler(), skp.MaxAbsScaler()), (tp.Normalizer("l1"), skp.Normalizer("l1")),
                      (tp.Normalizer(), skp.Normalizer()), (tp.Normalizer("max"), skp.Normalizer("max"))]:
        np.testing.assert_allclose(ours.fit_transform(Xd), ref.fit_transform(Xd), rtol=1e-12)


@pytest.mark.parametrize("kind", ["csr_matrix", "csc_array", "torch_csr"])
def test_transformers_never_densify_a_huge_matrix(kind):
    """10^6 x 10^6 with 5 stored entries: a dense copy would need 8 TB."""
    n = 10**6
    X0 = ss.csr_matrix((np.array([1.0, -2.0, 3.0, 4.0, 0.5]), (np.array([0, 5, 5, 999_999, 42]),
                                                               np.array([3, 0, 999_998, 7, 3]))), shape=(n, n))
    X = make(X0, kind)
    for est in (tp.StandardScaler(with_mean=False), tp.MaxAbsScaler(), tp.Normalizer()):
        out = est.fit_transform(X)
        assert_same_family(out, X)
    out = tp.MaxAbsScaler().fit_transform(X)
    vals = out.data if ss.issparse(out) else out.values()
    np.testing.assert_allclose(np.sort(np.asarray(vals)), [-1.0, 0.5, 1.0, 1.0, 1.0])


# --------------------------------------------------------------------------- #
# TruncatedSVD
# --------------------------------------------------------------------------- #


def _svd_data():
    rng = np.random.default_rng(3)
    X = ss.random(300, 60, density=0.2, random_state=rng, format="csr")
    # well separated leading singular values, so randomized and exact SVDs agree closely
    U = np.linalg.qr(rng.normal(size=(300, 4)))[0]
    V = np.linalg.qr(rng.normal(size=(60, 4)))[0]
    low = (U * np.array([40.0, 30.0, 20.0, 10.0])) @ V.T
    mask = X.toarray() != 0
    return ss.csr_matrix(np.where(mask, low + X.toarray(), 0.0))


@pytest.mark.parametrize("algorithm", ["randomized", "arpack"])
def test_truncated_svd_matches_sklearn(algorithm, kind):
    Xs = _svd_data()
    if algorithm == "arpack" and kind.startswith("torch"):
        with pytest.raises(ValueError, match="randomized"):
            td.TruncatedSVD(3, algorithm="arpack").fit(make(Xs, kind))
        return
    X = make(Xs, kind)
    snap = snapshot(X)
    ours = td.TruncatedSVD(3, algorithm=algorithm, n_iter=30, random_state=0)
    Xt = ours.fit_transform(X)
    ref = skd.TruncatedSVD(3, algorithm="arpack", random_state=0).fit(Xs)
    np.testing.assert_allclose(dense(ours.singular_values_), ref.singular_values_, rtol=1e-6)
    np.testing.assert_allclose(dense(ours.components_), ref.components_, atol=1e-5)
    np.testing.assert_allclose(dense(ours.explained_variance_ratio_), ref.explained_variance_ratio_, rtol=1e-5)
    np.testing.assert_allclose(dense(Xt), ref.transform(Xs), atol=1e-4)
    np.testing.assert_allclose(dense(ours.transform(X)), dense(Xt), atol=1e-10)
    assert not ss.issparse(Xt)
    same(X, snap)


def test_truncated_svd_float32_kept():
    Xs = _svd_data().astype(np.float32)
    ours = td.TruncatedSVD(2, random_state=0).fit(Xs)
    assert ours.components_.dtype == np.float32
