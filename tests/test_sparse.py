"""Sparse input (``scipy.sparse`` and torch sparse tensors), with scikit-learn as the reference."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as ss
import sklearn.cluster as skc
import sklearn.decomposition as skd
import sklearn.impute as sk_impute
import sklearn.linear_model as skl
import sklearn.metrics as skm
import sklearn.neighbors as skn
import sklearn.preprocessing as skp

import toolbox.cluster as tc
import toolbox.decomposition as td
import toolbox.impute as tl_impute
import toolbox.linear_model as tl
import toolbox.linear_model._base as _lm_base
import toolbox.metrics as tm
import toolbox.neighbors as tn
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
    with pytest.raises(TypeError, match=r'PCA only support sparse inputs with the "arpack" and "covariance_eigh" '
                                        r'solvers, while "full" was passed. See TruncatedSVD'):
        td.PCA(2, svd_solver="full").fit(X)
    with pytest.raises(TypeError, match=r"Sparse data was passed for X to PCA.*TruncatedSVD"):
        td.PCA(2).fit(X).score(X)
    with pytest.raises(ValueError, match=r"Cannot center sparse matrices.*with_mean=False.*MaxAbsScaler"):
        tp.StandardScaler().fit(X)
    with pytest.raises(TypeError, match=r"Sparse data was passed.*MaxAbsScaler"):
        tp.MinMaxScaler().fit(X)
    with pytest.raises(ValueError, match=r"Cannot center sparse matrices: use `with_centering=False`.*MaxAbsScaler"):
        tp.RobustScaler().fit(X)


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


# --------------------------------------------------------------------------- #
# linear models: centred implicitly, X never densified
# --------------------------------------------------------------------------- #

def _regression_data():
    rng = np.random.default_rng(5)
    X = ss.csr_matrix(ss.random(200, 30, density=0.2, random_state=rng) * 3.0)
    y = X @ rng.normal(size=30) + 0.1 * rng.normal(size=200) + 2.0
    return X, y, rng.uniform(0.5, 2.0, 200)


def _torch_like(a, X):
    if ss.issparse(X) or a is None:
        return a
    import torch

    return torch.as_tensor(a)


REGRESSORS = {
    "LinearRegression": (tl.LinearRegression, skl.LinearRegression),
    "Ridge": (lambda: tl.Ridge(0.5), lambda: skl.Ridge(0.5, solver="cholesky")),
    "Lasso": (lambda: tl.Lasso(0.01, tol=1e-10, max_iter=100_000),
              lambda: skl.Lasso(0.01, tol=1e-10, max_iter=100_000)),
    "ElasticNet": (lambda: tl.ElasticNet(0.01, tol=1e-10, max_iter=100_000),
                   lambda: skl.ElasticNet(0.01, tol=1e-10, max_iter=100_000)),
}


@pytest.mark.parametrize("name", list(REGRESSORS))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_linear_regressors_match_sklearn(name, fit_intercept, weighted, kind):
    Xs, y, sw = _regression_data()
    ours, ref = REGRESSORS[name]
    X = make(Xs, kind)
    snap = snapshot(X)
    w = sw if weighted else None
    m = ours().set_params(fit_intercept=fit_intercept).fit(X, _torch_like(y, X), sample_weight=_torch_like(w, X))
    r = ref().set_params(fit_intercept=fit_intercept).fit(Xs.toarray(), y, sample_weight=w)
    np.testing.assert_allclose(dense(m.coef_), r.coef_, atol=1e-7)
    np.testing.assert_allclose(float(m.intercept_), r.intercept_, atol=1e-7)
    pred = m.predict(X)
    assert not ss.issparse(pred)
    np.testing.assert_allclose(dense(pred), r.predict(Xs.toarray()), atol=1e-6)
    same(X, snap)


@pytest.mark.parametrize("name", ["LinearRegression", "Ridge"])
@pytest.mark.parametrize("kind", ["csr_matrix", "csc_array", "torch_csr"])
def test_wide_sparse_uses_conjugate_gradients(name, kind, monkeypatch):
    """Above SPARSE_GRAM_MAX_FEATURES no (d, d) Gram matrix: CG with the centring implicit."""
    import toolbox.linear_model._least_squares as ls
    import toolbox.linear_model._ridge as rd

    for mod in (_lm_base, ls, rd):
        monkeypatch.setattr(mod, "SPARSE_GRAM_MAX_FEATURES", 10)
    Xs, y, sw = _regression_data()
    Y = np.c_[y, 2 * y - 1]
    X = make(Xs, kind)
    ours = tl.LinearRegression(tol=1e-12) if name == "LinearRegression" else tl.Ridge(0.5, tol=1e-12)
    ref = skl.LinearRegression() if name == "LinearRegression" else skl.Ridge(0.5, solver="cholesky")
    m = ours.fit(X, _torch_like(Y, X), sample_weight=_torch_like(sw, X))
    r = ref.fit(Xs.toarray(), Y, sample_weight=sw)
    np.testing.assert_allclose(dense(m.coef_), r.coef_, atol=1e-7)
    np.testing.assert_allclose(dense(m.intercept_), r.intercept_, atol=1e-7)
    if name == "Ridge":
        assert m.solver_ == "sparse_cg"


def test_elastic_net_refuses_too_many_sparse_features(monkeypatch):
    monkeypatch.setattr(_lm_base, "SPARSE_GRAM_MAX_FEATURES", 10)
    import toolbox.linear_model._elastic_net as en

    monkeypatch.setattr(en, "SPARSE_GRAM_MAX_FEATURES", 10)
    Xs, y, _ = _regression_data()
    with pytest.raises(ValueError, match=r"at most 10 features.*Ridge"):
        tl.Lasso(0.1).fit(Xs, y)


def _classification_data(n_classes):
    rng = np.random.default_rng(7)
    X = ss.csr_matrix(ss.random(400, 30, density=0.2, random_state=rng) * 3.0)
    z = X @ rng.normal(size=30)
    y = (z > np.median(z)).astype(int) if n_classes == 2 else np.digitize(z, np.quantile(z, [1 / 3, 2 / 3]))
    return X, y


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_logistic_regression_matches_sklearn(n_classes, fit_intercept, kind):
    Xs, y = _classification_data(n_classes)
    X = make(Xs, kind)
    snap = snapshot(X)
    m = tl.LogisticRegression(tol=1e-10, max_iter=2000, fit_intercept=fit_intercept).fit(X, _torch_like(y, X))
    r = skl.LogisticRegression(tol=1e-10, max_iter=2000, fit_intercept=fit_intercept).fit(Xs, y)
    np.testing.assert_allclose(dense(m.coef_), r.coef_, atol=1e-5)
    np.testing.assert_allclose(dense(m.intercept_), r.intercept_, atol=1e-5)
    np.testing.assert_allclose(dense(m.predict_proba(X)), r.predict_proba(Xs), atol=1e-6)
    np.testing.assert_array_equal(dense(m.predict(X)), r.predict(Xs))
    same(X, snap)


def test_logistic_regression_sample_weight_sparse():
    Xs, y = _classification_data(2)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, y.shape[0])
    m = tl.LogisticRegression(tol=1e-10, max_iter=2000, class_weight="balanced").fit(Xs, y, sample_weight=sw)
    r = skl.LogisticRegression(tol=1e-10, max_iter=2000, class_weight="balanced").fit(Xs, y, sample_weight=sw)
    np.testing.assert_allclose(m.coef_, r.coef_, atol=1e-5)


# --------------------------------------------------------------------------- #
# KMeans and the nearest neighbours
# --------------------------------------------------------------------------- #


def _cluster_data():
    rng = np.random.default_rng(11)
    return ss.csr_matrix(ss.random(300, 20, density=0.3, random_state=rng))


@pytest.mark.parametrize("weighted", [False, True])
def test_kmeans_matches_sklearn_from_the_same_centres(weighted, kind):
    Xs = _cluster_data()
    init = Xs[:4].toarray()
    w = np.random.default_rng(0).uniform(0.5, 2.0, Xs.shape[0]) if weighted else None
    X = make(Xs, kind)
    snap = snapshot(X)
    m = tc.KMeans(4, init=_torch_like(init, X), n_init=1).fit(X, sample_weight=_torch_like(w, X))
    r = skc.KMeans(4, init=init, n_init=1).fit(Xs, sample_weight=w)
    np.testing.assert_allclose(dense(m.cluster_centers_), r.cluster_centers_, atol=1e-12)
    np.testing.assert_array_equal(dense(m.labels_), r.labels_)
    assert m.inertia_ == pytest.approx(r.inertia_, rel=1e-12)
    assert m.n_iter_ == r.n_iter_
    np.testing.assert_allclose(dense(m.transform(X)), r.transform(Xs), atol=1e-10)
    np.testing.assert_array_equal(dense(m.predict(X)), r.predict(Xs))
    assert m.score(X) == pytest.approx(r.score(Xs), rel=1e-12)
    same(X, snap)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_kmeans_seeding_on_sparse(init, kind):
    Xs = _cluster_data()
    m = tc.KMeans(4, init=init, n_init=3, random_state=0).fit(make(Xs, kind))
    r = skc.KMeans(4, init=init, n_init=3, random_state=0).fit(Xs)
    assert m.inertia_ <= 1.05 * r.inertia_


def _knn_data():
    rng = np.random.default_rng(13)
    X = ss.csr_matrix(ss.random(300, 25, density=0.3, random_state=rng))
    Q = ss.csr_matrix(ss.random(40, 25, density=0.3, random_state=rng))
    return X, Q, rng.integers(0, 3, 300), rng.normal(size=300)


@pytest.mark.parametrize("query", ["sparse", "dense", "train"])
def test_kneighbors_match_sklearn(query, kind):
    Xs, Qs, y, yr = _knn_data()
    X = make(Xs, kind)
    Q = None if query == "train" else make(Qs, kind) if query == "sparse" else _torch_like(Qs.toarray(), X)
    snap = snapshot(X)
    m = tn.KNeighborsClassifier(5, weights="distance").fit(X, _torch_like(y, X))
    r = skn.KNeighborsClassifier(5, weights="distance").fit(Xs, y)
    Qr = None if query == "train" else Qs
    d, i = m.kneighbors(Q)
    dr, ir = r.kneighbors(Qr)
    np.testing.assert_allclose(dense(d), dr, atol=1e-10)
    np.testing.assert_array_equal(dense(i), ir)
    np.testing.assert_allclose(dense(m.predict_proba(Q)), r.predict_proba(Qr), atol=1e-12)
    np.testing.assert_array_equal(dense(m.predict(Q)), r.predict(Qr))
    reg = tn.KNeighborsRegressor(4).fit(X, _torch_like(yr, X))
    np.testing.assert_allclose(dense(reg.predict(Q)), skn.KNeighborsRegressor(4).fit(Xs, yr).predict(Qr), atol=1e-12)
    same(X, snap)


def test_sparse_queries_against_a_dense_training_set():
    Xs, Qs, y, _ = _knn_data()
    m = tn.KNeighborsClassifier(3).fit(Xs.toarray(), y)
    r = skn.KNeighborsClassifier(3).fit(Xs.toarray(), y)
    np.testing.assert_array_equal(m.kneighbors(Qs)[1], r.kneighbors(Qs)[1])


# --------------------------------------------------------------------------- #
# SimpleImputer, PolynomialFeatures, OneHotEncoder(sparse_output=True)
# --------------------------------------------------------------------------- #


def _with_missing():
    rng = np.random.default_rng(17)
    D = ss.random(60, 6, density=0.5, random_state=rng).toarray()
    D[(rng.random(D.shape) < 0.2) & (D != 0)] = np.nan
    D[:, 3] = np.where(D[:, 3] != 0, np.nan, 0.0)  # stored entries all missing, implicit zeros observed
    D[:, 5] = np.where(D[:, 5] != 0, np.nan, np.nan)  # every value missing
    return ss.csr_matrix(D)


@pytest.mark.parametrize("params", [{}, {"strategy": "constant", "fill_value": 7.0},
                                    {"keep_empty_features": True},
                                    {"strategy": "constant", "fill_value": -1.0, "keep_empty_features": True},
                                    {"strategy": "median"}, {"strategy": "most_frequent", "add_indicator": True}],
                         ids=["mean", "constant", "mean_keep", "constant_keep", "median", "most_frequent_ind"])
def test_simple_imputer_matches_sklearn(params, kind):
    Xs = _with_missing()
    X = make(Xs, kind)
    snap = snapshot(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = tl_impute.SimpleImputer(**params)
        out = ours.fit_transform(X)
        ref = sk_impute.SimpleImputer(**params)
        expected = ref.fit_transform(Xs)
        again = ours.transform(X)
    assert_same_family(out, X)
    np.testing.assert_allclose(dense(out), expected.toarray(), atol=1e-12)
    np.testing.assert_allclose(dense(again), expected.toarray(), atol=1e-12)
    np.testing.assert_allclose(dense(ours.statistics_), ref.statistics_, atol=1e-12)
    same(X, snap)


def test_simple_imputer_sparse_errors():
    Xs = _with_missing()
    with pytest.raises(ValueError, match="missing_values == 0 and input is sparse"):
        tl_impute.SimpleImputer(missing_values=0).fit(Xs)
    with pytest.raises(ValueError, match="Sparse input with missing_values=0 is not supported"):
        tl_impute.MissingIndicator(missing_values=0).fit(Xs)


@pytest.mark.parametrize("params", [{"degree": 2}, {"degree": 3}, {"degree": 2, "interaction_only": True},
                                    {"degree": (2, 3), "include_bias": False}, {"degree": 3, "interaction_only": True,
                                                                                  "include_bias": False}],
                         ids=["d2", "d3", "d2_inter", "d2-3", "d3_inter"])
def test_polynomial_features_match_sklearn(params, kind):
    Xs = ss.csr_matrix(ss.random(50, 7, density=0.4, random_state=np.random.default_rng(19)))
    X = make(Xs, kind)
    snap = snapshot(X)
    out = tp.PolynomialFeatures(**params).fit_transform(X)
    expected = skp.PolynomialFeatures(**params).fit_transform(Xs.asformat(X.format) if ss.issparse(X) else Xs)
    assert_same_family(out, X)
    if ss.issparse(X) and X.format in ("csr", "csc"):
        assert out.format == expected.format
    np.testing.assert_allclose(dense(out), expected.toarray(), atol=1e-12)
    same(X, snap)


@pytest.mark.parametrize("kind", ["csr_matrix", "csr_array", "torch_csr"])
def test_polynomial_features_never_densify(kind):
    """10^6 x 10^6 with 4 stored entries: degree 2 has ~5 * 10^11 output columns, a handful stored.

    (CSR only: a CSC result has one index pointer per output column, whatever the data.)
    """
    n = 10**6
    X0 = ss.csr_matrix((np.array([2.0, 3.0, 5.0, 7.0]), (np.array([0, 0, 9, 999_999]),
                                                         np.array([1, 999_999, 4, 0]))), shape=(n, n))
    pf = tp.PolynomialFeatures(2, include_bias=False)
    out = pf.fit_transform(make(X0, kind))
    assert tuple(out.shape) == (n, pf.n_output_features_)
    vals = np.sort(np.asarray(out.data if ss.issparse(out) else out.values()))
    # degree 1: 2, 3, 5, 7; degree 2: 4, 6, 9, 25, 49
    np.testing.assert_allclose(vals, [2, 3, 4, 5, 6, 7, 9, 25, 49])


@pytest.mark.parametrize("container", [ss.csr_matrix, ss.csr_array])
@pytest.mark.parametrize(("degree", "n_features"), [(2, 65535), (3, 2344), (3, int(np.iinfo(np.int64).max ** (1 / 3) + 3)),
                                                    (2, int(np.sqrt(np.iinfo(np.int64).max)))])
def test_polynomial_features_huge_column_counts_exact(container, degree, n_features):
    """Output columns past 2**31 (int64 indices) and past 2**53 (exact, not float, column ranks)."""
    X = container(([3.0], ([0], [n_features - 1])), shape=(1, n_features))
    ours = tp.PolynomialFeatures(degree, include_bias=False).fit(X)
    theirs = skp.PolynomialFeatures(degree, include_bias=False).fit(X)
    assert ours.n_output_features_ == theirs.n_output_features_
    out, expected = ours.transform(X), theirs.transform(X)
    assert out.indices.dtype == expected.indices.dtype
    np.testing.assert_array_equal(out.indices, expected.indices)
    np.testing.assert_array_equal(out.data, expected.data)
    assert tp.PolynomialFeatures._num_combinations(n_features, 0, degree, False, False) == ours.n_output_features_


def test_polynomial_features_too_many_columns_and_empty_output():
    X = ss.csr_matrix(([1.0], ([0], [np.iinfo(np.int64).max // 2 - 1])))
    with pytest.raises(ValueError, match="too large to be indexed by int64"):
        tp.PolynomialFeatures((2, 2)).fit(X)
    # interaction terms of degree 3 need three features: no column at all, as scikit-learn
    X2 = ss.csr_matrix(np.arange(6.0).reshape(3, 2))
    out = tp.PolynomialFeatures((3, 3), interaction_only=True, include_bias=False).fit_transform(X2)
    assert ss.issparse(out) and out.shape == (3, 0)


@pytest.mark.parametrize("params", [{}, {"drop": "first"}, {"drop": "if_binary"}, {"handle_unknown": "ignore"}])
def test_onehot_sparse_output_matches_sklearn(params):
    rng = np.random.default_rng(23)
    X = rng.integers(0, 4, (80, 3)).astype(float)
    Xs = np.array([["a", "x"], ["b", "y"], ["a", "z"], ["c", "x"]], dtype=object)
    for data in (X, Xs):
        ours = tp.OneHotEncoder(sparse_output=True, **params).fit(data)
        ref = skp.OneHotEncoder(sparse_output=True, **params).fit(data)
        out, expected = ours.transform(data), ref.transform(data)
        assert type(out) is type(expected)
        np.testing.assert_array_equal(out.toarray(), expected.toarray())
    torch = pytest.importorskip("torch")
    out = tp.OneHotEncoder(sparse_output=True, **params).fit_transform(torch.as_tensor(X))
    assert out.layout == torch.sparse_csr
    np.testing.assert_array_equal(dense(out), skp.OneHotEncoder(sparse_output=True, **params).fit_transform(X)
                                  .toarray())


def test_onehot_sparse_output_unknown_and_memory():
    X = np.arange(200_000, dtype=np.float64).reshape(-1, 1) % 50_000  # 50,000 categories
    enc = tp.OneHotEncoder(sparse_output=True, handle_unknown="ignore").fit(X)
    out = enc.transform(np.array([[3.0], [123456.0]]))
    assert out.nnz == 1 and out[0, 3] == 1.0
    big = enc.transform(X)  # the dense result would be 200,000 x 50,000 (80 GB)
    assert big.shape == (200_000, 50_000) and big.nnz == 200_000


def test_onehot_sparse_by_default_in_the_input_backends_format():
    """sparse_output defaults to True, as scikit-learn: SciPy CSR for NumPy / list / pandas input (int32
    indices, csr_array under sparse_interface='sparray'), torch CSR for torch, dense on the device elsewhere."""
    import sklearn

    X = np.array([[3, 2, 1], [0, 1, 1], [3, 0, 1]])
    expected = skp.OneHotEncoder().fit_transform(X)
    assert tp.OneHotEncoder().get_params()["sparse_output"] is True
    for data in (X, X.tolist(), X.astype(object)):
        out = tp.OneHotEncoder().fit_transform(data)
        assert type(out) is type(expected) and out.format == "csr"
        assert out.indices.dtype == np.int32 and out.indptr.dtype == np.int32
        np.testing.assert_array_equal(out.toarray(), expected.toarray())
    with sklearn.config_context(sparse_interface="sparray"):
        out = tp.OneHotEncoder().fit_transform(X)
        assert type(out) is type(skp.OneHotEncoder().fit_transform(X)) is ss.csr_array
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": ["x", "y", None], "b": [1.0, np.nan, 1.0]})
    out = tp.OneHotEncoder().fit_transform(df)
    assert ss.issparse(out)
    np.testing.assert_array_equal(out.toarray(), skp.OneHotEncoder().fit_transform(df).toarray())
    np.testing.assert_array_equal(tp.OneHotEncoder().fit(df).inverse_transform(out).astype(str),
                                  skp.OneHotEncoder().fit(df).inverse_transform(out).astype(str))
    torch = pytest.importorskip("torch")
    out = tp.OneHotEncoder(min_frequency=2).fit_transform(torch.as_tensor(X))
    assert out.layout == torch.sparse_csr
    np.testing.assert_array_equal(dense(out), skp.OneHotEncoder(min_frequency=2).fit_transform(X).toarray())
    jnp = pytest.importorskip("jax.numpy")
    out = tp.OneHotEncoder().fit_transform(jnp.asarray(X))
    assert type(out).__module__.startswith("jax") and not ss.issparse(out)  # no JAX sparse path: dense there
    np.testing.assert_array_equal(np.asarray(out), expected.toarray())


# --------------------------------------------------------------------------- #
# metrics: multilabel indicators, dense or sparse, as scikit-learn accepts them
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("container", ["dense", "csr_matrix", "csr_array", "csc_matrix"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_metrics_match_sklearn(container, weighted):
    rng = np.random.default_rng(29)
    Yt = (rng.random((60, 6)) < 0.3).astype(int)
    Yp = (rng.random((60, 6)) < 0.3).astype(int)
    Yp[:6] = Yt[:6]
    Yt[:, 5] = Yp[:, 5] = 0  # a label nobody has: ill-defined ratios
    conv = (lambda a: a) if container == "dense" else getattr(ss, container)
    a, b = conv(Yt), conv(Yp)
    sw = rng.uniform(0.5, 2.0, 60) if weighted else None
    assert tm.accuracy_score(a, b, sample_weight=sw) == pytest.approx(skm.accuracy_score(a, b, sample_weight=sw))
    assert tm.accuracy_score(a, b, normalize=False) == pytest.approx(skm.accuracy_score(a, b, normalize=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for avg in (None, "micro", "macro", "weighted", "samples"):
            for fn in ("f1_score", "precision_score", "recall_score"):
                np.testing.assert_allclose(getattr(tm, fn)(a, b, average=avg, sample_weight=sw),
                                           getattr(skm, fn)(a, b, average=avg, sample_weight=sw))
            np.testing.assert_allclose(tm.fbeta_score(a, b, beta=2.0, average=avg, labels=[0, 2, 5]),
                                       skm.fbeta_score(a, b, beta=2.0, average=avg, labels=[0, 2, 5]))


def test_multilabel_metric_errors():
    Y = ss.csr_matrix(np.eye(4, dtype=int))
    with pytest.raises(ValueError, match="multilabel-indicator but average='binary'"):
        tm.f1_score(Y, Y)
    with pytest.raises(ValueError, match="mix of multilabel-indicator and binary"):
        tm.accuracy_score(Y, np.zeros(4))
    with pytest.raises(ValueError, match="only 0 and 1"):
        tm.accuracy_score(Y * 2, Y)


# --------------------------------------------------------------------------- #
# explicit backends
# --------------------------------------------------------------------------- #


def test_scipy_input_under_an_explicit_torch_backend(X_sp):
    torch = pytest.importorskip("torch")
    import toolbox as tb

    with tb.use_backend("torch"):
        out = tp.MaxAbsScaler().fit_transform(X_sp)
    assert isinstance(out, torch.Tensor) and out.layout == torch.sparse_csr
    np.testing.assert_allclose(dense(out), skp.MaxAbsScaler().fit_transform(X_sp).toarray(), rtol=1e-12)


def test_torch_sparse_under_an_explicit_numpy_backend(X_sp):
    import toolbox as tb

    X = make(X_sp, "torch_csr")
    with tb.use_backend("numpy"):
        out = tp.MaxAbsScaler().fit_transform(X)
    assert ss.issparse(out)
    np.testing.assert_allclose(out.toarray(), skp.MaxAbsScaler().fit_transform(X_sp).toarray(), rtol=1e-12)


def test_backends_without_a_sparse_path_refuse(X_sp):
    pytest.importorskip("array_api_strict")
    import toolbox as tb

    with tb.use_backend("array_api_strict"), pytest.raises(TypeError, match=r"scipy\.sparse matrix"):
        tp.MaxAbsScaler().fit(X_sp)


@pytest.mark.parametrize("kind", ["csr_matrix", "torch_csr"])
def test_kneighbors_in_many_query_chunks(kind, monkeypatch):
    import toolbox.neighbors._base as nb

    monkeypatch.setattr(nb, "_CHUNK_BYTES", 20_000)  # a few queries per chunk
    Xs, Qs, y, _ = _knn_data()
    m = tn.KNeighborsClassifier(4).fit(make(Xs, kind), _torch_like(y, make(Xs, kind)))
    r = skn.KNeighborsClassifier(4).fit(Xs, y)
    np.testing.assert_array_equal(dense(m.kneighbors(make(Qs, kind))[1]), r.kneighbors(Qs)[1])
    np.testing.assert_array_equal(dense(m.kneighbors()[1]), r.kneighbors()[1])


@pytest.mark.parametrize("kind", ["dense", "csr", "csc"])
def test_max_abs_scaler_clip_matches_sklearn(kind):
    from sklearn.preprocessing import MaxAbsScaler as SkMaxAbsScaler

    X = np.array([[1.0, -2.0, 0.0], [0.5, 4.0, 0.0]])
    X_new = np.array([[3.0, -10.0, 0.0], [0.2, 1.0, 7.0]])
    conv = {"dense": np.asarray, "csr": ss.csr_matrix, "csc": ss.csc_matrix}[kind]
    for clip in (False, True):
        ours = tp.MaxAbsScaler(clip=clip).fit(conv(X))
        got = ours.transform(conv(X_new))
        assert ss.issparse(got) == (kind != "dense")
        got = got.toarray() if ss.issparse(got) else got
        np.testing.assert_allclose(got, SkMaxAbsScaler(clip=clip).fit(X).transform(X_new))
        back = ours.inverse_transform(ours.transform(conv(X)))
        np.testing.assert_allclose(back.toarray() if ss.issparse(back) else back, X)  # no clipping on the way back


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("k", [None, 1, 7])
def test_threaded_sparse_products_give_scipys_bits(fmt, dtype, index_dtype, k, monkeypatch):
    """The numba products (several threads, parts of equal work) equal SciPy's ``A @ W`` bit for bit."""
    pytest.importorskip("numba")
    import toolbox as tb
    from toolbox.backends import _sparse, _threaded
    from toolbox.backends.native import numba_sparse

    monkeypatch.setattr(numba_sparse, "MIN_WORK", 0)
    monkeypatch.setattr(numba_sparse, "MIN_COLUMNS", {"csr": 1, "csc": 1})
    monkeypatch.setattr(_threaded, "worker_threads", lambda: 3)
    rng = np.random.default_rng(0)
    A = ss.random(301, 157, density=0.05, random_state=rng, format=fmt, dtype=dtype)
    A = A.tolil()
    A[5, :] = 0  # an empty row and an empty column
    A[:, 9] = 0
    A[:, 140:] = rng.standard_normal((301, 17)) * 1e8  # dense, badly scaled columns: rounding shows
    A = A.asformat(fmt)
    A.indices = A.indices.astype(index_dtype)
    A.indptr = A.indptr.astype(index_dtype)
    W = rng.standard_normal((157,) if k is None else (157, k)).astype(dtype)
    R = rng.standard_normal((301,) if k is None else (301, k)).astype(dtype)
    with tb.use_backend("numba"):
        got, got_t = _sparse.matmul(A, W), _sparse.rmatmul(A, R)
    for out, ref in ((got, A @ W), (got_t, A.T @ R)):
        assert out.dtype == dtype and out.shape == ref.shape
        np.testing.assert_array_equal(out, ref, strict=True)
    assert numba_sparse.product(A, W) is not None  # the threaded path ran, not SciPy's


