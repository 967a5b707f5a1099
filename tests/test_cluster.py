"""KMeans against scikit-learn on every backend, plus scikit-learn's conformance suite."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn.cluster import KMeans as SkKMeans
from sklearn.utils.estimator_checks import parametrize_with_checks

import toolbox as tb
from toolbox.backends import framework_of
from toolbox.cluster import KMeans
from toolbox.exceptions import ConvergenceWarning


def _blobs():
    X, _ = datasets.make_blobs(600, 6, centers=5, cluster_std=2.0, random_state=0)
    return X


DATASETS = {
    "iris": (lambda: datasets.load_iris().data, 3),
    "digits": (lambda: datasets.load_digits().data[:400], 10),
    "blobs": (_blobs, 5),
}


def _np_dtype(xp):
    return np.float64 if xp.float64 else np.float32


def _init_rows(X, k, seed=0):
    return X[np.random.default_rng(seed).choice(X.shape[0], k, replace=False)].copy()


def _close(xp, got, want, rtol=None):
    rtol = xp.rtol() if rtol is None else rtol
    want = np.asarray(want)
    np.testing.assert_allclose(xp.to_numpy(got), want, rtol=rtol, atol=rtol * max(1.0, np.abs(want).max()))


@pytest.mark.parametrize("data", DATASETS)
def test_same_init_matches_sklearn(xp, data):
    load, k = DATASETS[data]
    X = load().astype(_np_dtype(xp))  # scikit-learn runs in the backend's dtype too
    init = _init_rows(X, k)
    ref = SkKMeans(k, init=init, n_init=1).fit(X)
    Xb = xp.asarray(X)
    km = KMeans(k, init=xp.asarray(init), n_init=1).fit(Xb)
    assert framework_of(km.cluster_centers_) is framework_of(Xb)
    assert km.cluster_centers_.dtype == Xb.dtype
    labels = xp.to_numpy(km.labels_)
    assert labels.dtype == np.int32
    # Identical initial centres: Lloyd's iterations are deterministic, so the
    # labels agree exactly (in float32, a point on a boundary may flip).
    if xp.float64:
        np.testing.assert_array_equal(labels, ref.labels_)
        assert km.n_iter_ == ref.n_iter_
    else:
        assert (labels == ref.labels_).mean() > 0.99
    _close(xp, km.cluster_centers_, ref.cluster_centers_, rtol=None if xp.float64 else 1e-3)
    np.testing.assert_allclose(km.inertia_, ref.inertia_, rtol=1e-9 if xp.float64 else 1e-3)


@pytest.mark.parametrize("data", ["iris", "blobs"])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_seeded_inertia_close_to_sklearn(xp, data, init):
    # Random streams differ from scikit-learn's, so compare the quality of the
    # optimum reached (inertia) rather than the labels.
    load, k = DATASETS[data]
    X = load()
    ref = SkKMeans(k, init=init, n_init=3, random_state=0).fit(X)
    km = KMeans(k, init=init, n_init=3, random_state=0).fit(xp.asarray(X))
    assert km.inertia_ <= ref.inertia_ * 1.03
    assert xp.to_numpy(km.cluster_centers_).shape == (k, X.shape[1])
    # the same seed gives the same result on the same backend
    again = KMeans(k, init=init, n_init=3, random_state=0).fit(xp.asarray(X))
    np.testing.assert_array_equal(xp.to_numpy(again.labels_), xp.to_numpy(km.labels_))


def test_predict_transform_score_mirror_input(xp):
    X = _blobs().astype(_np_dtype(xp))
    init = _init_rows(X, 5, seed=1)
    ref = SkKMeans(5, init=init, n_init=1).fit(X)
    Xb = xp.asarray(X)
    km = KMeans(5, init=init, n_init=1)
    fp = km.fit_predict(Xb)
    X_new = np.random.default_rng(2).normal(0, 8, size=(50, 6)).astype(X.dtype)
    Xn = xp.asarray(X_new)
    outputs = {
        "fit_predict": fp,
        "predict": km.predict(Xn),
        "transform": km.transform(Xn),
        "fit_transform": KMeans(5, init=init, n_init=1).fit_transform(Xb),
    }
    for name, out in outputs.items():
        assert framework_of(out) is framework_of(Xb), name
    np.testing.assert_array_equal(xp.to_numpy(fp), ref.labels_)
    np.testing.assert_array_equal(xp.to_numpy(outputs["predict"]), ref.predict(X_new))
    assert xp.to_numpy(outputs["predict"]).dtype == np.int32
    rtol = None if xp.float64 else 1e-3
    _close(xp, outputs["transform"], ref.transform(X_new), rtol=rtol)
    _close(xp, outputs["fit_transform"], ref.transform(X), rtol=rtol)
    assert outputs["transform"].dtype == Xb.dtype
    np.testing.assert_allclose(km.score(Xn), ref.score(X_new), rtol=1e-9 if xp.float64 else 1e-3)


def test_sample_weight_matches_sklearn(xp):
    X = _blobs()
    w = np.random.default_rng(3).uniform(0.1, 3.0, X.shape[0])
    init = _init_rows(X, 5, seed=4)
    ref = SkKMeans(5, init=init, n_init=1).fit(X, sample_weight=w)
    km = KMeans(5, init=init, n_init=1).fit(xp.asarray(X), sample_weight=xp.asarray(w))
    rtol = 1e-9 if xp.float64 else 1e-3
    np.testing.assert_allclose(km.inertia_, ref.inertia_, rtol=rtol)
    _close(xp, km.cluster_centers_, ref.cluster_centers_, rtol=None if xp.float64 else 1e-3)
    # host weights may accompany data on any backend
    km2 = KMeans(5, init=init, n_init=1).fit(xp.asarray(X), sample_weight=w)
    np.testing.assert_allclose(km2.inertia_, km.inertia_, rtol=rtol)
    np.testing.assert_allclose(km.score(xp.asarray(X), sample_weight=w), ref.score(X, sample_weight=w), rtol=rtol)


def test_empty_cluster_is_relocated_as_sklearn(xp):
    X = _blobs()
    init = np.vstack([_init_rows(X, 4, seed=5), np.full((1, 6), 1e3)])  # the last centre attracts nobody
    ref = SkKMeans(5, init=init, n_init=1).fit(X)
    km = KMeans(5, init=init, n_init=1).fit(xp.asarray(X))
    assert len(np.unique(xp.to_numpy(km.labels_))) == 5
    np.testing.assert_allclose(km.inertia_, ref.inertia_, rtol=1e-9 if xp.float64 else 1e-3)
    if xp.float64:
        np.testing.assert_array_equal(xp.to_numpy(km.labels_), ref.labels_)


def test_options_giving_the_same_result(xp):
    X = datasets.load_iris().data
    init = _init_rows(X, 3)
    base = KMeans(3, init=init, n_init=1).fit(xp.asarray(X))
    for params in ({"algorithm": "elkan"}, {"copy_x": False}, {"tol": 0.0}):
        other = KMeans(3, init=init, n_init=1, **params).fit(xp.asarray(X))
        np.testing.assert_array_equal(xp.to_numpy(other.labels_), xp.to_numpy(base.labels_))
        np.testing.assert_allclose(other.inertia_, base.inertia_, rtol=1e-6)


def test_float32_is_preserved(xp):
    X = datasets.load_iris().data.astype(np.float32)
    Xb = xp.asarray(X)
    km = KMeans(3, random_state=0).fit(Xb)
    assert km.cluster_centers_.dtype == xp.xp.float32
    assert km.transform(Xb).dtype == xp.xp.float32


def test_input_not_modified(xp):
    X = datasets.load_iris().data.astype(_np_dtype(xp))
    Xb = xp.asarray(X)
    init = _init_rows(X, 3)
    init_b = xp.asarray(init)
    KMeans(3, init=init_b, n_init=1).fit(Xb)
    KMeans(3, random_state=0, copy_x=False).fit(Xb)
    np.testing.assert_array_equal(xp.to_numpy(Xb), X)
    np.testing.assert_array_equal(xp.to_numpy(init_b), init)


def _numba_kernels():
    pytest.importorskip("numba")
    from toolbox.cluster import _kmeans_numba

    return _kmeans_numba


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("copy_x", [True, False])
def test_numba_path_matches_generic_path(dtype, weighted, copy_x):
    # The fused numba kernels and the Array API path (explicit "numpy" backend)
    # run the same iterations: same labels, iterations, centres and inertia.
    _numba_kernels()
    X = _blobs().astype(dtype)
    w = np.random.default_rng(6).uniform(0.1, 3.0, X.shape[0]).astype(dtype) if weighted else None
    init = _init_rows(X, 5, seed=7)
    fits = {}
    for backend in ("numba", "numpy"):
        with tb.use_backend(backend):
            fits[backend] = KMeans(5, init=init, n_init=1, copy_x=copy_x).fit(X, sample_weight=w)
    fast, generic = fits["numba"], fits["numpy"]
    np.testing.assert_array_equal(fast.labels_, generic.labels_)
    assert fast.labels_.dtype == np.int32
    assert fast.n_iter_ == generic.n_iter_
    assert fast.cluster_centers_.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(fast.cluster_centers_, generic.cluster_centers_, rtol=rtol,
                               atol=rtol * np.abs(X).max())
    np.testing.assert_allclose(fast.inertia_, generic.inertia_, rtol=rtol)
    with tb.use_backend("numba"):
        np.testing.assert_array_equal(fast.predict(X[:50]), generic.predict(X[:50]))
        np.testing.assert_allclose(fast.score(X, sample_weight=w), generic.score(X, sample_weight=w), rtol=rtol)


def test_numba_parts_and_threads_match_sklearn(monkeypatch):
    from toolbox.backends import _threaded

    # Several parts of rows, run on 1 and on 3 threads: the partial sums are
    # per part and added in part order, so the thread count changes nothing.
    K = _numba_kernels()
    X, _ = datasets.make_blobs(3 * K.PART_ROWS + 123, 4, centers=6, random_state=1)
    X = np.asfortranarray(X)  # any layout: the kernels read rows block by block
    init = _init_rows(X, 6, seed=9)
    ref = SkKMeans(6, init=init, n_init=1).fit(X)
    fits = []
    for threads in (1, 3):
        monkeypatch.setattr(_threaded, "worker_threads", lambda threads=threads: threads)
        with tb.use_backend("numba"):
            fits.append(KMeans(6, init=init, n_init=1).fit(X))
    one, three = fits
    np.testing.assert_array_equal(one.labels_, ref.labels_)
    assert one.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(one.inertia_, ref.inertia_, rtol=1e-9)
    np.testing.assert_allclose(one.cluster_centers_, ref.cluster_centers_, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(three.labels_, one.labels_)
    np.testing.assert_array_equal(three.cluster_centers_, one.cluster_centers_)
    assert three.inertia_ == one.inertia_


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numba_kernels_match_numpy(dtype):
    K = _numba_kernels()
    rng = np.random.default_rng(10)
    n, d, k = 1000, 7, 4
    X = np.asfortranarray(rng.normal(size=(n, d))).astype(dtype)
    X_before = X.copy()
    w = rng.uniform(0.5, 2.0, n).astype(dtype)
    C = rng.normal(size=(k, d)).astype(dtype)
    offset = X.mean(axis=0)
    Xc = (X - offset).astype(np.float64)
    want = np.argmin(((Xc[:, None, :] - C[None, :, :]) ** 2).sum(axis=-1), axis=1)
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    labels, sums, wsum, n_changed, sum_sq = K.lloyd_iter(X, w, C, np.full(n, -1, np.int32), offset,
                                                         with_sum_sq=True)
    np.testing.assert_array_equal(labels, want)
    np.testing.assert_allclose(sum_sq, float((Xc ** 2).sum()), rtol=rtol)
    assert labels.dtype == np.int32 and sums.dtype == dtype and wsum.dtype == dtype
    assert n_changed == n
    np.testing.assert_allclose(sums, [(Xc[want == j] * w[want == j, None]).sum(axis=0) for j in range(k)],
                               rtol=rtol, atol=rtol * n)
    np.testing.assert_allclose(wsum, np.bincount(want, w, k), rtol=rtol)
    again = K.lloyd_iter(X, w, C, labels, offset)
    assert again[3] == 0 and again[4] is None
    np.testing.assert_array_equal(K.assign(X, C, offset), want)
    expect = float((w * ((Xc - C[want]) ** 2).sum(axis=1)).sum())
    lab, inertia = K.assign_inertia(X, w, C, offset)
    np.testing.assert_array_equal(lab, want)
    np.testing.assert_allclose(inertia, expect, rtol=rtol)
    np.testing.assert_allclose(K.inertia(X, w, C, labels, offset), expect, rtol=rtol)
    np.testing.assert_allclose(K.inertia(X, None, C, labels, offset),
                               float(((Xc - C[want]) ** 2).sum()), rtol=rtol)
    np.testing.assert_array_equal(X, X_before)


def test_numba_blas_limit_is_restored():
    # The kernels' single-threaded BLAS limit is process-wide: set by the first
    # (nested or concurrent) user, restored by the last.
    K = _numba_kernels()
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with K.blas_one_thread():
        with K.blas_one_thread():
            assert set(blas_threads()) <= {1}
        assert set(blas_threads()) <= {1}
    assert blas_threads() == before


def test_bad_input_errors():
    X = datasets.load_iris().data[:10]
    with pytest.raises(ValueError, match=r"n_samples=10 should be >= n_clusters=11"):
        KMeans(11).fit(X)
    with pytest.raises(ValueError, match=r"'n_clusters' parameter of KMeans must be an int >= 1; got 0"):
        KMeans(0).fit(X)
    with pytest.raises(ValueError, match=r"initial centers \(2, 4\) does not match the number of clusters 3"):
        KMeans(3, init=X[:2]).fit(X)
    with pytest.raises(ValueError, match=r"initial centers \(3, 2\) does not match the number of features of the data 4"):
        KMeans(3, init=X[:3, :2]).fit(X)
    with pytest.raises(ValueError, match=r"'init' parameter of KMeans must be 'k-means\+\+', 'random'"):
        KMeans(3, init="kmeans").fit(X)
    with pytest.raises(ValueError, match=r"'n_init' parameter of KMeans must be 'auto' or an int >= 1"):
        KMeans(3, n_init=0).fit(X)
    with pytest.raises(ValueError, match=r"'algorithm' parameter of KMeans must be 'lloyd' or 'elkan'"):
        KMeans(3, algorithm="full").fit(X)
    with pytest.raises(ValueError, match=r"sample_weight sums to zero"):
        KMeans(3).fit(X, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match=r"X has 3 features, but KMeans is expecting 4"):
        KMeans(3, random_state=0).fit(X).predict(X[:, :3])


def test_warnings():
    X = datasets.load_iris().data
    with pytest.warns(RuntimeWarning, match="performing only one init in KMeans instead of n_init=5"):
        KMeans(3, init=X[:3], n_init=5).fit(X)
    X_dup = np.repeat(X[:2], 10, axis=0)
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(2\) found smaller than n_clusters \(3\)"):
        KMeans(3, random_state=0).fit(X_dup)


def test_callable_init_and_feature_names():
    pd = pytest.importorskip("pandas")
    X = datasets.load_iris().data
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    # (a copy: scikit-learn writes into the array the callable returns)
    km = KMeans(3, init=lambda X, k, random_state: X[:k, :], n_init=1).fit(df)
    ref = SkKMeans(3, init=lambda X, k, random_state: X[:k, :].copy(), n_init=1).fit(X)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    assert list(km.get_feature_names_out()) == ["kmeans0", "kmeans1", "kmeans2"]


def test_fitted_on_numpy_used_on_torch():
    torch = pytest.importorskip("torch")
    X = _blobs()
    km = KMeans(5, random_state=0).fit(X)
    Xt = torch.asarray(X)
    labels = km.predict(Xt)
    assert isinstance(labels, torch.Tensor)
    np.testing.assert_array_equal(labels.numpy(), km.labels_)
    km.to_backend("torch")
    assert isinstance(km.cluster_centers_, torch.Tensor)
    np.testing.assert_allclose(km.transform(X), KMeans(5, random_state=0).fit(X).transform(X))


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_cpu_tensors_take_the_numba_passes_and_match_sklearn(framework):
    # torch / JAX arrays in CPU memory: Lloyd's passes run on host views (numba), results in the framework
    pytest.importorskip("numba")
    X = _blobs()
    init = X[:5].copy()
    ref = SkKMeans(5, n_init=1, init=init).fit(X)
    if framework == "torch":
        torch = pytest.importorskip("torch")
        conv, to_np = torch.asarray, lambda a: a.numpy()
    else:
        jnp = pytest.importorskip("jax.numpy")
        import jax

        conv, to_np = jnp.asarray, np.asarray
        x64 = bool(jax.config.jax_enable_x64)
        jax.config.update("jax_enable_x64", True)
    try:
        with tb.use_backend(framework):
            km = KMeans(5, n_init=1, init=conv(init)).fit(conv(X))
        assert framework_of(km.labels_).name == framework
        assert framework_of(km.cluster_centers_).name == framework
        np.testing.assert_array_equal(to_np(km.labels_), ref.labels_)
        np.testing.assert_allclose(to_np(km.cluster_centers_), ref.cluster_centers_, rtol=1e-10)
        np.testing.assert_allclose(km.inertia_, ref.inertia_, rtol=1e-10)
        assert km.n_iter_ == ref.n_iter_
    finally:
        if framework == "jax":
            jax.config.update("jax_enable_x64", x64)


@pytest.mark.parametrize("threads", [1, 3])
def test_numba_column_stats_match_numpy_bits(threads, monkeypatch):
    pytest.importorskip("numba")
    from toolbox.backends import _threaded
    from toolbox.cluster import _kmeans_numba

    monkeypatch.setattr(_threaded, "worker_threads", lambda: threads)
    monkeypatch.setattr(_kmeans_numba, "_STATS_MIN_COLUMNS", 2)
    monkeypatch.setattr(_kmeans_numba, "_STATS_MIN_WORK", 1)
    rng = np.random.default_rng(3)
    for dtype in (np.float64, np.float32):
        X = (rng.normal(size=(5003, 7)) * 1e3 + 5).astype(dtype)
        X[17, 2], X[4000, 6] = -1e9, 1e9  # extremes inside the second and third column ranges
        mean, mn, mx = _kmeans_numba.column_stats(X)
        np.testing.assert_array_equal(mean, X.mean(axis=0))
        np.testing.assert_array_equal(mn, X.min(axis=0))
        np.testing.assert_array_equal(mx, X.max(axis=0))
        assert _kmeans_numba.column_stats(np.asfortranarray(X)) is None  # NumPy then computes them
        assert _kmeans_numba.column_stats(X[:, :1]) is None
    X[10, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        KMeans(3, n_init=1, random_state=0).fit(X)


def test_torch_cuda_stays_on_device():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    X = torch.asarray(_blobs(), device="cuda")
    km = KMeans(5, random_state=0).fit(X)
    assert km.cluster_centers_.device == X.device
    assert km.predict(X).device == X.device


@parametrize_with_checks(
    [KMeans(n_clusters=2, n_init=2, max_iter=5), KMeans(n_clusters=3, init="random", n_init=2)],
    expected_failed_checks=lambda est: {
        # scikit-learn marks the same check as an expected failure for its own KMeans:
        # weights enter the random seeding, so a weighted fit and a fit on repeated
        # rows draw different initial centres.
        "check_sample_weight_equivalence_on_dense_data": (
            "sample_weight is not equivalent to removing/repeating samples (seeding differs)."
        ),
        "check_sample_weight_equivalence_on_sparse_data": (
            "sample_weight is not equivalent to removing/repeating samples (seeding differs)."
        ),
    },
)
def test_sklearn_conformance(estimator, check):
    check(estimator)


@pytest.mark.parametrize(("init", "n_init"), [("k-means++", "auto"), ("random", "auto"), ("array", "auto"),
                                              ("random", 4), ("array", 3)])
def test_resolved_n_init_matches_sklearn(init, n_init):
    # scikit-learn keeps the number of initializations it ran as _n_init; some of its tests read it
    import warnings

    X = np.random.default_rng(0).random((60, 3))
    init = X[:4].copy() if init == "array" else init
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Explicit initial center position passed"
        ours = KMeans(4, init=init, n_init=n_init, random_state=0).fit(X)
        ref = SkKMeans(4, init=init, n_init=n_init, random_state=0).fit(X)
    assert ours._n_init == ref._n_init


@pytest.mark.parametrize("tol", [0.0, 1e-2])
def test_kmeans_verbose_prints_sklearn_progress(tol, capsys):
    X = np.random.default_rng(0).normal(size=(2000, 5))
    KMeans(4, init="random", n_init=1, tol=tol, verbose=1, random_state=0).fit(X)
    out = capsys.readouterr().out
    assert "Initialization complete" in out
    assert "Iteration 0, inertia" in out
    assert ("strict convergence" in out) if tol == 0 else ("within tolerance" in out or "strict" in out)
    KMeans(4, n_init=1, random_state=0).fit(X)
    assert capsys.readouterr().out == ""  # silent by default


def test_kmeans_elkan_single_cluster_warns():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.warns(RuntimeWarning, match="algorithm='elkan' doesn't make sense for a single cluster"):
        KMeans(1, algorithm="elkan", n_init=1).fit(X)


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("sparse", [False, True])
def test_numpy_kmeans_seeds_are_sklearns(init, sparse):
    """NumPy / SciPy data draw scikit-learn's stream: its seeds, hence its clustering, for the same seed."""
    import scipy.sparse as ss

    X, _ = datasets.make_blobs(n_samples=400, centers=5, random_state=0)
    X = np.abs(X)
    if sparse:
        X[X < 3] = 0
        X = ss.csr_matrix(X)
    w = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    for kwargs in ({"n_init": 1}, {"n_init": 3}):
        ours = KMeans(5, init=init, random_state=7, **kwargs).fit(X, sample_weight=w)
        theirs = SkKMeans(5, init=init, random_state=7, **kwargs).fit(X, sample_weight=w)
        np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)


