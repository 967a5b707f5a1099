"""LinearDiscriminantAnalysis against scikit-learn on every backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as SkLDA
from sklearn.utils.estimator_checks import parametrize_with_checks

from toolbox.backends import framework_of
from toolbox.discriminant_analysis import LinearDiscriminantAnalysis
from toolbox.exceptions import IllConditionedWarning


def _digits():
    X, y = datasets.load_digits(return_X_y=True)
    return X[:500], y[:500]


def _generated():
    rng = np.random.default_rng(0)
    means = rng.normal(scale=2.0, size=(4, 7))
    y = rng.integers(0, 4, size=600)
    A = rng.normal(size=(7, 7))
    X = means[y] + rng.normal(size=(600, 7)) @ A + 5.0
    return X, y


DATA = {
    "iris": lambda: datasets.load_iris(return_X_y=True),
    "wine": lambda: datasets.load_wine(return_X_y=True),
    "breast_cancer": lambda: datasets.load_breast_cancer(return_X_y=True),
    "digits": _digits,
    "generated": _generated,
}

# (data, solver, shrinkage): every solver and shrinkage on several data sets. The
# digits subset has constant pixels, so its within-class covariance is singular:
# "eigen" then needs shrinkage (scikit-learn and toolbox both refuse it without).
CASES = [
    ("iris", "svd", None), ("iris", "eigen", None), ("iris", "lsqr", None),
    ("wine", "svd", None), ("wine", "eigen", "auto"), ("wine", "lsqr", "auto"),
    ("breast_cancer", "svd", None), ("breast_cancer", "eigen", 0.3), ("breast_cancer", "lsqr", None),
    ("digits", "svd", None), ("digits", "eigen", None), ("digits", "eigen", "auto"), ("digits", "lsqr", 0.1),
    ("generated", "svd", None), ("generated", "eigen", "auto"), ("generated", "lsqr", None),
]


def _backend_data(xp, X):
    """Round to the backend's precision so the reference sees the same values."""
    return X if xp.float64 else X.astype(np.float32).astype(np.float64)


def _tol(xp, solver, data):
    """Tolerances relative to the largest entry.

    float64: scikit-learn's SVD vs toolbox's Gram eigendecomposition (or
    Cholesky vs ``lstsq``) differ by rounding amplified by the conditioning of
    the within-class covariance; the ill-conditioned breast_cancer and digits
    covariances with "lsqr" (no shrinkage to help) need the loosest bound.
    float32 (JAX without x64): single-precision arithmetic throughout, against
    a float64 reference on the same (rounded) data.
    """
    if not xp.float64:
        return 2e-2 if data in ("breast_cancer", "digits") else 2e-3
    if solver == "lsqr" and data in ("breast_cancer", "digits"):
        return 1e-6
    return 1e-8


def _close(xp, got, want, rtol):
    want = np.asarray(want, dtype=float)
    got = xp.to_numpy(got) if not isinstance(got, np.ndarray) else got
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(1.0, np.abs(want).max()))


def _align_signs(got, want):
    """Flip the columns of ``got`` to the signs of ``want`` (components are defined up to sign)."""
    signs = np.sign(np.sum(got * want, axis=0))
    signs[signs == 0] = 1.0
    return got * signs