def test_threaded_sparse_products_leave_other_inputs_to_scipy(monkeypatch):
    """Unsorted CSC indices, mixed dtypes, COO and little work go to SciPy (the same answer, one thread)."""
    pytest.importorskip("numba")
    from toolbox.backends import _threaded
    from toolbox.backends.native import numba_sparse

    monkeypatch.setattr(_threaded, "worker_threads", lambda: 2)
    rng = np.random.default_rng(1)
    A = ss.random(50, 40, density=0.2, random_state=rng, format="csc")
    W = rng.standard_normal((40, 3))
    assert numba_sparse.product(A, W) is None  # little work
    monkeypatch.setattr(numba_sparse, "MIN_WORK", 0)
    assert numba_sparse.product(A, W) is None  # few columns
    monkeypatch.setattr(numba_sparse, "MIN_COLUMNS", {"csr": 1, "csc": 1})
    assert numba_sparse.product(A.astype(np.float32), W) is None  # mixed dtypes
    assert numba_sparse.product(A.tocoo(), W) is None
    U = A.copy()
    U.indices[U.indptr[3]:U.indptr[4]] = U.indices[U.indptr[3]:U.indptr[4]][::-1].copy()
    U.has_sorted_indices = False
    if U.indptr[4] - U.indptr[3] > 1:
        assert numba_sparse.product(U, W) is None


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_threaded_sparse_products_refuse_out_of_range_indices(fmt, monkeypatch):
    """A malformed matrix (an index past its shape) is named in a ValueError, not read or written past its end."""
    pytest.importorskip("numba")
    from toolbox.backends import _threaded
    from toolbox.backends.native import numba_sparse

    monkeypatch.setattr(numba_sparse, "MIN_WORK", 0)
    monkeypatch.setattr(numba_sparse, "MIN_COLUMNS", {"csr": 1, "csc": 1})
    monkeypatch.setattr(_threaded, "worker_threads", lambda: 2)
    A = ss.random(40, 30, density=0.3, random_state=np.random.default_rng(2), format=fmt)
    A.indices[3] = A.shape[1 if fmt == "csr" else 0] + 5
    W = np.ones((30, 2))
    with pytest.raises(ValueError, match=r"1 stored entries have a (column|row) index outside"):
        numba_sparse.product(A, W)
