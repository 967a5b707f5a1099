"""Dask: blockwise fits on a real ``dask.distributed.LocalCluster`` (2 worker processes), compared with NumPy.

Also: predict / transform stay lazy, X is never gathered on the client, data larger than a
worker's memory limit kills no worker, feature-chunked input is rechunked with a warning,
unsupported estimators and a lost cluster give clear errors, joblib's Dask backend spreads
cross-validation and searches over the workers.
"""

from __future__ import annotations

import importlib.util
import threading
import time
import warnings

import numpy as np
import pytest
from sklearn.base import clone

pytest.importorskip("dask.array", reason="dask is not installed (pip install 'toolbox[dask]')")
pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install 'toolbox[dask]')")

import dask
import dask.array as da
from distributed import Client, LocalCluster, get_task_stream

import toolbox as tb
from toolbox.cluster import KMeans
from toolbox.dask import (
    DaskClusterLostError,
    _graph,
    supported_estimators,
)
from toolbox.dask._iterative import SEED_ROWS
from toolbox.decomposition import PCA, TruncatedSVD
from toolbox.discriminant_analysis import LinearDiscriminantAnalysis
from toolbox.linear_model import LinearRegression, LogisticRegression, Ridge
from toolbox.naive_bayes import GaussianNB
from toolbox.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

rng = np.random.default_rng(0)
N, D = 3000, 6
X = rng.standard_normal((N, D)) * np.arange(1, D + 1) + np.linspace(-2, 3, D)
y_reg = X @ np.linspace(0.5, 2.0, D) + 0.1 * rng.standard_normal(N)
Y_reg = np.stack([y_reg, -y_reg + X[:, 0]], axis=1)
y_bin = (X[:, 0] + 0.5 * X[:, 1] + rng.standard_normal(N) > -1).astype(np.int64)
y_3 = np.digitize(X[:, 0] + 0.3 * X[:, 2] + 0.5 * rng.standard_normal(N), [-3, 1.5])
CHUNK = 400  # 8 row blocks, the last one shorter


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's port / dashboard notices
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                               host="127.0.0.1")
        c = Client(cluster, set_as_default=True)
    yield c
    c.close()
    cluster.close()


def _dask(a):
    return da.from_array(a, chunks=(CHUNK, *a.shape[1:]))


CASES = [
    (StandardScaler(), None, ["mean_", "var_", "scale_", "n_samples_seen_"]),
    (StandardScaler(with_mean=False), None, ["mean_", "var_", "scale_"]),
    (MinMaxScaler(feature_range=(-1, 2)), None, ["data_min_", "data_max_", "scale_", "min_"]),
    (LinearRegression(), y_reg, ["coef_", "intercept_", "rank_", "singular_"]),
    (LinearRegression(fit_intercept=False), Y_reg, ["coef_", "intercept_"]),
    (Ridge(alpha=10.0), y_reg, ["coef_", "intercept_"]),
    (Ridge(alpha=[1.0, 100.0]), Y_reg, ["coef_", "intercept_"]),
    (PCA(n_components=3), None, ["components_", "explained_variance_", "explained_variance_ratio_",
                                 "singular_values_", "mean_", "noise_variance_", "n_components_"]),
    (PCA(n_components=0.9, whiten=True), None, ["components_", "n_components_", "explained_variance_"]),
    (TruncatedSVD(n_components=3), None, ["components_", "explained_variance_", "explained_variance_ratio_",
                                          "singular_values_"]),
    (GaussianNB(), y_3, ["classes_", "theta_", "var_", "class_count_", "class_prior_", "epsilon_"]),
    (LinearDiscriminantAnalysis(), y_3, ["classes_", "coef_", "intercept_", "scalings_", "means_",
                                         "explained_variance_ratio_", "xbar_"]),
    (LinearDiscriminantAnalysis(solver="lsqr", shrinkage=0.2), y_bin, ["coef_", "intercept_", "covariance_"]),
    (LinearDiscriminantAnalysis(solver="eigen"), y_3, ["coef_", "intercept_", "explained_variance_ratio_"]),
    (LogisticRegression(), y_bin, ["classes_", "coef_", "intercept_", "n_iter_"]),
    (LogisticRegression(C=0.05, tol=1e-10, max_iter=200, class_weight="balanced"), y_3,
     ["classes_", "coef_", "intercept_", "n_iter_"]),
    (KMeans(n_clusters=4, init=X[[0, 10, 20, 30]], n_init=1), None,
     ["cluster_centers_", "inertia_", "n_iter_"]),
]
METHODS = ("predict", "transform", "predict_proba", "decision_function", "inverse_transform", "score_samples")