@pytest.mark.parametrize("data, solver, shrinkage", CASES)
def test_matches_sklearn(xp, data, solver, shrinkage):
    X, y = DATA[data]()
    X = _backend_data(xp, X)
    kwargs = dict(solver=solver, shrinkage=shrinkage)
    try:
        ref = SkLDA(**kwargs).fit(X, y)
    except np.linalg.LinAlgError:  # singular within-class covariance ("eigen" without shrinkage)
        with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
            LinearDiscriminantAnalysis(**kwargs).fit(xp.asarray(X), xp.asarray(y))
        return
    Xb = xp.asarray(X)
    with warnings.catch_warnings():
        # lsqr on a singular covariance: the minimum-norm solution, as scipy's lstsq, with a warning
        warnings.simplefilter("ignore", IllConditionedWarning)
        est = LinearDiscriminantAnalysis(**kwargs).fit(Xb, xp.asarray(y))
    rtol = _tol(xp, solver, data)
    for attr in ("means_", "priors_", "coef_", "intercept_"):
        got = getattr(est, attr)
        assert framework_of(got) is framework_of(Xb), attr
        assert got.shape == getattr(ref, attr).shape, attr
        _close(xp, got, getattr(ref, attr), rtol)
    if solver != "svd":
        _close(xp, est.covariance_, ref.covariance_, rtol)
    else:
        _close(xp, est.xbar_, ref.xbar_, rtol)
        assert not hasattr(est, "covariance_")
    dec = est.decision_function(Xb)
    proba = est.predict_proba(Xb)
    logp = est.predict_log_proba(Xb)
    pred = est.predict(Xb)
    for out in (dec, proba, logp, pred):
        assert framework_of(out) is framework_of(Xb)
    assert proba.dtype == Xb.dtype
    _close(xp, dec, ref.decision_function(X), rtol)
    _close(xp, proba, ref.predict_proba(X), rtol)
    ref_logp = ref.predict_log_proba(X)
    finite = ref_logp > -30  # tiny probabilities: only compare the meaningful range
    _close(xp, xp.to_numpy(logp)[finite], ref_logp[finite], max(rtol, 1e-7))
    dec_np = np.sort(np.abs(ref.decision_function(X)).reshape(len(X), -1), axis=1)
    clear = dec_np[:, 0] > 1e-3 if dec_np.shape[1] == 1 else np.ones(len(X), bool)
    np.testing.assert_array_equal(xp.to_numpy(pred)[clear], ref.predict(X)[clear])
    if solver != "lsqr":
        k = ref.explained_variance_ratio_.shape[0]
        _close(xp, est.explained_variance_ratio_, ref.explained_variance_ratio_, max(rtol, 1e-7))
        Xt = est.transform(Xb)
        assert framework_of(Xt) is framework_of(Xb) and Xt.dtype == Xb.dtype
        want = ref.transform(X)
        assert Xt.shape == want.shape
        got = _align_signs(xp.to_numpy(Xt), want)
        # eigenvectors of (nearly) repeated eigenvalues are not unique: compare well-separated ones
        ev = ref.explained_variance_ratio_
        sep = np.ones(k, bool)
        if k > 1:
            gaps = np.abs(np.diff(ev))
            sep[:-1] &= gaps > 1e-3
            sep[1:] &= gaps > 1e-3
        _close(xp, got[:, sep], want[:, sep], max(rtol, 1e-6) * 10)


def test_binary_shapes(xp):
    X, y = datasets.load_breast_cancer(return_X_y=True)
    X = _backend_data(xp, X)
    est = LinearDiscriminantAnalysis().fit(xp.asarray(X), xp.asarray(y))
    assert est.coef_.shape == (1, 30) and est.intercept_.shape == (1,)
    assert est.decision_function(xp.asarray(X)).shape == (len(X),)
    assert est.transform(xp.asarray(X)).shape == (len(X), 1)
    assert est.predict_proba(xp.asarray(X)).shape == (len(X), 2)


@pytest.mark.parametrize("solver", ["svd", "eigen"])
def test_n_components_and_feature_names(xp, solver):
    X, y = _generated()
    X = _backend_data(xp, X)
    est = LinearDiscriminantAnalysis(solver=solver, n_components=2).fit(xp.asarray(X), xp.asarray(y))
    ref = SkLDA(solver=solver, n_components=2).fit(X, y)
    Xt = est.transform(xp.asarray(X))
    assert Xt.shape == (len(X), 2)
    _close(xp, _align_signs(xp.to_numpy(Xt), ref.transform(X)), ref.transform(X), _tol(xp, solver, "generated") * 100)
    names = est.get_feature_names_out()
    np.testing.assert_array_equal(names, ref.get_feature_names_out())
    assert list(names) == ["lineardiscriminantanalysis0", "lineardiscriminantanalysis1"]
    # fit_transform is fit then transform
    _close(xp, LinearDiscriminantAnalysis(solver=solver, n_components=2).fit_transform(xp.asarray(X), xp.asarray(y)),
           xp.to_numpy(Xt), 1e-6 if xp.float64 else 1e-3)


def test_store_covariance(xp):
    X, y = datasets.load_wine(return_X_y=True)
    X = _backend_data(xp, X)
    est = LinearDiscriminantAnalysis(store_covariance=True).fit(xp.asarray(X), xp.asarray(y))
    ref = SkLDA(store_covariance=True).fit(X, y)
    _close(xp, est.covariance_, ref.covariance_, _tol(xp, "svd", "wine"))


def test_priors(xp):
    X, y = datasets.load_iris(return_X_y=True)
    X = _backend_data(xp, X)
    priors = [0.2, 0.3, 0.5]
    est = LinearDiscriminantAnalysis(priors=priors).fit(xp.asarray(X), xp.asarray(y))
    ref = SkLDA(priors=priors).fit(X, y)
    rtol = _tol(xp, "svd", "iris")
    _close(xp, est.priors_, ref.priors_, rtol)
    _close(xp, est.predict_proba(xp.asarray(X)), ref.predict_proba(X), rtol)
    # priors not summing to 1: renormalized with a warning, as in scikit-learn
    with pytest.warns(UserWarning, match="The priors do not sum to 1"):
        est2 = LinearDiscriminantAnalysis(priors=[2.0, 3.0, 5.0]).fit(xp.asarray(X), xp.asarray(y))
    _close(xp, est2.priors_, ref.priors_, rtol)
    with pytest.raises(ValueError, match="priors must be non-negative"):
        LinearDiscriminantAnalysis(priors=[-0.1, 0.6, 0.5]).fit(xp.asarray(X), xp.asarray(y))
    with pytest.raises(ValueError, match=r"Number of priors \(2\) must match the number of classes \(3\)"):
        LinearDiscriminantAnalysis(priors=[0.5, 0.5]).fit(xp.asarray(X), xp.asarray(y))


