"""PCA and TruncatedSVD against scikit-learn on every backend, plus scikit-learn's conformance suite."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn.decomposition import PCA as SkPCA
from sklearn.decomposition import TruncatedSVD as SkTruncatedSVD
from sklearn.utils.estimator_checks import parametrize_with_checks

from toolbox.backends import framework_of
from toolbox.decomposition import PCA, TruncatedSVD
from toolbox.decomposition._pca import _infer_dimension
from toolbox.decomposition._truncated_svd import _orthonormal_basis


def _generated():
    # rank-5 signal plus noise, features on different scales and a large offset
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 20)) * 3.0 + rng.normal(size=(300, 20)) * 0.3
    return X * np.linspace(1.0, 4.0, 20) + 50.0


DATASETS = {
    "iris": lambda: datasets.load_iris().data,
    "wine": lambda: datasets.load_wine().data,
    "digits": lambda: datasets.load_digits().data,
    "generated": _generated,
}
# components compared: well separated eigenvalues (digits' tail is degenerate)
N_COMPONENTS = {"iris": 3, "wine": 4, "digits": 8, "generated": 5}


def _np_dtype(xp):
    return np.float64 if xp.float64 else np.float32


def _close(xp, got, want, rtol=None, scale=None):
    """Relative comparison, with an absolute floor scaled by the largest reference value."""
    rtol = xp.rtol() if rtol is None else rtol
    want = np.asarray(want, dtype=np.float64)
    scale = max(1.0, np.abs(want).max()) if scale is None else scale
    np.testing.assert_allclose(xp.to_numpy(got), want, rtol=rtol, atol=rtol * scale)


def _f32_rtol(xp, f64=None, f32=2e-3):
    # float32 SVD/eigh: errors grow with the condition of the spectrum (wine spans 6 decades)
    return (xp.rtol() if f64 is None else f64) if xp.float64 else f32


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
def test_exact_solvers_match_sklearn(xp, data, solver):
    X = DATASETS[data]()
    k = N_COMPONENTS[data]
    ref = SkPCA(k, svd_solver=solver).fit(X)
    Xb = xp.asarray(X)
    pca = PCA(k, svd_solver=solver).fit(Xb)
    assert framework_of(pca.components_) is framework_of(Xb)
    assert pca.n_components_ == k and pca.n_samples_ == X.shape[0]
    rtol = _f32_rtol(xp, f64=1e-7)
    _close(xp, pca.explained_variance_, ref.explained_variance_, rtol=rtol)
    _close(xp, pca.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=rtol)
    _close(xp, pca.singular_values_, ref.singular_values_, rtol=rtol)
    _close(xp, pca.mean_, ref.mean_)
    # the same sign convention (svd_flip, u_based_decision=False): compared directly
    _close(xp, pca.components_, ref.components_, rtol=_f32_rtol(xp, f64=1e-6, f32=2e-2), scale=1.0)
    np.testing.assert_allclose(pca.noise_variance_, ref.noise_variance_, rtol=1e-6 if xp.float64 else 1e-2)
    Xt = pca.transform(Xb)
    assert framework_of(Xt) is framework_of(Xb) and Xt.dtype == Xb.dtype
    want = ref.transform(X)
    _close(xp, Xt, want, rtol=_f32_rtol(xp, f64=1e-6, f32=2e-2), scale=np.abs(want).max())
    ft = PCA(k, svd_solver=solver).fit_transform(Xb)
    assert framework_of(ft) is framework_of(Xb)
    _close(xp, ft, want, rtol=_f32_rtol(xp, f64=1e-6, f32=2e-2), scale=np.abs(want).max())


@pytest.mark.parametrize("shape", [(200, 5), (60, 30), (30, 600), (600, 120)])
@pytest.mark.parametrize("n_components", [None, 3, 0.8])
def test_auto_chooses_the_sklearn_solver(shape, n_components):
    X = np.random.default_rng(1).normal(size=shape)
    ref = SkPCA(n_components).fit(X)
    pca = PCA(n_components).fit(X)
    assert pca._fit_svd_solver == ref._fit_svd_solver
    assert pca.n_components_ == ref.n_components_


def test_randomized_matches_exact(xp):
    # The random test matrices differ from scikit-learn's; the randomized
    # solver is compared with the exact answer, within its approximation error.
    X = datasets.load_digits().data.astype(_np_dtype(xp))
    ref = SkPCA(5, svd_solver="full").fit(X.astype(np.float64))
    Xb = xp.asarray(X)
    pca = PCA(5, svd_solver="randomized", random_state=0)
    ft = pca.fit_transform(Xb)
    assert pca._fit_svd_solver == "randomized"
    _close(xp, pca.explained_variance_, ref.explained_variance_, rtol=_f32_rtol(xp, f64=1e-6, f32=1e-3))
    _close(xp, pca.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=_f32_rtol(xp, 1e-6, 1e-3))
    _close(xp, pca.components_, ref.components_, rtol=_f32_rtol(xp, f64=1e-3, f32=1e-2), scale=1.0)
    np.testing.assert_allclose(pca.noise_variance_, ref.noise_variance_, rtol=1e-4 if xp.float64 else 1e-2)
    want = ref.transform(X.astype(np.float64))
    _close(xp, ft, want, rtol=_f32_rtol(xp, f64=1e-3, f32=1e-2), scale=np.abs(want).max())
    # wide data: the operator is transposed inside the randomized solver
    Xw = np.random.default_rng(2).normal(size=(40, 200)).astype(X.dtype)
    wide = PCA(3, svd_solver="randomized", iterated_power=20, random_state=0).fit(xp.asarray(Xw))
    ref_w = SkPCA(3, svd_solver="full").fit(Xw.astype(np.float64))
    _close(xp, wide.singular_values_, ref_w.singular_values_, rtol=_f32_rtol(xp, f64=1e-4, f32=1e-3))


@pytest.mark.parametrize("data", ["iris", "wine", "generated"])
def test_fraction_and_mle_pick_sklearn_n_components(xp, data):
    X = DATASETS[data]()
    Xb = xp.asarray(X)
    for nc in (0.5, 0.9, 0.99):
        assert PCA(nc).fit(Xb).n_components_ == SkPCA(nc).fit(X).n_components_
    pca = PCA("mle", svd_solver="full").fit(Xb)
    assert pca.n_components_ == SkPCA("mle", svd_solver="full").fit(X).n_components_


def test_whiten_and_inverse_transform(xp):
    X = DATASETS["generated"]().astype(_np_dtype(xp))
    ref = SkPCA(5, whiten=True).fit(X.astype(np.float64))
    Xb = xp.asarray(X)
    pca = PCA(5, whiten=True).fit(Xb)
    Xt = pca.transform(Xb)
    _close(xp, Xt, ref.transform(X.astype(np.float64)), rtol=_f32_rtol(xp, 1e-6, 1e-2), scale=3.0)
    np.testing.assert_allclose(xp.to_numpy(Xt).std(axis=0, ddof=1), 1.0, rtol=1e-5 if xp.float64 else 1e-3)
    back = pca.inverse_transform(Xt)
    assert framework_of(back) is framework_of(Xb)
    _close(xp, back, ref.inverse_transform(ref.transform(X.astype(np.float64))), rtol=_f32_rtol(xp, 1e-6, 1e-3))
    # all components: the round trip recovers X
    full = PCA().fit(Xb)
    _close(xp, full.inverse_transform(full.transform(Xb)), X, rtol=_f32_rtol(xp, 1e-9, 1e-4))
    white = PCA(whiten=True).fit(Xb)
    _close(xp, white.inverse_transform(white.transform(Xb)), X, rtol=_f32_rtol(xp, 1e-9, 1e-4))


def test_probabilistic_pca_scores(xp):
    X = DATASETS["generated"]()
    ref = SkPCA(5).fit(X)
    Xb = xp.asarray(X)
    pca = PCA(5).fit(Xb)
    rtol = _f32_rtol(xp, 1e-6, 1e-2)
    _close(xp, pca.get_covariance(), ref.get_covariance(), rtol=rtol)
    _close(xp, pca.get_precision(), ref.get_precision(), rtol=rtol, scale=np.abs(ref.get_precision()).max())
    ss = pca.score_samples(Xb)
    assert framework_of(ss) is framework_of(Xb)
    _close(xp, ss, ref.score_samples(X), rtol=rtol)
    np.testing.assert_allclose(pca.score(Xb), ref.score(X), rtol=rtol)


@pytest.mark.parametrize("data", ["iris", "wine", "digits"])
def test_truncated_svd_matches_sklearn(xp, data):
    X = DATASETS[data]().astype(_np_dtype(xp))
    k = 3
    # scikit-learn's ARPACK solution is exact (to its tolerance): the reference for both algorithms
    ref = SkTruncatedSVD(k, algorithm="arpack", random_state=0).fit(X.astype(np.float64))
    Xb = xp.asarray(X)
    for algorithm in ("randomized", "arpack"):
        svd = TruncatedSVD(k, algorithm=algorithm, random_state=0).fit(Xb)
        rtol = _f32_rtol(xp, f64=1e-7, f32=1e-3)
        _close(xp, svd.singular_values_, ref.singular_values_, rtol=rtol)
        _close(xp, svd.explained_variance_, ref.explained_variance_, rtol=rtol)
        _close(xp, svd.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=rtol)
        _close(xp, svd.components_, ref.components_, rtol=_f32_rtol(xp, f64=1e-5, f32=1e-2), scale=1.0)
        Xt = svd.transform(Xb)
        assert framework_of(Xt) is framework_of(Xb) and Xt.dtype == Xb.dtype
        want = ref.transform(X.astype(np.float64))
        _close(xp, Xt, want, rtol=_f32_rtol(xp, f64=1e-5, f32=1e-2), scale=np.abs(want).max())
        ft = TruncatedSVD(k, algorithm=algorithm, random_state=0).fit_transform(Xb)
        assert framework_of(ft) is framework_of(Xb)
        _close(xp, ft, want, rtol=_f32_rtol(xp, f64=1e-5, f32=1e-2), scale=np.abs(want).max())
        back = svd.inverse_transform(Xt)
        assert framework_of(back) is framework_of(Xb)
        _close(xp, back, ref.inverse_transform(want), rtol=_f32_rtol(xp, f64=1e-5, f32=1e-2),
               scale=np.abs(X).max())


@pytest.mark.parametrize("use_gram", [True, False])
def test_truncated_svd_gram_and_operator_paths_agree(xp, monkeypatch, use_gram):
    """Tall data runs the randomized SVD on X.T @ X; both paths find the exact leading subspace."""
    import toolbox.decomposition._truncated_svd as tsvd

    monkeypatch.setattr(tsvd, "_gram_pays", lambda shape, size, n_iter: use_gram)
    rng = np.random.default_rng(1)
    X = (rng.normal(size=(500, 30)) * np.exp(-0.3 * np.arange(30))) @ np.linalg.qr(rng.normal(size=(30, 30)))[0]
    X = (X + 2.0).astype(_np_dtype(xp))
    ref = SkTruncatedSVD(4, algorithm="arpack", random_state=0).fit(X.astype(np.float64))
    svd = TruncatedSVD(4, random_state=0).fit(xp.asarray(X))
    rtol = _f32_rtol(xp, f64=1e-6, f32=1e-3)
    _close(xp, svd.singular_values_, ref.singular_values_, rtol=rtol)
    _close(xp, svd.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=rtol)
    _close(xp, svd.components_, ref.components_, rtol=_f32_rtol(xp, f64=1e-5, f32=1e-2), scale=1.0)


def test_tall_orthonormal_basis(xp):
    # small row blocks force the blocked (TSQR) path on a small matrix
    M = np.random.default_rng(4).normal(size=(1003, 6)).astype(_np_dtype(xp))
    Q = xp.to_numpy(_orthonormal_basis(xp.asarray(M), xp=xp.xp, block_bytes=40 * 6 * M.itemsize))
    assert Q.shape == M.shape
    tol = 1e-12 if xp.float64 else 1e-5
    np.testing.assert_allclose(Q.T @ Q, np.eye(6), atol=tol)
    # the same column space: projecting M on it loses nothing
    np.testing.assert_allclose(Q @ (Q.T @ M), M, atol=tol * 100 * np.abs(M).max())


def test_mle_dimension_matches_sklearn_on_random_spectra():
    import array_api_compat.numpy as np_xp
    from sklearn.decomposition._pca import _infer_dimension as sk_infer_dimension

    rng = np.random.default_rng(5)
    for _ in range(30):
        d = int(rng.integers(2, 30))
        n = int(rng.integers(d, 300))
        r = int(rng.integers(1, d + 1))
        X = rng.normal(size=(n, r)) @ rng.normal(size=(r, d)) + rng.uniform(0.01, 1) * rng.normal(size=(n, d))
        ev = SkPCA().fit(X).explained_variance_
        assert _infer_dimension(np_xp.asarray(ev), n, xp=np_xp) == int(sk_infer_dimension(ev, n))


def test_float32_preserved_and_input_not_modified(xp):
    X = DATASETS["generated"]().astype(np.float32)
    Xb = xp.asarray(X)
    for est in (PCA(3), PCA(3, svd_solver="full"), PCA(3, svd_solver="randomized", random_state=0),
                TruncatedSVD(3, random_state=0)):
        assert est.fit_transform(Xb).dtype == xp.xp.float32
        assert est.components_.dtype == xp.xp.float32 and est.transform(Xb).dtype == xp.xp.float32
    np.testing.assert_array_equal(xp.to_numpy(Xb), X)


def test_fitted_on_numpy_used_on_torch():
    torch = pytest.importorskip("torch")
    X = DATASETS["wine"]()
    pca = PCA(3).fit(X)
    out = pca.transform(torch.asarray(X))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_allclose(out.numpy(), pca.transform(X), rtol=1e-10, atol=1e-8)
    pca.to_backend("torch")
    assert isinstance(pca.components_, torch.Tensor)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)), PCA(3).fit(X).inverse_transform(out.numpy()),
                               rtol=1e-10, atol=1e-8)


def test_feature_names_out():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(datasets.load_iris().data, columns=["a", "b", "c", "d"])
    assert list(PCA(2).fit(df).get_feature_names_out()) == ["pca0", "pca1"]
    assert list(TruncatedSVD(2, random_state=0).fit(df).get_feature_names_out()) == ["truncatedsvd0",
                                                                                      "truncatedsvd1"]


def test_bad_input_errors():
    X = datasets.load_iris().data[:20]
    with pytest.raises(ValueError, match=r"n_components=5 must be between 0 and min\(n_samples, n_features\)=4 "
                                         r"with svd_solver='full'"):
        PCA(5, svd_solver="full").fit(X)
    with pytest.raises(ValueError, match=r"n_components=5 must be between 0 and min\(n_samples, n_features\)=4 "
                                         r"with svd_solver='covariance_eigh'"):
        PCA(5, svd_solver="covariance_eigh").fit(X)
    with pytest.raises(ValueError, match=r"n_components=5 must be between 1 and min\(n_samples, n_features\)=4 "
                                         r"with svd_solver='randomized'"):
        PCA(5, svd_solver="randomized").fit(X)
    with pytest.raises(ValueError, match=r"n_components=4 must be strictly less than "
                                         r"min\(n_samples, n_features\)=4 with svd_solver='arpack'"):
        PCA(4, svd_solver="arpack").fit(X)
    with pytest.raises(ValueError, match=r"n_components=0 must be between 1 and "
                                         r"min\(n_samples, n_features\)=4 with svd_solver='arpack'"):
        PCA(0, svd_solver="arpack").fit(X)
    with pytest.raises(ValueError, match=r"n_components='mle' cannot be a string with svd_solver='arpack'"):
        PCA("mle", svd_solver="arpack").fit(X)
    with pytest.raises(ValueError, match=r"n_components=0.5 must be between 1 and"):
        PCA(0.5, svd_solver="randomized").fit(X)
    with pytest.raises(ValueError, match=r"n_components='mle' cannot be a string with svd_solver='randomized'"):
        PCA("mle", svd_solver="randomized").fit(X)
    with pytest.raises(ValueError, match=r"n_components='mle' is only supported if n_samples >= n_features"):
        PCA("mle", svd_solver="full").fit(X[:3])
    with pytest.raises(ValueError, match=r"'n_components' parameter of PCA must be None, an int >= 0, a float "
                                         r"in \(0, 1\) or 'mle'; got 1.5"):
        PCA(1.5).fit(X)
    with pytest.raises(ValueError, match=r"'svd_solver' parameter of PCA must be one of"):
        PCA(2, svd_solver="lapack").fit(X)
    with pytest.raises(ValueError, match=r"'power_iteration_normalizer' parameter of PCA must be one of"):
        PCA(2, power_iteration_normalizer="qr").fit(X)
    with pytest.raises(ValueError, match=r"X has 3 columns, but PCA.inverse_transform expects 2"):
        PCA(2).fit(X).inverse_transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"X has 3 features, but PCA is expecting 4 features"):
        PCA(2).fit(X).transform(X[:, :3])
    with pytest.raises(ValueError, match=r"n_components\(5\) must be <= n_features\(4\)"):
        TruncatedSVD(5).fit(X)
    with pytest.raises(ValueError, match=r"'n_components' parameter of TruncatedSVD must be an int >= 1; got 0"):
        TruncatedSVD(0).fit(X)
    with pytest.raises(ValueError, match=r"n_components=4 must be strictly less than "
                                         r"min\(n_samples, n_features\)=4 with algorithm='arpack'"):
        TruncatedSVD(4, algorithm="arpack").fit(X)
    with pytest.raises(ValueError, match=r"'algorithm' parameter of TruncatedSVD must be 'randomized' or 'arpack'"):
        TruncatedSVD(2, algorithm="lanczos").fit(X)
    with pytest.raises(ValueError, match=r"minimum of 2 is required by TruncatedSVD"):
        TruncatedSVD(1).fit(X[:, :1])


@parametrize_with_checks(
    [
        PCA(),
        PCA(n_components=2, svd_solver="full", whiten=True),
        PCA(n_components=2, svd_solver="randomized", random_state=0),
        PCA(n_components=1, svd_solver="arpack"),
        TruncatedSVD(),
        TruncatedSVD(n_components=1, algorithm="arpack"),
    ]
)
def test_sklearn_conformance(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- #
# sparse input: centred implicitly, never densified (scikit-learn's solvers)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_array", "coo_matrix"])
@pytest.mark.parametrize(("solver", "n_components"), [("arpack", 4), ("auto", 4), ("covariance_eigh", 4),
                                                      ("covariance_eigh", None), ("covariance_eigh", 0.7)])
def test_pca_on_scipy_sparse_matches_sklearn(fmt, solver, n_components):
    import scipy.sparse as ss

    rng = np.random.default_rng(0)
    dense = rng.random((200, 30)) * (rng.random((200, 30)) < 0.15)
    X = getattr(ss, fmt)(dense)
    before = X.copy()
    ours = PCA(n_components, svd_solver=solver, random_state=0).fit(X)
    ref = SkPCA(n_components, svd_solver=solver, random_state=0).fit(X)
    assert ours.n_components_ == ref.n_components_ and ours._fit_svd_solver == ref._fit_svd_solver
    for name in ("components_", "explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-9, atol=1e-12, err_msg=name)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-9, abs=1e-15)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.fit_transform(X), ref.fit_transform(X), rtol=1e-9, atol=1e-12)
    assert (X != before).nnz == 0  # the caller's matrix is untouched
    # a model fitted on sparse data projects dense data the same way
    np.testing.assert_allclose(ours.transform(dense), ref.transform(dense), rtol=1e-9, atol=1e-12)


def test_pca_on_torch_sparse_takes_the_covariance():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    dense = rng.random((150, 20)) * (rng.random((150, 20)) < 0.2)
    X = torch.tensor(dense).to_sparse_csr()
    ours = PCA(3).fit(X)
    ref = SkPCA(3, svd_solver="covariance_eigh").fit(dense)
    assert ours._fit_svd_solver == "covariance_eigh" and isinstance(ours.components_, torch.Tensor)
    np.testing.assert_allclose(ours.components_.numpy(), ref.components_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.transform(X).numpy(), ref.transform(dense), rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match=r"needs a scipy\.sparse matrix"):
        PCA(3, svd_solver="arpack").fit(X)


@pytest.mark.parametrize("solver", ["arpack", "covariance_eigh"])
def test_pca_on_sparse_never_densifies(solver):
    # 10^6 x 50 with 5,000 stored entries: dense it would be 400 MB; the fit stays far below that
    import tracemalloc

    import scipy.sparse as ss

    X = ss.random(1_000_000, 50, density=1e-4, format="csr", random_state=0)
    tracemalloc.start()
    try:
        pca = PCA(3, svd_solver=solver, random_state=0).fit(X)
        Xt = pca.transform(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert Xt.shape == (1_000_000, 3)
    assert peak < 120e6, peak  # n x k dense outputs and ARPACK's n-vectors, not n x d


def test_pca_sparse_errors_are_sklearns():
    import scipy.sparse as ss

    X = ss.csr_matrix(np.random.default_rng(2).random((20, 6)))
    with pytest.raises(TypeError, match='only support sparse inputs with the "arpack" and "covariance_eigh"'):
        PCA(2, svd_solver="randomized").fit(X)
    with pytest.raises(ValueError, match=r"must be strictly less than min\(n_samples, n_features\)=6"):
        PCA(6, svd_solver="arpack").fit(X)
    with pytest.raises(ValueError, match="cannot be a string with svd_solver='arpack'"):
        PCA("mle", svd_solver="arpack").fit(X)