def test_kmeans_callable_init_gets_sparse_x_and_centres_are_at_distance_zero():
    import scipy.sparse as ss

    X, _ = datasets.make_blobs(n_samples=100, centers=3, random_state=42)
    Xs = ss.csr_matrix(np.abs(X))
    seen = []

    def first_rows(data, k, random_state):
        seen.append(ss.issparse(data))
        return data[:k].toarray()

    KMeans(3, init=first_rows, n_init=1).fit(Xs)
    assert seen == [True]
    km = KMeans(3, random_state=42).fit(X)
    np.testing.assert_array_equal(np.diag(km.transform(km.cluster_centers_)), np.zeros(3))


def _bounds_cases():
    rng = np.random.default_rng(7)
    blobs, _ = datasets.make_blobs(3000, 6, centers=5, random_state=1)
    ties = np.repeat(np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, -1.0]]), 40, axis=0)
    return {
        "blobs": (blobs, 5, None),
        "uniform (rows near the boundaries)": (rng.uniform(size=(4000, 3)), 12, None),
        "exact ties between centres": (ties, 2, None),
        "float32, offset 1e6": ((rng.normal(size=(3000, 4)) + 1e6).astype(np.float32), 6, None),
        "weighted": (blobs, 5, rng.uniform(0.1, 3.0, size=3000)),
        "one feature, many clusters": (rng.normal(size=(5000, 1)), 40, None),
    }