def test_string_labels(xp):
    X, y = datasets.load_iris(return_X_y=True)
    X = _backend_data(xp, X)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = LinearDiscriminantAnalysis().fit(xp.asarray(X), names)
    ref = SkLDA().fit(X, names)
    pred = est.predict(xp.asarray(X))
    assert isinstance(pred, np.ndarray) and pred.dtype.kind == "U"
    np.testing.assert_array_equal(pred, ref.predict(X))
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    assert est.score(xp.asarray(X), names) == pytest.approx(ref.score(X, names))


def test_gram_path_falls_back_to_svd_when_ill_conditioned(xp, monkeypatch):
    # A nearly collinear pair of features and a tol small enough to keep the tiny
    # singular value: the Gram matrix cannot resolve it, so the SVD of the data is used.
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=300)
    base = rng.normal(size=(300, 3)) + y[:, None]
    X = np.column_stack([base, base[:, 0] + 1e-5 * rng.normal(size=300)])
    X = _backend_data(xp, X)
    shapes = []
    real_svd = xp.xp.linalg.svd

    def spy(a, *args, **kwargs):
        shapes.append(tuple(a.shape))
        return real_svd(a, *args, **kwargs)

    monkeypatch.setattr(xp.xp.linalg, "svd", spy)
    est = LinearDiscriminantAnalysis(tol=1e-7).fit(xp.asarray(X), xp.asarray(y))
    ref = SkLDA(tol=1e-7).fit(X, y)
    assert (300, 4) in shapes  # the fallback ran
    if xp.float64:
        _close(xp, est.coef_, ref.coef_, 1e-7)
        _close(xp, est.predict_proba(xp.asarray(X)), ref.predict_proba(X), 1e-7)
    # well-conditioned data takes the Gram path: only the small (n_classes, rank) SVD runs
    shapes.clear()
    LinearDiscriminantAnalysis().fit(xp.asarray(base), xp.asarray(y))
    assert shapes == [(3, 3)]


def test_inputs_not_modified(xp):
    X, y = _generated()
    Xb, yb = xp.asarray(X), xp.asarray(y)
    before = xp.to_numpy(Xb).copy()
    for solver, shrinkage in [("svd", None), ("eigen", "auto"), ("lsqr", 0.1)]:
        est = LinearDiscriminantAnalysis(solver=solver, shrinkage=shrinkage).fit(Xb, yb)
        est.predict_proba(Xb)
    np.testing.assert_array_equal(xp.to_numpy(Xb), before)
    np.testing.assert_array_equal(xp.to_numpy(yb), y)


def test_float32_is_preserved(xp):
    X, y = _generated()
    X32 = xp.asarray(X.astype(np.float32))
    for solver in ("svd", "eigen", "lsqr"):
        est = LinearDiscriminantAnalysis(solver=solver).fit(X32, xp.asarray(y))
        assert est.coef_.dtype == xp.xp.float32
        assert est.predict_proba(X32).dtype == xp.xp.float32


