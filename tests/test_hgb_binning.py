"""BinMapper (histogram gradient boosting's binning) against scikit-learn's ``_BinMapper``, on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper

from toolbox.ensemble._hist_gradient_boosting._binning import (
    ALMOST_INF,
    BinMapper,
    _lerp,
    _quantile_positions,
)

# infinite data: numpy's quantiles (in scikit-learn) warn about inf - inf
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")


def _data(rng, n=2000):
    """Columns: many distinct values, few, ~300 (around max_bins), constant, rounded, with infinities."""
    X = np.column_stack([
        rng.normal(size=n),
        rng.integers(0, 5, n).astype(float),
        rng.integers(0, 300, n).astype(float),
        np.full(n, 3.5),
        rng.normal(size=n).round(1),
        rng.exponential(size=n) * 1e3,
        rng.normal(size=n),
    ])
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:40, 6] = np.inf  # infinite values give NaN quantiles in numpy, hence in scikit-learn
    X[40:60, 6] = -np.inf
    return X


def _assert_same_thresholds(ours, sk):
    assert len(ours.bin_thresholds_) == len(sk.bin_thresholds_)
    for f, (a, b) in enumerate(zip(ours.bin_thresholds_, sk.bin_thresholds_)):
        assert isinstance(a, np.ndarray) and a.dtype == np.float64, f
        b = np.asarray(b, dtype=np.float64)
        assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True), f"feature {f}: {a} != {b}"
    np.testing.assert_array_equal(ours.n_bins_non_missing_, sk.n_bins_non_missing_)
    assert ours.n_bins_non_missing_.dtype == np.uint32
    assert ours.missing_values_bin_idx_ == sk.missing_values_bin_idx_


def _codes(xp, bm, Xd):
    out = bm.transform(Xd, xp=xp.xp)
    assert "uint8" in str(out.dtype)
    return xp.to_numpy(out)


@pytest.mark.parametrize("n_bins", [3, 17, 256])
def test_matches_sklearn(xp, n_bins):
    X = _data(np.random.default_rng(n_bins))
    Xd = xp.asarray(X)
    Xh = xp.to_numpy(Xd).astype(np.float64)  # what the backend holds (float32 on jax-cpu-f32), as sklearn casts it
    ours = BinMapper(n_bins=n_bins).fit(Xd, xp=xp.xp)
    sk = _BinMapper(n_bins=n_bins).fit(Xh)
    _assert_same_thresholds(ours, sk)
    assert ours.is_categorical_.dtype == bool and not ours.is_categorical_.any()
    np.testing.assert_array_equal(_codes(xp, ours, Xd), sk.transform(Xh))


def test_float32_data_near_thresholds(xp):
    """float32 data: scikit-learn's float64 thresholds; values next to each threshold bin as in float64."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1500, 3)).astype(np.float32)
    X[:, 1] = np.round(X[:, 1], 1)
    ours = BinMapper(n_bins=64).fit(xp.asarray(X), xp=xp.xp)
    sk = _BinMapper(n_bins=64).fit(X)
    _assert_same_thresholds(ours, sk)
    # each threshold, rounded to float32, and its float32 neighbours
    T = np.full((3 * 63, 3), np.nan, dtype=np.float32)
    for f, t in enumerate(ours.bin_thresholds_):
        t32 = t.astype(np.float32)
        cand = np.concatenate([t32, np.nextafter(t32, np.float32(-np.inf)), np.nextafter(t32, np.float32(np.inf))])
        T[:cand.size, f] = cand
    np.testing.assert_array_equal(_codes(xp, ours, xp.asarray(T)), sk.transform(T))
    np.testing.assert_array_equal(_codes(xp, ours, xp.asarray(X)), sk.transform(X))


def test_generic_path(xp, monkeypatch):
    """The vectorized search (GPUs, array_api_strict) gives the same codes on every namespace."""
    monkeypatch.setattr(BinMapper, "_host_fast_path", False)
    rng = np.random.default_rng(2)
    X = _data(rng, 600)
    cats = rng.integers(0, 6, 600).astype(float)
    cats[::17] = np.nan
    X = np.column_stack([X, cats])
    is_cat = np.zeros(X.shape[1], dtype=bool)
    is_cat[-1] = True
    known = [None] * (X.shape[1] - 1) + [np.arange(6.0)]
    Xd = xp.asarray(X)
    Xh = xp.to_numpy(Xd).astype(np.float64)
    ours = BinMapper(n_bins=40, is_categorical=is_cat, known_categories=known).fit(Xd, xp=xp.xp)
    sk = _BinMapper(n_bins=40, is_categorical=is_cat, known_categories=known).fit(Xh)
    _assert_same_thresholds(ours, sk)
    np.testing.assert_array_equal(_codes(xp, ours, Xd), sk.transform(Xh))
    finite = X[:, :6]  # no infinite data: the branch-free search
    ours = BinMapper(n_bins=256).fit(xp.asarray(finite), xp=xp.xp)
    Xh = xp.to_numpy(xp.asarray(finite)).astype(np.float64)
    np.testing.assert_array_equal(_codes(xp, ours, xp.asarray(finite)), _BinMapper().fit(Xh).transform(Xh))