def _close(a, b, name, rtol=1e-9, atol=1e-10):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "OUSb" or b.dtype.kind in "OUS":
        np.testing.assert_array_equal(a, b, err_msg=name)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize(("est", "y", "attrs"), CASES, ids=lambda c: type(c).__name__ if hasattr(c, "fit") else "")
def test_blockwise_fit_matches_numpy(client, est, y, attrs):
    args = () if y is None else (y,)
    ref = clone(est).fit(X, *args)
    got = clone(est).fit(_dask(X), *(_dask(a) for a in args))
    for attr in attrs:
        _close(getattr(got, attr), getattr(ref, attr), attr)  # to rounding, LogisticRegression's n_iter_ too
        assert not isinstance(getattr(got, attr), da.Array), f"{attr} should be computed (NumPy)"
    assert got.n_features_in_ == D
    for method in METHODS:
        if not hasattr(ref, method):
            continue
        Xin = X if method != "inverse_transform" else ref.transform(X)
        try:
            expected = getattr(ref, method)(Xin)
        except NotImplementedError:
            continue
        lazy = getattr(got, method)(_dask(Xin))
        assert isinstance(lazy, da.Array), f"{method} should return a lazy dask array"
        assert lazy.chunks[0] == _dask(Xin).chunks[0]
        out = lazy.compute()
        assert out.dtype == expected.dtype and out.shape == expected.shape
        _close(out, expected, method, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("est", [StandardScaler(), LinearRegression(), LinearRegression(fit_intercept=False),
                                 Ridge(alpha=5.0)], ids=lambda e: repr(e))
def test_sample_weight(client, est):
    sw = rng.uniform(0, 3, size=N)
    sw[:CHUNK] = 0.0  # a block of zero weights
    args = () if isinstance(est, StandardScaler) else (y_reg,)
    ref = clone(est).fit(X, *args, sample_weight=sw)
    got = clone(est).fit(_dask(X), *(_dask(a) for a in args), sample_weight=_dask(sw))
    for attr in ("mean_", "var_", "scale_", "n_samples_seen_") if isinstance(est, StandardScaler) else ("coef_", "intercept_"):
        _close(getattr(got, attr), getattr(ref, attr), attr)
    got = clone(est).fit(_dask(X), *(_dask(a) for a in args), sample_weight=2.0)  # a number: every row
    ref = clone(est).fit(X, *args, sample_weight=2.0)
    _close(getattr(got, "scale_" if isinstance(est, StandardScaler) else "coef_"),
           getattr(ref, "scale_" if isinstance(est, StandardScaler) else "coef_"), "constant weight")


def test_scores_and_lazy_labels(client):
    Xd = _dask(X)
    reg = LinearRegression().fit(Xd, _dask(y_reg))
    assert reg.score(Xd, _dask(y_reg)) == pytest.approx(LinearRegression().fit(X, y_reg).score(X, y_reg), rel=1e-12)
    clf = LogisticRegression(tol=1e-10).fit(Xd, _dask(y_bin))
    assert clf.score(Xd, y_bin) == pytest.approx(LogisticRegression(tol=1e-10).fit(X, y_bin).score(X, y_bin))
    km = KMeans(n_clusters=4, init=X[:4], n_init=1)
    labels = km.fit_predict(Xd)
    assert isinstance(labels, da.Array) and isinstance(km.labels_, da.Array)
    ref = KMeans(n_clusters=4, init=X[:4], n_init=1).fit(X)
    np.testing.assert_array_equal(labels.compute(), ref.labels_)
    assert km.score(Xd) == pytest.approx(ref.score(X), rel=1e-10)


def test_kmeans_block_pass_in_batches_of_rows(monkeypatch):
    from toolbox.dask import _iterative

    centers = X[::100][:30]
    offset = X.mean(axis=0)
    whole = _iterative.lloyd_block(X, centers, offset)
    monkeypatch.setattr(_iterative, "_BATCH_ENTRIES", 997)  # 33 rows per batch
    batched = _iterative.lloyd_block(X, centers, offset)
    for a, b in zip(whole, batched):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_kmeans_many_clusters(client):
    init = X[::100][:30]
    got = KMeans(n_clusters=30, init=init, n_init=1, max_iter=20).fit(_dask(X))
    ref = KMeans(n_clusters=30, init=init, n_init=1, max_iter=20).fit(X)
    np.testing.assert_allclose(got.cluster_centers_, ref.cluster_centers_, rtol=1e-9, atol=1e-9)
    assert got.n_iter_ == ref.n_iter_


def test_kmeans_plus_plus_seeding_on_a_sample(client):
    centers = np.array([[0, 0], [8, 8], [-8, 8], [8, -8]], dtype=float)
    pts = np.concatenate([c + rng.standard_normal((500, 2)) for c in centers])
    km = KMeans(n_clusters=4, random_state=0).fit(_dask(pts))
    ref = KMeans(n_clusters=4, random_state=0).fit(pts)
    order = lambda c: c[np.lexsort(c.T[::-1])]  # noqa: E731
    np.testing.assert_allclose(order(km.cluster_centers_), order(ref.cluster_centers_), rtol=1e-10)
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)


