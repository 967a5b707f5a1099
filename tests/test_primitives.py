"""Each primitive against a NumPy reference, on every backend; native and generic paths."""

from __future__ import annotations

import numpy as np
import pytest

from toolbox.backends import Generator, jit, primitives
from toolbox.exceptions import IllConditionedWarning


def _close(b, got, want, rtol=None):
    np.testing.assert_allclose(b.to_numpy(got), want, rtol=rtol or b.rtol(), atol=1e-12 if b.float64 else 1e-5)


# --------------------------------------------------------------------------- segment_sum / bincount


@pytest.mark.parametrize("d", [None, 3])
def test_segment_sum_accumulates_repeated_ids(xp, rng, d):
    ids = np.array([0, 2, 2, 2, 4, 0, 4, 4, 4])  # repeated ids, an empty segment (1, 3)
    shape = (ids.size,) if d is None else (ids.size, d)
    vals = rng.normal(size=shape)
    want = np.zeros((5, *shape[1:]))
    np.add.at(want, ids, vals)
    got = primitives.segment_sum(xp.asarray(vals), xp.asarray(ids), 5, xp=xp.xp)
    assert tuple(got.shape) == want.shape
    _close(xp, got, want)


def test_segment_sum_generic_matches_native(xp, rng, monkeypatch):
    monkeypatch.setattr(primitives, "CHUNK_BYTES", 64)  # force many chunks
    ids = rng.integers(0, 7, size=500)
    vals = rng.normal(size=(500, 4))
    want = np.zeros((7, 4))
    np.add.at(want, ids, vals)
    got = primitives.GENERIC["segment_sum"](xp.asarray(vals), xp.asarray(ids), 7, xp=xp.xp)
    _close(xp, got, want)


def test_segment_sum_many_segments(xp, rng):
    ids = rng.integers(0, 1000, size=3000)
    vals = rng.normal(size=(3000, 2))
    want = np.zeros((1000, 2))
    np.add.at(want, ids, vals)
    _close(xp, primitives.segment_sum(xp.asarray(vals), xp.asarray(ids), 1000, xp=xp.xp), want)


def test_bincount(xp, rng):
    x = rng.integers(0, 6, size=200)
    w = rng.random(200)
    counts = primitives.bincount(xp.asarray(x), length=8, xp=xp.xp)
    np.testing.assert_array_equal(xp.to_numpy(counts), np.bincount(x, minlength=8))
    assert xp.xp.isdtype(counts.dtype, "integral")
    _close(xp, primitives.bincount(xp.asarray(x), length=8, weights=xp.asarray(w), xp=xp.xp),
           np.bincount(x, w, minlength=8))


# --------------------------------------------------------------------------- histogram


def _histogram_reference(codes, w, n_bins):
    d = codes.shape[1]
    want = np.zeros((d, n_bins, w.shape[1]))
    for f in range(d):
        np.add.at(want[f], codes[:, f], w)
    return want


@pytest.mark.parametrize("n_bins", [4, 256])
def test_histogram_sums_channels_per_feature_and_bin(xp, rng, n_bins):
    codes = rng.integers(0, n_bins, size=(300, 5)).astype(np.uint8)
    codes[:, 2] = 0  # one feature in a single bin
    w = rng.normal(size=(300, 3))
    got = primitives.histogram(xp.asarray(codes), xp.asarray(w), n_bins, xp=xp.xp)
    assert tuple(got.shape) == (5, n_bins, 3)
    _close(xp, got, _histogram_reference(codes, w, n_bins))


def test_histogram_generic_matches_native_in_chunks(xp, rng, monkeypatch):
    monkeypatch.setattr(primitives, "CHUNK_BYTES", 512)  # force many row chunks
    codes = rng.integers(0, 16, size=(200, 3)).astype(np.uint8)
    w = rng.normal(size=(200, 2))
    want = _histogram_reference(codes, w, 16)
    _close(xp, primitives.histogram(xp.asarray(codes), xp.asarray(w), 16, xp=xp.xp), want)
    _close(xp, primitives.GENERIC["histogram"](xp.asarray(codes), xp.asarray(w), 16, xp=xp.xp), want)