def test_categorical(xp):
    rng = np.random.default_rng(3)
    n = 1000
    X = np.column_stack([rng.integers(0, 8, n), rng.normal(size=n), rng.choice([0.0, 3.0, 7.0, 250.0], n)])
    X[rng.random(n) < 0.1, 0] = np.nan
    is_cat = np.array([True, False, True])
    known = [np.arange(8.0), None, np.array([0.0, 3.0, 7.0, 250.0])]
    Xd = xp.asarray(X)
    Xh = xp.to_numpy(Xd).astype(np.float64)
    ours = BinMapper(n_bins=32, is_categorical=is_cat, known_categories=known).fit(Xd, xp=xp.xp)
    sk = _BinMapper(n_bins=32, is_categorical=is_cat, known_categories=known).fit(Xh)
    _assert_same_thresholds(ours, sk)
    np.testing.assert_array_equal(ours.is_categorical_, is_cat)
    np.testing.assert_array_equal(_codes(xp, ours, Xd), sk.transform(Xh))
    # unknown categories go to the missing-values bin (scikit-learn: a neighbouring category's bin)
    Z = np.array([[9.0, 0.0, 5.0], [-1.0, 0.0, 251.0], [7.0, 0.0, 250.0], [np.nan, 0.0, np.nan]])
    codes = _codes(xp, ours, xp.asarray(Z))
    np.testing.assert_array_equal(codes[:, 0], [31, 31, 7, 31])
    np.testing.assert_array_equal(codes[:, 2], [31, 31, 3, 31])


def test_subsample(xp):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 3))
    X[:, 2] = rng.integers(0, 40, 3000)
    X[::7, 0] = np.nan
    Xd = xp.asarray(X)
    Xh = xp.to_numpy(Xd).astype(np.float64)
    ours = BinMapper(n_bins=64, subsample=1000, random_state=0).fit(Xd, xp=xp.xp)
    # the same draw as scikit-learn's (RandomState(0).choice(n, 1000, replace=True)): the same thresholds
    _assert_same_thresholds(ours, _BinMapper(n_bins=64, subsample=1000, random_state=0).fit(Xh))
    full = BinMapper(n_bins=64, subsample=None).fit(Xd, xp=xp.xp)
    assert not all(np.array_equal(a, b) for a, b in zip(ours.bin_thresholds_, full.bin_thresholds_))
    codes = _codes(xp, ours, Xd)
    for f, t in enumerate(ours.bin_thresholds_):
        expect = np.searchsorted(t, Xh[:, f], side="left")
        expect[np.isnan(Xh[:, f])] = 63
        np.testing.assert_array_equal(codes[:, f], expect)
    again = BinMapper(n_bins=64, subsample=1000, random_state=0).fit(Xd, xp=xp.xp)
    _assert_same_thresholds(again, ours)


@pytest.mark.parametrize("kind", ["integer-weights", "zero-weights", "subsampled"])
def test_weighted_matches_sklearn(xp, kind):
    rng = np.random.default_rng(11)
    X = _data(rng, 1500)[:, [0, 1, 2, 4, 5]]  # the finite columns
    w = rng.integers(0, 4, 1500).astype(float) if kind == "zero-weights" else rng.uniform(0.2, 3.0, 1500)
    if kind == "integer-weights":
        w = np.ceil(w)
    Xd, wd = xp.asarray(X), xp.asarray(w)
    Xh = xp.to_numpy(Xd).astype(np.float64)
    wh = xp.to_numpy(wd).astype(np.float64)
    sub = 500 if kind == "subsampled" else 200_000
    ours = BinMapper(n_bins=32, subsample=sub, random_state=0).fit(Xd, xp=xp.xp, sample_weight=wd)
    sk = _BinMapper(n_bins=32, subsample=sub, random_state=0).fit(Xh, sample_weight=wh)
    _assert_same_thresholds(ours, sk)
    unweighted = BinMapper(n_bins=32, subsample=sub, random_state=0).fit(Xd, xp=xp.xp)
    assert not all(np.array_equal(a, b, equal_nan=True)
                   for a, b in zip(ours.bin_thresholds_, unweighted.bin_thresholds_))


def test_input_not_mutated(xp):
    X = _data(np.random.default_rng(5), 500)
    Xd = xp.asarray(X)
    before = xp.to_numpy(Xd).copy()
    bm = BinMapper(n_bins=20, subsample=300, random_state=1).fit(Xd, xp=xp.xp)
    bm.transform(Xd, xp=xp.xp)
    np.testing.assert_array_equal(xp.to_numpy(Xd), before)