def test_fit_never_gathers_x(client):
    Xd = da.random.default_rng(1).standard_normal((200_000, 20), chunks=(20_000, 20))
    yd = Xd @ np.arange(20.0)
    _graph.RESULT_BYTES.clear()
    LinearRegression().fit(Xd, yd)
    StandardScaler().fit(Xd)
    LogisticRegression().fit(Xd, yd > 0)
    assert _graph.RESULT_BYTES and max(_graph.RESULT_BYTES) < 100_000  # statistics only (X is 32 MB)
    _graph.RESULT_BYTES.clear()
    KMeans(n_clusters=3, random_state=0, max_iter=5).fit(Xd)
    # the k-means++ seeding sample (SEED_ROWS rows) is the one thing of more than statistics' size
    assert max(_graph.RESULT_BYTES) <= SEED_ROWS * 20 * 8 + 1_000
    assert sorted(_graph.RESULT_BYTES)[-2] < 100_000


def test_larger_than_worker_memory_kills_no_worker():
    """1 GB of lazily generated rows on 2 workers of 400 MB each: statistics only, no worker restarted."""
    rows, d, chunk = 2_500_000, 50, 50_000  # 1.0 GB float64, 20 MB blocks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="400MB",
                               dashboard_address=None, host="127.0.0.1")
    with cluster, Client(cluster, set_as_default=False) as c, dask.config.set(scheduler=c):
        with c.as_current():
            workers = set(c.scheduler_info()["workers"])
            Xd = da.random.default_rng(7).random((rows, d), chunks=(chunk, d))
            w = np.linspace(-1, 1, d)
            yd = Xd @ w
            assert Xd.nbytes > 2 * 400e6
            scaler = StandardScaler().fit(Xd)
            reg = LinearRegression().fit(Xd, yd)
            # the reference: the same blocks, one at a time, with NumPy (chunk-wise)
            s1 = np.zeros(d)
            s2 = np.zeros(d)
            for i in range(Xd.numblocks[0]):
                b = Xd.blocks[i].compute()
                s1 += b.sum(axis=0)
                s2 += (b * b).sum(axis=0)
            mean = s1 / rows
            var = s2 / rows - mean**2
            np.testing.assert_allclose(scaler.mean_, mean, rtol=1e-10)
            np.testing.assert_allclose(scaler.var_, var, rtol=1e-7)
            np.testing.assert_allclose(reg.coef_, w, atol=1e-8)
            assert abs(reg.intercept_) < 1e-8
            assert set(c.scheduler_info()["workers"]) == workers, "a worker was restarted"


def test_feature_chunks_are_rechunked_with_a_warning(client):
    Xd = da.from_array(X, chunks=(CHUNK, 2))
    with pytest.warns(UserWarning, match="chunked along the features"):
        got = StandardScaler().fit(Xd)
    np.testing.assert_allclose(got.mean_, StandardScaler().fit(X).mean_, rtol=1e-12)
    with pytest.warns(UserWarning, match="rechunks it by rows"):
        out = got.transform(Xd)
    assert len(out.chunks[1]) == 1