@pytest.mark.parametrize("case", list(_bounds_cases()))
def test_lloyd_distance_bounds_give_the_labels_of_full_passes(case, monkeypatch):
    """Skipping rows whose nearest centre cannot have changed (Hamerly's bounds, with rounding margins)
    gives the labels, centres, inertia and iteration count of computing every distance, bit for bit."""
    pytest.importorskip("numba")
    from toolbox.cluster import _kmeans

    X, k, w = _bounds_cases()[case]
    fits = {}
    for bounds in (False, True):
        monkeypatch.setattr(_kmeans, "_BOUNDS", bounds)
        for init in ("k-means++", "random"):
            km = KMeans(k, init=init, n_init=1, random_state=3, tol=0.0, max_iter=60).fit(X, sample_weight=w)
            fits[bounds, init] = km
    for init in ("k-means++", "random"):
        a, b = fits[False, init], fits[True, init]
        np.testing.assert_array_equal(a.labels_, b.labels_)
        np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
        assert a.inertia_ == b.inertia_ and a.n_iter_ == b.n_iter_


def test_lloyd_distance_bounds_skip_most_rows_once_the_centres_settle():
    """The point of the bounds: on separated clusters most rows skip the product after a few passes."""
    pytest.importorskip("numba")
    from toolbox.cluster import _kmeans_numba

    X, _ = datasets.make_blobs(20000, 10, centers=6, random_state=0)
    off = X.mean(axis=0)
    C = X[:6] - off
    b = _kmeans_numba.Bounds(len(X))
    labels = np.full(len(X), -1, dtype=np.int32)
    for _ in range(8):
        labels, sums, wsum, _, _ = _kmeans_numba.lloyd_iter(X, None, C, labels, off, bounds=b)
        C = sums / wsum[:, None]
    # the rows the next pass skips: the kernel's test, recomputed here
    err, growth = _kmeans_numba._rounding_terms(X)
    shift = np.sqrt(((C - b.centers) ** 2).sum(axis=1)) * growth
    upper = (b.upper + shift[labels]) * growth
    lower = (b.lower - shift.max()) / growth
    e = err * (b.xnorm + np.sqrt((C ** 2).sum(axis=1)).max() * growth) ** 2
    skipped = (lower > 0) & (upper * upper * growth + 2 * e < lower * lower / growth)
    assert skipped.mean() > 0.5
    ref = _kmeans_numba.lloyd_iter(X, None, C, labels, off)  # a full pass from the same centres
    out = _kmeans_numba.lloyd_iter(X, None, C, labels, off, bounds=b)
    for x, y in zip(ref[:4], out[:4]):
        np.testing.assert_array_equal(x, y)