def test_output_and_thresholds_matrix(xp):
    X = _data(np.random.default_rng(6), 300)[:, :4]
    Xd = xp.asarray(X)
    bm = BinMapper(n_bins=10).fit(Xd, xp=xp.xp)
    out = bm.transform(Xd, xp=xp.xp)
    assert out.shape == X.shape and out.dtype == xp.xp.uint8
    if isinstance(out, np.ndarray):
        assert out.flags.c_contiguous
    dtype = Xd.dtype
    T = bm.thresholds_matrix(xp.xp, xp.device, dtype)
    assert T is bm.thresholds_matrix(xp.xp, xp.device, dtype)  # cached
    assert T.shape == (4, 9) and T.dtype == dtype
    Th = xp.to_numpy(T).astype(np.float64)
    for f, t in enumerate(bm.bin_thresholds_):
        assert np.all(np.isinf(Th[f, t.shape[0]:]))
        if dtype == getattr(xp.xp, "float64", None):
            np.testing.assert_array_equal(Th[f, :t.shape[0]], t)
        else:  # rounded down to float32
            assert np.all(Th[f, :t.shape[0]] <= t)


def test_errors(xp):
    X = xp.asarray(np.arange(12.0).reshape(6, 2))
    for n_bins in (2, 257):
        with pytest.raises(ValueError, match="max_bins"):
            BinMapper(n_bins=n_bins).fit(X, xp=xp.xp)
    with pytest.raises(ValueError, match=r"feature 1 has 5 categories"):
        BinMapper(n_bins=5, is_categorical=[False, True], known_categories=[None, np.arange(5.0)]).fit(X, xp=xp.xp)
    with pytest.raises(ValueError, match="column 1"):
        BinMapper(is_categorical=[False, True], known_categories=[None, np.array([0.0, -1.0])]).fit(X, xp=xp.xp)
    with pytest.raises(ValueError, match="column 1"):
        BinMapper(is_categorical=[False, True], known_categories=[None, np.array([0.0, 1.5])]).fit(X, xp=xp.xp)
    bad = np.arange(12.0).reshape(6, 2)
    bad[3, 1] = 2.5
    with pytest.raises(ValueError, match=r"column 1\).*row 3"):
        BinMapper(is_categorical=[False, True], known_categories=[None, np.arange(12.0)]).fit(
            xp.asarray(bad), xp=xp.xp)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match=r"column 1\).*row 3"):
        BinMapper(is_categorical=[False, True], known_categories=[None, np.arange(12.0)]).fit(
            xp.asarray(bad), xp=xp.xp)
    bad[3, 1] = -3.0  # a negative value is a missing value (scikit-learn's rule): the missing-values bin
    bm = BinMapper(is_categorical=[False, True], known_categories=[None, np.arange(12.0)]).fit(
        xp.asarray(bad), xp=xp.xp)
    assert int(xp.to_numpy(bm.transform(xp.asarray(bad), xp=xp.xp))[3, 1]) == bm.missing_values_bin_idx_
    with pytest.raises(ValueError, match="Known categories for feature 1"):
        BinMapper(is_categorical=[False, True]).fit(X, xp=xp.xp)
    bm = BinMapper().fit(X, xp=xp.xp)
    with pytest.raises(ValueError, match="fitted with 2 features but 3"):
        bm.transform(xp.asarray(np.ones((2, 3))), xp=xp.xp)


def test_edge_cases():
    # one row, constant columns, all-missing column (scikit-learn raises on the last one)
    X = np.array([[1.0, 2.0, np.nan]])
    bm = BinMapper().fit(X, xp=np)
    assert all(t.shape == (0,) for t in bm.bin_thresholds_)
    np.testing.assert_array_equal(bm.transform(np.array([[0.0, 5.0, 1.0], [np.nan] * 3]), xp=np),
                                  [[0, 0, 0], [255, 255, 255]])
    # huge values: thresholds clipped at ALMOST_INF, as scikit-learn
    X = np.array([[0.0], [1e308], [np.inf]])
    bm = BinMapper().fit(X, xp=np)
    _assert_same_thresholds(bm, _BinMapper().fit(X))
    assert bm.bin_thresholds_[0].max() == ALMOST_INF


@pytest.mark.parametrize("max_bins", [2, 16, 255])
def test_quantile_positions_are_numpys(max_bins):
    rng = np.random.default_rng(max_bins)
    for n in [*range(max_bins + 1, max_bins + 400, 13), 1000, 2**17 + 3, 200_000]:
        a = np.sort(rng.normal(size=n))
        prev, nxt, gamma = _quantile_positions(n, max_bins)
        expect = np.percentile(a, np.linspace(0, 100, max_bins + 1)[1:-1], method="averaged_inverted_cdf")
        np.testing.assert_array_equal(_lerp(a[prev], a[nxt], gamma), expect)