def test_histogram_rejects_bad_shapes(xp, rng):
    with pytest.raises(ValueError, match="histogram needs codes"):
        primitives.histogram(xp.asarray(np.zeros((4, 2), np.uint8)), xp.asarray(rng.normal(size=(3, 1))), 4,
                             xp=xp.xp)


def test_segment_sum_rejects_bad_shapes(xp):
    with pytest.raises(ValueError, match="segment_sum needs values"):
        primitives.segment_sum(xp.asarray(np.ones((3, 2))), xp.asarray(np.zeros(4, dtype=int)), 2, xp=xp.xp)


# --------------------------------------------------------------------------- smallest_k


@pytest.mark.parametrize("k", [1, 3, 10])
def test_smallest_k(xp, rng, k):
    x = rng.normal(size=(6, 10))
    vals, idx = primitives.smallest_k(xp.asarray(x), k, xp=xp.xp)
    order = np.argsort(x, axis=-1, kind="stable")[:, :k]
    np.testing.assert_array_equal(xp.to_numpy(idx), order)
    _close(xp, vals, np.take_along_axis(x, order, axis=-1))
    gvals, gidx = primitives.GENERIC["smallest_k"](xp.asarray(x), k, xp=xp.xp)
    np.testing.assert_array_equal(xp.to_numpy(gidx), order)
    _close(xp, gvals, np.take_along_axis(x, order, axis=-1))


def test_smallest_k_bad_k(xp):
    with pytest.raises(ValueError, match="k=5 must be between 1 and the axis length 4"):
        primitives.smallest_k(xp.asarray(np.ones((2, 4))), 5, xp=xp.xp)


def _tied_rows(rng, shape, dtype, nan=False):
    """Values with many exact ties (few distinct values), optionally some NaN."""
    x = rng.integers(-3, 4, size=shape).astype(dtype)
    x[..., ::7] = -0.0 if dtype != np.int64 else 0
    if nan:
        x[rng.random(shape) < 0.2] = np.nan
        x[0, :] = np.nan  # a row of NaN only
        x[1, 1:] = np.nan  # a row with one number
    return x


