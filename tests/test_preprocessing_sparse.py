"""Scalers on sparse input against scikit-learn: RobustScaler's quantiles with the implicit zeros,
StandardScaler's variance of constant columns, Normalizer's CSR output, float16 round trips."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as ss
from sklearn import preprocessing as skp

from toolbox import preprocessing as tp


def _sparse(n: int, p: int, density: float, seed: int, fmt: str = "csr") -> ss.csr_matrix:
    X = ss.random(n, p, density=density, format=fmt, random_state=seed)
    X.data -= 0.5  # negative, zero and positive values around the implicit zeros
    return X


def _torch_csr(X: ss.csr_matrix):
    torch = pytest.importorskip("torch")
    X = X.tocsr()
    return torch.sparse_csr_tensor(torch.as_tensor(X.indptr, dtype=torch.int64),
                                   torch.as_tensor(X.indices, dtype=torch.int64), torch.as_tensor(X.data),
                                   size=X.shape)


@pytest.mark.parametrize("quantile_range", [(25.0, 75.0), (10.0, 90.0), (0.0, 100.0), (33.3, 66.6)])
@pytest.mark.parametrize(("shape", "density"), [((60, 7), 0.3), ((11, 4), 0.95), ((5, 3), 0.0), ((1, 3), 0.7)])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_robust_scaler_sparse_matches_sklearn(quantile_range, shape, density, fmt):
    X = _sparse(*shape, density, seed=3, fmt=fmt)
    before = X.copy()
    params = {"with_centering": False, "quantile_range": quantile_range,
              "unit_variance": 0.0 < quantile_range[0] < quantile_range[1] < 100.0}
    ours, theirs = tp.RobustScaler(**params).fit(X), skp.RobustScaler(**params).fit(X)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-12)
    out = ours.transform(X)
    assert ss.issparse(out) and out.format == fmt and out.nnz == X.nnz  # stays sparse, same structure
    np.testing.assert_allclose(out.toarray(), theirs.transform(X).toarray(), rtol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(out).toarray(), X.toarray(), rtol=1e-12)
    assert (X != before).nnz == 0  # the caller's matrix is untouched


def test_robust_scaler_sparse_torch_matches_scipy():
    X = _sparse(40, 5, 0.4, seed=5)
    ours = tp.RobustScaler(with_centering=False).fit(_torch_csr(X))
    np.testing.assert_allclose(ours.scale_.numpy(), skp.RobustScaler(with_centering=False).fit(X).scale_,
                               rtol=1e-12)


def test_robust_scaler_sparse_refuses_centring():
    X = _sparse(20, 3, 0.5, seed=1)
    with pytest.raises(ValueError, match="Cannot center sparse matrices: use `with_centering=False`"):
        tp.RobustScaler().fit(X)
    dense_fit = tp.RobustScaler().fit(X.toarray())
    with pytest.raises(ValueError, match="fitted with with_centering=True"):
        dense_fit.transform(X)


@pytest.mark.parametrize("constant", [1.0, 100.0, 1e-10])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_standard_scaler_sparse_constant_column_has_zero_variance(constant, weighted, fmt):
    """A constant stored column: variance exactly 0 and scale 1, weighted or not (as scikit-learn)."""
    X = ss.csr_matrix(np.full((100, 1), constant)).asformat(fmt)
    w = np.random.default_rng(0).uniform(size=100) * 2 if weighted else None
    ours = tp.StandardScaler(with_mean=False).fit(X, sample_weight=w)
    assert ours.var_[0] == 0.0 and ours.scale_[0] == 1.0
    np.testing.assert_allclose(ours.transform(X).toarray(), X.toarray())


def test_standard_scaler_float16_round_trip():
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float16)
    ours, theirs = tp.StandardScaler().fit(X), skp.StandardScaler().fit(X)
    out = ours.transform(X)
    assert out.dtype == np.float16 and ours.mean_.dtype == np.float64
    np.testing.assert_allclose(out.astype(float), theirs.transform(X).astype(float), rtol=2e-3, atol=2e-3)
    assert ours.inverse_transform(out).dtype == np.float16


@pytest.mark.parametrize("fmt", ["csc", "coo", "lil"])
@pytest.mark.parametrize("norm", ["l1", "l2", "max"])
def test_normalizer_gives_csr_for_any_scipy_format(fmt, norm):
    X = _sparse(8, 5, 0.5, seed=2).asformat(fmt)
    out = tp.Normalizer(norm=norm).fit_transform(X)
    expected = skp.Normalizer(norm=norm).fit_transform(X)
    assert out.format == expected.format == "csr"
    np.testing.assert_allclose(out.toarray(), expected.toarray())