def test_huge_rows_chunked_by_features_are_refused(client, monkeypatch):
    monkeypatch.setattr(_graph, "MAX_BLOCK_BYTES", 16)
    with pytest.raises(ValueError, match="chunked along the features"):
        StandardScaler().fit(da.from_array(X, chunks=(CHUNK, 2)))


def test_unsupported_estimator_names_the_alternatives(client):
    with pytest.raises(TypeError, match=r"cannot run blockwise on a Dask array.*X\.compute\(\).*StandardScaler"):
        RobustScaler().fit(_dask(X))
    assert "KMeans" in supported_estimators() and "LogisticRegression" in supported_estimators()


def test_bad_input(client):
    bad = X.copy()
    bad[17, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        LinearRegression().fit(_dask(bad), _dask(y_reg))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearRegression().fit(_dask(X), y_reg[:-1])
    with pytest.raises(ValueError, match="2D"):
        StandardScaler().fit(_dask(X[:, 0]))
    fitted = StandardScaler().fit(_dask(X))
    with pytest.raises(ValueError, match="6 features"):
        fitted.transform(_dask(X[:, :3]))
    with pytest.raises(NotImplementedError, match="sample_weight"):
        GaussianNB().fit(_dask(X), _dask(y_3), sample_weight=np.ones(N))


def test_dask_backend_converts_numpy_input(client):
    with tb.use_backend("dask"):
        got = StandardScaler().fit(X)
        out = got.transform(X)
        reg = Ridge(alpha=2.0).fit(X, y_reg)
    assert isinstance(out, np.ndarray)  # outputs mirror the (NumPy) input
    with tb.use_backend("dask"), pytest.raises(TypeError, match=r"set_backend\('dask'\).*use_backend"):
        RobustScaler().fit(X)
    ref = StandardScaler().fit(X)
    np.testing.assert_allclose(got.scale_, ref.scale_, rtol=1e-12)
    np.testing.assert_allclose(out, ref.transform(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(reg.coef_, Ridge(alpha=2.0).fit(X, y_reg).coef_, rtol=1e-10)


def test_missing_dask_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dask" else real(name, *a))
    with pytest.raises(tb.exceptions.BackendNotAvailableError, match=r"pip install 'toolbox\[dask\]'"):
        tb.set_backend("dask")


def test_lost_cluster_mid_fit_raises_instead_of_hanging():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
        c = Client(cluster, set_as_default=False)
    slow = da.random.default_rng(0).random((40 * 100, 4), chunks=(100, 4)).map_blocks(
        lambda b: (time.sleep(0.25), b)[1], dtype=float)
    outcome: list = []

    def fit():
        try:
            with c.as_current():
                StandardScaler().fit(slow)
            outcome.append("finished")
        except BaseException as exc:
            outcome.append(exc)

    t = threading.Thread(target=fit, daemon=True)
    t.start()
    time.sleep(1.5)
    c.close()
    cluster.close()
    t.join(timeout=30)
    assert not t.is_alive(), "the fit hung after the cluster went away"
    assert len(outcome) == 1 and isinstance(outcome[0], DaskClusterLostError), outcome
    assert "went away" in str(outcome[0])


def test_joblib_dask_backend_spreads_cv_and_search(client):
    import joblib

    from toolbox.model_selection import GridSearchCV, cross_validate

    est = LogisticRegression()
    serial = cross_validate(est, X, y_bin, cv=4, return_train_score=True)
    search_serial = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, cv=3).fit(X, y_reg)
    with get_task_stream(client) as stream, joblib.parallel_config("dask"):
        spread = cross_validate(est, X, y_bin, cv=4, n_jobs=-1, return_train_score=True)
        search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, cv=3, n_jobs=-1).fit(X, y_reg)
    workers = {task["worker"] for task in stream.data}
    # joblib batches the jobs into tasks; they ran on the cluster's workers, both of them
    assert len(stream.data) >= 2 and workers <= set(client.scheduler_info()["workers"]), workers
    assert len(workers) == 2, "the jobs should be spread over both workers"
    for key in ("test_score", "train_score"):
        np.testing.assert_array_equal(spread[key], serial[key])
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], search_serial.cv_results_["mean_test_score"])
    assert search.best_params_ == search_serial.best_params_