@pytest.mark.parametrize("kind", ["numpy", "numba"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("k", [1, 4, 31, 40])
def test_smallest_k_native_equals_generic_with_ties(kind, dtype, nan, k, rng):
    # the stable order: equal values by index, NaN last (by index); k=40 is the whole row
    native = pytest.importorskip(f"toolbox.backends.native.{kind}")
    x = _tied_rows(rng, (9, 40), dtype, nan)
    vals, idx = native.smallest_k(x, k, xp=np)
    gvals, gidx = primitives.GENERIC["smallest_k"](x, k, xp=np)
    np.testing.assert_array_equal(idx, gidx)
    np.testing.assert_array_equal(vals, gvals)
    assert vals.dtype == x.dtype and idx.shape == (9, k)


@pytest.mark.parametrize("kind", ["numpy", "numba"])
def test_smallest_k_native_shapes_and_fallbacks(kind, rng):
    native = pytest.importorskip(f"toolbox.backends.native.{kind}")
    cases = [
        (_tied_rows(rng, (2, 3, 50), np.float64), 5),  # leading axes
        (_tied_rows(rng, (50,), np.float32), 7),  # one row
        (_tied_rows(rng, (5, 300), np.int64), 6),  # integers (NumPy's partition under numba)
        (_tied_rows(rng, (4, 500), np.float64, nan=True), 100),  # k above the numba kernel's limit
        (rng.normal(size=(3, 5000)), 3),  # long rows: many lanes of the scan
        (np.sort(rng.normal(size=(3, 800)))[:, ::-1].copy(), 20),  # descending: every value enters
        (np.zeros((0, 6)), 2),  # no rows
    ]
    for x, k in cases:
        vals, idx = native.smallest_k(x, k, xp=np)
        gvals, gidx = primitives.GENERIC["smallest_k"](x, k, xp=np)
        assert idx.shape == (*x.shape[:-1], k)
        np.testing.assert_array_equal(idx, gidx)
        np.testing.assert_array_equal(vals, gvals)


def test_smallest_k_numba_many_rows_in_parallel(rng, monkeypatch):
    nb = pytest.importorskip("toolbox.backends.native.numba")
    monkeypatch.setattr(nb, "_PART_ELEMENTS", 64)  # one part per row or so: several threads
    x = _tied_rows(rng, (300, 64), np.float32, nan=True)
    vals, idx = nb.smallest_k(x, 5, xp=np)
    gvals, gidx = primitives.GENERIC["smallest_k"](x, 5, xp=np)
    np.testing.assert_array_equal(idx, gidx)
    np.testing.assert_array_equal(vals, gvals)


# --------------------------------------------------------------------------- logsumexp


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp(xp, rng, axis, keepdims):
    from scipy.special import logsumexp as ref

    x = rng.normal(size=(4, 5)) * 300  # exp overflows without the shift
    x[1, :] = -np.inf  # an all -inf row gives -inf, not nan
    got = primitives.logsumexp(xp.asarray(x), axis=axis, keepdims=keepdims, xp=xp.xp)
    want = ref(x, axis=axis, keepdims=keepdims)
    assert tuple(got.shape) == np.shape(want)
    np.testing.assert_allclose(xp.to_numpy(got), want, rtol=xp.rtol())
    gen = primitives.GENERIC["logsumexp"](xp.asarray(x), axis, keepdims, xp=xp.xp)
    np.testing.assert_allclose(xp.to_numpy(gen), want, rtol=xp.rtol())


# --------------------------------------------------------------------------- distances, gram


def test_sqeuclidean_distances(xp, rng, monkeypatch):
    X, Y = rng.normal(size=(50, 7)), rng.normal(size=(9, 7))
    want = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    got = primitives.sqeuclidean_distances(xp.asarray(X), xp.asarray(Y), xp=xp.xp)
    _close(xp, got, want, rtol=1e-7 if xp.float64 else 1e-3)
    monkeypatch.setattr(primitives, "CHUNK_BYTES", 3 * 9 * 8 * 7)  # 7 rows a chunk: 50 is no multiple
    got = primitives.sqeuclidean_distances(xp.asarray(X), xp.asarray(Y), xp=xp.xp)
    _close(xp, got, want, rtol=1e-7 if xp.float64 else 1e-3)
    same = primitives.sqeuclidean_distances(xp.asarray(X), xp.asarray(X), xp=xp.xp)
    assert float(xp.xp.min(same)) >= 0.0  # clipped: no negative rounding error


def test_sqeuclidean_distances_shape_error(xp):
    with pytest.raises(ValueError, match=r"X \(n, d\) and Y \(m, d\)"):
        primitives.sqeuclidean_distances(xp.asarray(np.ones((2, 3))), xp.asarray(np.ones((2, 4))), xp=xp.xp)


def test_gram(xp, rng):
    X = rng.normal(size=(40, 6))
    _close(xp, primitives.gram(xp.asarray(X), xp=xp.xp), X.T @ X, rtol=1e-9 if xp.float64 else 1e-4)


def test_gram_row_split_threads(rng, monkeypatch):
    from toolbox.backends import _threaded

    monkeypatch.setattr(_threaded, "MIN_WORK", 0)
    monkeypatch.setattr(_threaded, "blas_threads", lambda: 3)
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        X = rng.normal(size=(301, 5)).astype(dtype)
        X0 = X.copy()
        G = _threaded.gram(X, xp=np)
        assert G.dtype == dtype and G.shape == (5, 5)
        np.testing.assert_allclose(G, X.astype(np.float64).T @ X.astype(np.float64), rtol=rtol, atol=rtol)
        np.testing.assert_array_equal(X, X0)
    assert _threaded.blas_threads.__name__ == "<lambda>"  # the split path was taken (not a plain call)


def test_gram_and_column_sums_one_pass_matches_separate(rng, monkeypatch):
    from toolbox.backends import _threaded

    for threads in (1, 3):
        monkeypatch.setattr(_threaded, "MIN_WORK", 0)
        monkeypatch.setattr(_threaded, "SUMS_STEP_BYTES", 64)  # several steps per block
        monkeypatch.setattr(_threaded, "blas_threads", lambda threads=threads: threads)
        for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
            X = (rng.normal(size=(301, 5)) + 3.0).astype(dtype)
            X0 = X.copy()
            Y = rng.normal(size=(301, 2)).astype(dtype)
            G, s, none = _threaded.gram_and_column_sums(X, xp=np)
            assert G.dtype == s.dtype == dtype and G.shape == (5, 5) and s.shape == (5,) and none is None
            X64 = X.astype(np.float64)
            np.testing.assert_allclose(G, X64.T @ X64, rtol=rtol, atol=rtol)
            np.testing.assert_allclose(s, X64.sum(axis=0), rtol=rtol)
            for target in (Y, Y[:, 0]):  # the cross-product with a target, in the same pass
                G2, s2, C = _threaded.gram_and_column_sums(X, xp=np, Y=target)
                np.testing.assert_array_equal(G2, G)
                np.testing.assert_array_equal(s2, s)
                assert C.dtype == dtype and C.shape == (5, *target.shape[1:])
                np.testing.assert_allclose(C, X64.T @ target.astype(np.float64), rtol=rtol, atol=rtol)
            np.testing.assert_array_equal(X, X0)
    # centered_gram takes it for NumPy arrays: the same statistics as the reference
    X = rng.normal(size=(400, 6)) * 5 + 100
    G, _, mean, _ = primitives.centered_gram(X, xp=np)
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(G, (X - X.mean(0)).T @ (X - X.mean(0)), rtol=1e-9)


@pytest.mark.parametrize("offset", [0.0, 1e7])  # 1e7: the rank-one correction would cancel; exact fallback
@pytest.mark.parametrize("ydim", [None, 1, 2])
def test_centered_gram(xp, rng, offset, ydim):
    n, d = 300, 5
    X = rng.normal(size=(n, d)) * np.arange(1, d + 1) + offset
    X[:, 2] = 3.0 if offset == 0.0 else X[:, 2]  # a constant column also takes the exact path
    Y = None if ydim is None else rng.normal(size=(n,) if ydim == 1 else (n, ydim)) + offset
    dtype = xp.float_dtype
    Xb = xp.xp.astype(xp.asarray(X), dtype)
    Yb = None if Y is None else xp.xp.astype(xp.asarray(Y), dtype)
    X = xp.to_numpy(Xb).astype(np.float64)  # the reference sees the values the backend holds
    Y = None if Y is None else xp.to_numpy(Yb).astype(np.float64)
    Xc = X - X.mean(axis=0)
    G, C, xm, ym = primitives.centered_gram(Xb, Yb, xp=xp.xp)
    scale = np.abs(Xc.T @ Xc).max()
    rtol = 1e-9 if xp.float64 else 1e-4
    np.testing.assert_allclose(xp.to_numpy(G), Xc.T @ Xc, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(xp.to_numpy(xm), X.mean(axis=0), rtol=1e-12 if xp.float64 else 1e-6)
    if Y is None:
        assert C is None and ym is None
    else:
        want = Xc.T @ (Y - Y.mean(axis=0))
        assert tuple(C.shape) == want.shape
        np.testing.assert_allclose(xp.to_numpy(C), want, rtol=rtol, atol=rtol * np.abs(want).max() * 10)
        np.testing.assert_allclose(xp.to_numpy(ym), Y.mean(axis=0), rtol=1e-12 if xp.float64 else 1e-6)


def test_centered_gram_shape_errors(xp):
    with pytest.raises(ValueError, match="centered_gram needs X"):
        primitives.centered_gram(xp.asarray(np.ones(3)), xp=xp.xp)
    with pytest.raises(ValueError, match="centered_gram needs Y"):
        primitives.centered_gram(xp.asarray(np.ones((3, 2))), xp.asarray(np.ones(4)), xp=xp.xp)


# --------------------------------------------------------------------------- solve_spd


@pytest.mark.parametrize("k", [None, 3])
def test_solve_spd(xp, rng, k):
    M = rng.normal(size=(30, 6))
    A = M.T @ M + 0.5 * np.eye(6)
    B = rng.normal(size=(6,) if k is None else (6, k))
    got = primitives.solve_spd(xp.asarray(A), xp.asarray(B), xp=xp.xp)
    assert tuple(got.shape) == B.shape
    _close(xp, got, np.linalg.solve(A, B), rtol=1e-8 if xp.float64 else 1e-3)


def test_solve_spd_singular_falls_back_with_warning(xp, rng):
    M = rng.normal(size=(30, 3))
    M = np.hstack([M, M[:, :1]])  # a repeated column: A is singular
    A = M.T @ M
    b = M.T @ rng.normal(size=30)
    with pytest.warns(IllConditionedWarning, match="ill-conditioned"):
        got = primitives.solve_spd(xp.asarray(A), xp.asarray(b), xp=xp.xp)
    want = np.linalg.pinv(A) @ b  # the minimum-norm solution
    np.testing.assert_allclose(xp.to_numpy(got), want, rtol=1e-6 if xp.float64 else 1e-2, atol=1e-6)


def test_generic_cholesky_solve_matches(xp, rng):
    M = rng.normal(size=(20, 4))
    A = M.T @ M + np.eye(4)
    b = rng.normal(size=(4, 2))
    L = primitives.GENERIC["cholesky"](xp.asarray(A), xp=xp.xp)
    got = primitives.GENERIC["cho_solve"](L, xp.asarray(b), xp=xp.xp)
    _close(xp, got, np.linalg.solve(A, b), rtol=1e-8 if xp.float64 else 1e-3)


# --------------------------------------------------------------------------- RNG


def test_generator_reproducible(xp):
    a, b = Generator(7, xp=xp.xp, device=xp.device), Generator(7, xp=xp.xp, device=xp.device)
    for method, args in [("random", ((5, 2),)), ("normal", ((4,),)), ("integers", (10, (6,))),
                         ("permutation", (9,))]:
        x, y = getattr(a, method)(*args), getattr(b, method)(*args)
        np.testing.assert_array_equal(xp.to_numpy(x), xp.to_numpy(y))
    c = Generator(8, xp=xp.xp, device=xp.device)
    assert not np.array_equal(xp.to_numpy(Generator(7, xp=xp.xp, device=xp.device).random((5,))),
                              xp.to_numpy(c.random((5,))))


def test_generator_values(xp):
    g = Generator(0, xp=xp.xp, device=xp.device)
    u = xp.to_numpy(g.random((2000,)))
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.05
    z = xp.to_numpy(g.normal((2000,)))
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.1
    i = xp.to_numpy(g.integers(5, (500,)))
    assert set(np.unique(i)) == {0, 1, 2, 3, 4}
    p = xp.to_numpy(g.permutation(50))
    np.testing.assert_array_equal(np.sort(p), np.arange(50))
    # a stream advances: two draws differ
    assert not np.array_equal(xp.to_numpy(g.random((5,))), xp.to_numpy(g.random((5,))))


def test_generator_default_dtype_and_device(xp):
    g = Generator(0, xp=xp.xp, device=xp.device)
    x = g.random((3,))
    info = xp.xp.__array_namespace_info__()
    assert x.dtype == info.default_dtypes(device=xp.device)["real floating"]
    assert g.random((3,), dtype=xp.xp.float32).dtype == xp.xp.float32


def test_check_random_state():
    from toolbox.backends import check_random_state

    assert check_random_state(3) == 3
    assert isinstance(check_random_state(None), int)
    assert check_random_state(np.random.RandomState(0)) == check_random_state(np.random.RandomState(0))
    with pytest.raises(ValueError, match="random_state must be"):
        check_random_state("seed")


# --------------------------------------------------------------------------- jit


def test_jit_hook(xp):
    calls = []

    @jit(static_argnames=("power",))
    def f(x, *, power, xp):
        calls.append(1)  # runs once per trace on JAX, every call elsewhere
        return xp.sum(x**power)

    x = xp.asarray(np.arange(4.0))
    assert float(f(x, power=2, xp=xp.xp)) == 14.0
    assert float(f(x, power=2, xp=xp.xp)) == 14.0
    if xp.name == "jax":
        assert len(calls) == 1  # compiled once, then reused
    else:
        assert len(calls) == 2


def test_native_paths_registered():
    kinds = primitives.native_kinds("segment_sum")
    assert {"numpy", "numba", "torch", "jax"} <= set(kinds)
    assert "torch" in primitives.native_kinds("smallest_k")


# --------------------------------------------------------------------------- column / segment statistics


@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_column_mean_var(xp, rng, offset):
    X = rng.normal(size=(2500, 7)) * np.arange(1, 8) + offset
    Xb = xp.xp.astype(xp.asarray(X), xp.float_dtype)
    X = xp.to_numpy(Xb).astype(np.float64)
    X0 = X.copy()
    mean, var = primitives.column_mean_var(Xb, xp=xp.xp)
    assert mean.dtype == Xb.dtype and var.dtype == Xb.dtype and tuple(var.shape) == (7,)
    rtol = 1e-10 if xp.float64 else 1e-5
    np.testing.assert_allclose(xp.to_numpy(mean), X.mean(axis=0), rtol=rtol)
    np.testing.assert_allclose(xp.to_numpy(var), X.var(axis=0), rtol=100 * rtol)
    np.testing.assert_array_equal(xp.to_numpy(Xb), X0)


def test_column_min_max(xp, rng):
    X = rng.normal(size=(3000, 5)).astype(np.float64 if xp.float64 else np.float32)
    mn, mx = primitives.column_min_max(xp.asarray(X), xp=xp.xp)
    np.testing.assert_array_equal(xp.to_numpy(mn), X.min(axis=0))
    np.testing.assert_array_equal(xp.to_numpy(mx), X.max(axis=0))
    if xp.name not in ("numpy", "numba"):
        return  # NaN handling is each library's own (XLA's CPU min ignores NaN)
    X[1234, 2] = np.nan  # the numba kernel propagates NaN, as NumPy does
    X[0, 4] = np.inf
    mn, mx = primitives.column_min_max(xp.asarray(X), xp=xp.xp)
    np.testing.assert_array_equal(xp.to_numpy(mn), X.min(axis=0))
    np.testing.assert_array_equal(xp.to_numpy(mx), X.max(axis=0))


@pytest.mark.parametrize("steps", [("sub", "div"), ("mul", "add"), ("sub", "div", "mul", "add"), ()])
def test_columnwise_affine(xp, rng, steps):
    dt = np.float64 if xp.float64 else np.float32
    X = rng.normal(size=(1500, 4)).astype(dt)
    vecs = {k: rng.uniform(0.5, 2.0, size=4).astype(dt) for k in steps}
    Xb = xp.asarray(X)
    out = primitives.columnwise_affine(Xb, **{k: xp.asarray(v) for k, v in vecs.items()}, xp=xp.xp)
    want = X.copy()
    for k in ("sub", "div", "mul", "add"):
        if k in vecs:
            want = {"sub": want - vecs[k], "div": want / vecs[k], "mul": want * vecs[k],
                    "add": want + vecs[k]}[k]
    if xp.name == "jax":  # XLA may fuse the steps (one rounding fewer)
        np.testing.assert_allclose(xp.to_numpy(out), want, rtol=4 * np.finfo(dt).eps, atol=4 * np.finfo(dt).eps)
    else:
        np.testing.assert_array_equal(xp.to_numpy(out), want)  # same rounding as the separate operations
    np.testing.assert_array_equal(xp.to_numpy(Xb), X)  # a new array; the input is untouched


def test_segment_mean_var(xp, rng):
    ids = rng.integers(0, 5, size=4000)
    ids[ids == 3] = 4  # segment 3 is empty
    X = rng.normal(size=(4000, 6)) + ids[:, None]
    Xb = xp.xp.astype(xp.asarray(X), xp.float_dtype)
    X = xp.to_numpy(Xb).astype(np.float64)
    counts, mean, var = primitives.segment_mean_var(Xb, xp.asarray(ids), 5, xp=xp.xp)
    want_n = np.bincount(ids, minlength=5)
    rtol = 1e-10 if xp.float64 else 1e-5
    np.testing.assert_allclose(xp.to_numpy(counts), want_n)
    for s in range(5):
        rows = X[ids == s]
        np.testing.assert_allclose(xp.to_numpy(mean)[s], rows.mean(axis=0) if len(rows) else 0.0, rtol=rtol,
                                   atol=rtol)
        np.testing.assert_allclose(xp.to_numpy(var)[s], rows.var(axis=0) if len(rows) else 0.0, rtol=rtol,
                                   atol=rtol)


def test_statistics_native_paths_registered():
    for name in ("column_mean_var", "column_min_max", "columnwise_affine", "segment_mean_var"):
        assert "numba" in primitives.native_kinds(name)
    assert "numpy" in primitives.native_kinds("gram")


def test_numba_statistics_parts_do_not_depend_on_threads(rng, monkeypatch):
    """Several parts of rows, on 1 and 3 threads: identical results, equal to NumPy's."""
    pytest.importorskip("numba")
    from toolbox.backends import _threaded
    from toolbox.backends.native import _numba_stats as S

    monkeypatch.setattr(S, "PART_ROWS", 100)
    X = rng.normal(size=(1037, 6)) * 3.0 + 5.0
    ids = rng.integers(0, 4, size=1037)
    results = []
    for threads in (1, 3):
        monkeypatch.setattr(_threaded, "worker_threads", lambda threads=threads: threads)
        results.append((S.column_mean_var(X, xp=np), S.column_min_max(X, xp=np),
                        S.segment_mean_var(X, ids, 4, xp=np),
                        S.columnwise_affine(X, X.mean(0), X.std(0), None, None, xp=np)))
    for a, b in zip(*results):
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            np.testing.assert_array_equal(u, v)
    (mean, var), (mn, mx), (cnt, smean, svar), out = results[0]
    np.testing.assert_allclose(smean[2], X[ids == 2].mean(0), rtol=1e-12)
    np.testing.assert_allclose(mean, X.mean(0), rtol=1e-12)
    np.testing.assert_allclose(var, X.var(0), rtol=1e-12)
    np.testing.assert_array_equal(mn, X.min(0))
    np.testing.assert_array_equal(mx, X.max(0))
    np.testing.assert_array_equal(cnt, np.bincount(ids, minlength=4))
    np.testing.assert_allclose(svar[2], X[ids == 2].var(0), rtol=1e-12)
    np.testing.assert_array_equal(out, (X - X.mean(0)) / X.std(0))


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_cpu_arrays_take_the_host_kernels_and_stay_in_their_library(rng, backend):
    """torch / JAX arrays in CPU memory run the NumPy path's kernels in place; results keep their library."""
    mod = pytest.importorskip(backend)
    import toolbox as tb
    from toolbox.backends import framework_of
    from toolbox.testing import BACKEND_PARAMS, activated

    X = rng.normal(size=(500, 4))
    ids = rng.integers(0, 3, size=500)
    param = next(p for p in BACKEND_PARAMS if p.id == f"{backend}-cpu")  # float64 on JAX
    with activated(param):
        Xb, idb = tb.to_backend(X, backend), tb.to_backend(ids, backend)
        xp = framework_of(Xb).xp
        G = primitives.gram(Xb, xp=xp)
        mean, var = primitives.column_mean_var(Xb, xp=xp)
        counts, smean, svar = primitives.segment_mean_var(Xb, idb, 3, xp=xp)
        mn, mx = primitives.column_min_max(Xb, xp=xp)
    for out in (G, mean, var, counts, smean, svar, mn, mx):
        assert framework_of(out) is framework_of(Xb), type(out)
    np.testing.assert_allclose(np.asarray(tb.to_backend(G, "numpy")), X.T @ X, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(tb.to_backend(var, "numpy")), X.var(0), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(tb.to_backend(svar, "numpy"))[1], X[ids == 1].var(0), rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(tb.to_backend(mx, "numpy")), X.max(0))
    if backend == "torch":
        out = primitives.columnwise_affine(Xb, sub=mean, div=var, xp=xp)
        assert isinstance(out, mod.Tensor) and out.device.type == "cpu"
        np.testing.assert_array_equal(out.numpy(), (X - mean.numpy()) / var.numpy())