def test_bad_input(xp):
    X, y = _generated()
    Xb, yb = xp.asarray(X), xp.asarray(y)
    with pytest.raises(ValueError, match="only one class"):
        LinearDiscriminantAnalysis().fit(Xb, xp.asarray(np.zeros(len(X), dtype=int)))
    with pytest.raises(ValueError, match=r"n_components cannot be larger than min\(n_features, n_classes - 1\)"):
        LinearDiscriminantAnalysis(n_components=4).fit(Xb, yb)
    with pytest.raises(ValueError, match="The number of samples must be more than the number of classes"):
        LinearDiscriminantAnalysis().fit(Xb[:4, ...], xp.asarray(np.arange(4)))
    with pytest.raises(NotImplementedError, match="shrinkage not supported with 'svd' solver"):
        LinearDiscriminantAnalysis(shrinkage="auto").fit(Xb, yb)
    with pytest.raises(NotImplementedError, match="transform not implemented for 'lsqr' solver"):
        LinearDiscriminantAnalysis(solver="lsqr").fit(Xb, yb).transform(Xb)
    with pytest.raises(ValueError, match="requires y to be passed"):
        LinearDiscriminantAnalysis().fit(Xb, None)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LinearDiscriminantAnalysis().fit(Xb, xp.asarray(X[:, 0]))
    est = LinearDiscriminantAnalysis().fit(Xb, yb)
    with pytest.raises(ValueError, match="X has 3 features, but LinearDiscriminantAnalysis is expecting 7"):
        est.predict(xp.asarray(X[:, :3]))
    # eigen with a singular within-class covariance (a duplicated feature)
    Xdup = np.column_stack([X, X[:, 0]])
    with pytest.raises(np.linalg.LinAlgError, match=r"not positive definite.*shrinkage"):
        LinearDiscriminantAnalysis(solver="eigen").fit(xp.asarray(Xdup), yb)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(solver="qr"), "'solver' parameter .* must be one of"),
    (dict(solver="eigen", shrinkage=1.5), "'shrinkage' parameter .* must be 'auto', a float in the range"),
    (dict(solver="eigen", shrinkage="fast"), "'shrinkage' parameter"),
    (dict(n_components=0), "'n_components' parameter .* must be an int in the range"),
    (dict(tol=-1.0), "'tol' parameter"),
])
def test_bad_parameters(kwargs, msg):
    X, y = _generated()
    with pytest.raises(ValueError, match=msg):
        LinearDiscriminantAnalysis(**kwargs).fit(X, y)


@pytest.mark.parametrize("solver", ["lsqr", "eigen"])
@pytest.mark.parametrize("estimator", ["LedoitWolf", "OAS", "ShrunkCovariance"])
def test_covariance_estimator_matches_sklearn(xp, solver, estimator):
    import sklearn.covariance

    est = getattr(sklearn.covariance, estimator)()
    X, y = datasets.load_wine(return_X_y=True)
    if not xp.float64:
        pytest.skip("float64 reference")
    ours = LinearDiscriminantAnalysis(solver=solver, covariance_estimator=est).fit(xp.asarray(X), xp.asarray(y))
    assert not hasattr(est, "covariance_")  # the user's estimator is cloned, not fitted in place
    ref = SkLDA(solver=solver, covariance_estimator=est).fit(X, y)
    np.testing.assert_allclose(xp.to_numpy(ours.covariance_), ref.covariance_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xp.to_numpy(ours.coef_), ref.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(xp.to_numpy(ours.predict_proba(xp.asarray(X))), ref.predict_proba(X), atol=1e-9)


def test_covariance_estimator_errors():
    from sklearn.covariance import OAS

    X, y = _generated()
    with pytest.raises(ValueError, match=r"covariance estimator is not supported with svd solver\. Try another solver"):
        LinearDiscriminantAnalysis(covariance_estimator=OAS()).fit(X, y)
    with pytest.raises(ValueError, match="Only one of the two can be set"):
        LinearDiscriminantAnalysis(solver="lsqr", shrinkage=0.5, covariance_estimator=OAS()).fit(X, y)
    with pytest.raises(ValueError, match="must be an object implementing 'fit'"):
        LinearDiscriminantAnalysis(solver="lsqr", covariance_estimator="oas").fit(X, y)

    class NoCovariance:
        def fit(self, X):
            return self

        def get_params(self, deep=True):
            return {}

    with pytest.raises(ValueError, match="NoCovariance does not have a covariance_ attribute"):
        LinearDiscriminantAnalysis(solver="lsqr", covariance_estimator=NoCovariance()).fit(X, y)


def test_fitted_on_numpy_predicts_on_backend(xp):
    X, y = datasets.load_wine(return_X_y=True)
    X = _backend_data(xp, X)
    est = LinearDiscriminantAnalysis().fit(X, y)
    Xb = xp.asarray(X)
    proba = est.predict_proba(Xb)
    assert framework_of(proba) is framework_of(Xb)
    _close(xp, proba, SkLDA().fit(X, y).predict_proba(X), _tol(xp, "svd", "wine"))


@parametrize_with_checks([LinearDiscriminantAnalysis(), LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto")])
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_lda_covariance_estimator_without_get_params():
    """Any object with fit() that sets covariance_ works (fit's return value unused), as in scikit-learn."""
    from sklearn.covariance import ledoit_wolf

    class PlainLedoitWolf:
        def fit(self, X):
            self.covariance_ = ledoit_wolf(X)[0]

    X, y = datasets.load_iris(return_X_y=True)
    ours = LinearDiscriminantAnalysis(solver="lsqr", covariance_estimator=PlainLedoitWolf()).fit(X, y)
    from sklearn.covariance import LedoitWolf

    theirs = SkLDA(solver="lsqr", covariance_estimator=LedoitWolf()).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-10)
