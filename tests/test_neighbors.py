"""KNeighborsClassifier and KNeighborsRegressor against scikit-learn on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets
from sklearn.neighbors import KNeighborsClassifier as SkKNC
from sklearn.neighbors import KNeighborsRegressor as SkKNR
from sklearn.utils.estimator_checks import parametrize_with_checks

from toolbox.backends import framework_of
from toolbox.neighbors import KNeighborsClassifier, KNeighborsRegressor, _base, _native


def _digits():
    X, y = datasets.load_digits(return_X_y=True)
    return X[:400], y[:400]


def _generated():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(450, 6)) * [1.0, 2.0, 0.5, 1.0, 3.0, 1.0] + 2.0
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 2.5).astype(int) + (X[:, 4] > 3)
    return X, y


CLF_DATA = {
    "iris": lambda: datasets.load_iris(return_X_y=True),
    "wine": lambda: datasets.load_wine(return_X_y=True),
    "breast_cancer": lambda: datasets.load_breast_cancer(return_X_y=True),
    "digits": _digits,
    "generated": _generated,
}


def _split(X, y, n_query=60, seed=0):
    idx = np.random.default_rng(seed).permutation(len(X))
    q, t = idx[:n_query], idx[n_query:]
    return X[t], y[t], X[q], y[q]


def _backend_data(xp, *arrays):
    """Round float data to what the backend holds (float32 without float64) so references see the same values."""
    if xp.float64:
        return arrays
    return tuple(a.astype(np.float32).astype(np.float64) for a in arrays)


def _clear_rows(X_fit, X_query, k, xp, exclude_self=False):
    """Rows whose k-th and (k+1)-th nearest distances differ by more than the search's rounding.

    On the other rows the neighbor sets may legitimately differ (ties in
    distance, resolved by rounding).
    """
    d2 = ((X_query[:, None, :] - X_fit[None, :, :]) ** 2).sum(-1)
    if exclude_self:
        np.fill_diagonal(d2, np.inf)
    d2.sort(axis=1)
    scale = max((X_fit**2).sum(1).max(), (X_query**2).sum(1).max(), 1.0)
    tol = (1e-12 if xp.float64 else 4e-6) * scale
    if d2.shape[1] == k:
        return np.ones(len(d2), bool)
    return (d2[:, k] - d2[:, k - 1]) > tol


def _assert_close(xp, got, want, rtol=None, atol_scale=1.0):
    rtol = xp.rtol() if rtol is None else rtol
    want = np.asarray(want, dtype=float)
    np.testing.assert_allclose(xp.to_numpy(got), want, rtol=rtol,
                               atol=rtol * atol_scale * max(1.0, np.abs(want).max()))


# --------------------------------------------------------------------------- #
# kneighbors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data", CLF_DATA)
def test_kneighbors_matches_sklearn(xp, data):
    X, y = CLF_DATA[data]()
    X, = _backend_data(xp, X)
    Xt, yt, Xq, _ = _split(X, y)
    ref = SkKNC(n_neighbors=5).fit(Xt, yt)
    Xtb, Xqb = xp.asarray(Xt), xp.asarray(Xq)
    est = KNeighborsClassifier(n_neighbors=5).fit(Xtb, xp.asarray(yt))
    dist, ind = est.kneighbors(Xqb)
    assert framework_of(dist) is framework_of(Xqb) and framework_of(ind) is framework_of(Xqb)
    assert dist.dtype == Xqb.dtype and dist.shape == (len(Xq), 5) and ind.shape == (len(Xq), 5)
    rdist, rind = ref.kneighbors(Xq)
    # distances are sorted values: they match whatever the tie-breaking
    _assert_close(xp, dist, rdist, atol_scale=10.0)
    clear = _clear_rows(Xt, Xq, 5, xp)
    assert clear.mean() > 0.3
    np.testing.assert_array_equal(np.sort(xp.to_numpy(ind)[clear], 1), np.sort(rind[clear], 1))
    # the indices returned are the ones whose distances are returned
    ind_np = xp.to_numpy(ind)
    direct = np.sqrt(((Xq[:, None, :] - Xt[ind_np]) ** 2).sum(-1))
    _assert_close(xp, dist, direct, atol_scale=10.0)
    # n_neighbors argument, without distances
    ind3 = est.kneighbors(Xqb, n_neighbors=3, return_distance=False)
    assert framework_of(ind3) is framework_of(Xqb) and ind3.shape == (len(Xq), 3)


@pytest.mark.parametrize("data", ["iris", "generated"])
def test_kneighbors_of_training_set_excludes_self(xp, data):
    X, y = CLF_DATA[data]()
    X, = _backend_data(xp, X)
    ref = SkKNC(n_neighbors=4).fit(X, y)
    Xb = xp.asarray(X)
    est = KNeighborsClassifier(n_neighbors=4).fit(Xb, xp.asarray(y))
    dist, ind = est.kneighbors()
    assert framework_of(ind) is framework_of(Xb)
    rdist, rind = ref.kneighbors()
    _assert_close(xp, dist, rdist, atol_scale=10.0)
    ind_np = xp.to_numpy(ind)
    clear = _clear_rows(X, X, 4, xp, exclude_self=True)
    np.testing.assert_array_equal(np.sort(ind_np[clear], 1), np.sort(rind[clear], 1))
    # a point is never its own neighbor unless it has more duplicates than neighbors
    assert not np.any(ind_np == np.arange(len(X))[:, None])


def test_exact_duplicates_keep_one_duplicate_and_drop_self(xp):
    # 6 copies of one point, 3 neighbors: sklearn drops the first returned duplicate
    X = np.vstack([np.zeros((6, 2)), np.arange(10, 18, dtype=float).reshape(4, 2)])
    y = np.array([0, 1] * 5)
    est = KNeighborsClassifier(n_neighbors=3).fit(xp.asarray(X), xp.asarray(y))
    dist, ind = est.kneighbors()
    np.testing.assert_array_equal(xp.to_numpy(dist)[:6], 0.0)
    ind = xp.to_numpy(ind)
    assert np.all(ind[:6] < 6) and np.all(ind[:6] != np.arange(6)[:, None])
    assert all(len(set(r)) == 3 for r in ind)


def test_chunked_search_matches_one_chunk(xp, monkeypatch):
    X, y = _generated()
    X, = _backend_data(xp, X)
    Xb = xp.asarray(X)
    est = KNeighborsClassifier(n_neighbors=5, weights="distance").fit(Xb, xp.asarray(y))
    d_one, i_one = est.kneighbors(Xb[:100, ...])
    p_one = est.predict_proba(None)
    loo_one = est.kneighbors(return_distance=False)
    monkeypatch.setattr(_base, "_CHUNK_BYTES", 200_000)  # 24 rows per chunk
    d_many, i_many = est.kneighbors(Xb[:100, ...])
    # (other shapes may round differently, e.g. under XLA: values to rtol, indices exactly)
    np.testing.assert_array_equal(xp.to_numpy(i_many), xp.to_numpy(i_one))
    _assert_close(xp, d_many, xp.to_numpy(d_one))
    np.testing.assert_array_equal(xp.to_numpy(est.kneighbors(return_distance=False)), xp.to_numpy(loo_one))
    _assert_close(xp, est.predict_proba(None), xp.to_numpy(p_one))


def test_kneighbors_graph(xp):
    X, y = datasets.load_iris(return_X_y=True)
    X, = _backend_data(xp, X)
    X = X + np.random.default_rng(0).normal(scale=1e-3, size=X.shape)  # no distance ties
    est = KNeighborsClassifier(n_neighbors=3).fit(xp.asarray(X), xp.asarray(y))
    ref = SkKNC(n_neighbors=3).fit(X, y)
    for mode in ("connectivity", "distance"):
        g = est.kneighbors_graph(xp.asarray(X[:20]), mode=mode)
        want = ref.kneighbors_graph(X[:20], mode=mode)
        assert g.shape == want.shape
        np.testing.assert_allclose(g.toarray(), want.toarray(), rtol=xp.rtol(), atol=1e-6)
    with pytest.raises(ValueError, match="Unsupported mode"):
        est.kneighbors_graph(mode="bogus")


# --------------------------------------------------------------------------- #
# classifier
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("data, weights", [("iris", "uniform"), ("wine", "distance"), ("breast_cancer", "uniform"),
                                           ("digits", "distance"), ("generated", "uniform"),
                                           ("generated", "distance")])
def test_classifier_matches_sklearn(xp, data, weights):
    X, y = CLF_DATA[data]()
    X, = _backend_data(xp, X)
    Xt, yt, Xq, _ = _split(X, y, seed=1)
    ref = SkKNC(n_neighbors=5, weights=weights).fit(Xt, yt)
    Xqb = xp.asarray(Xq)
    est = KNeighborsClassifier(n_neighbors=5, weights=weights).fit(xp.asarray(Xt), xp.asarray(yt))
    proba = est.predict_proba(Xqb)
    pred = est.predict(Xqb)
    assert framework_of(proba) is framework_of(Xqb) and framework_of(pred) is framework_of(Xqb)
    assert proba.dtype == Xqb.dtype and proba.shape == (len(Xq), len(np.unique(yt)))
    clear = _clear_rows(Xt, Xq, 5, xp)
    _assert_close(xp, xp.to_numpy(proba)[clear], ref.predict_proba(Xq)[clear], rtol=max(xp.rtol(), 1e-7))
    np.testing.assert_array_equal(xp.to_numpy(pred)[clear], ref.predict(Xq)[clear])
    np.testing.assert_allclose(xp.to_numpy(proba).sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(xp.to_numpy(est.classes_), ref.classes_)


def test_vote_ties_go_to_the_smallest_class(xp):
    # each query has 2 neighbors of class 2 and 2 of class 0 (at equal distances)
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0], [9.0, 9.0]])
    y = np.array([2, 2, 0, 0, 1])
    est = KNeighborsClassifier(n_neighbors=4).fit(xp.asarray(X), xp.asarray(y))
    q = xp.asarray(np.zeros((1, 2)))
    np.testing.assert_array_equal(xp.to_numpy(est.predict(q)), [0])
    np.testing.assert_array_equal(SkKNC(n_neighbors=4).fit(X, y).predict(np.zeros((1, 2))), [0])
    _assert_close(xp, est.predict_proba(q), [[0.5, 0.0, 0.5]])


def test_distance_weights_exact_matches_take_all_the_weight(xp):
    X, y = _generated()
    X, = _backend_data(xp, X)
    Xb = xp.asarray(X)
    clf = KNeighborsClassifier(n_neighbors=5, weights="distance").fit(Xb, xp.asarray(y))
    # every query is a training point: its own label gets probability 1
    proba = xp.to_numpy(clf.predict_proba(Xb))
    np.testing.assert_array_equal(proba, np.eye(3)[y])
    np.testing.assert_array_equal(xp.to_numpy(clf.predict(Xb)), y)
    reg = KNeighborsRegressor(n_neighbors=5, weights="distance").fit(Xb, xp.asarray(X[:, 0]))
    _assert_close(xp, reg.predict(Xb), X[:, 0])
    # two training points at the query: the mean of their targets
    X2 = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    reg2 = KNeighborsRegressor(n_neighbors=3, weights="distance").fit(xp.asarray(X2), xp.asarray([1.0, 3.0, 10.0, 20.0]))
    _assert_close(xp, reg2.predict(xp.asarray(np.zeros((1, 2)))), [2.0])


def test_callable_weights(xp):
    X, y = _generated()
    X, = _backend_data(xp, X)
    Xt, yt, Xq, _ = _split(X, y)
    est = KNeighborsClassifier(weights=lambda d: 1.0 / (1.0 + d)).fit(xp.asarray(Xt), xp.asarray(yt))
    ref = SkKNC(weights=lambda d: 1.0 / (1.0 + d)).fit(Xt, yt)
    clear = _clear_rows(Xt, Xq, 5, xp)
    _assert_close(xp, xp.to_numpy(est.predict_proba(xp.asarray(Xq)))[clear], ref.predict_proba(Xq)[clear],
                  rtol=max(xp.rtol(), 1e-7))
    zero = KNeighborsClassifier(weights=lambda d: d * 0.0).fit(xp.asarray(Xt), xp.asarray(yt))
    with pytest.raises(ValueError, match="zero weights"):
        zero.predict(xp.asarray(Xq))


def test_leave_one_out_predictions(xp):
    X, y = _generated()
    X, = _backend_data(xp, X)
    est = KNeighborsClassifier(n_neighbors=3).fit(xp.asarray(X), xp.asarray(y))
    ref = SkKNC(n_neighbors=3).fit(X, y)
    clear = _clear_rows(X, X, 3, xp, exclude_self=True)
    pred = xp.to_numpy(est.predict(None))
    np.testing.assert_array_equal(pred[clear], ref.predict(None)[clear])
    assert est.score(None, xp.asarray(y)) == pytest.approx(ref.score(None, y), abs=0.01)


def test_string_labels(xp):
    X, y = datasets.load_iris(return_X_y=True)
    X, = _backend_data(xp, X)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    Xt, yt, Xq, yq = _split(X, names)
    est = KNeighborsClassifier(n_neighbors=7).fit(xp.asarray(Xt), yt)
    ref = SkKNC(n_neighbors=7).fit(Xt, yt)
    pred = est.predict(xp.asarray(Xq))
    assert isinstance(pred, np.ndarray) and pred.dtype.kind == "U"
    clear = _clear_rows(Xt, Xq, 7, xp)
    np.testing.assert_array_equal(pred[clear], ref.predict(Xq)[clear])
    np.testing.assert_array_equal(est.classes_, ref.classes_)
    assert est.score(xp.asarray(Xq), yq) > 0.9


def test_host_labels_with_device_data(xp):
    X, y = _generated()
    est = KNeighborsClassifier().fit(xp.asarray(X), y)  # NumPy y with X on the backend
    np.testing.assert_array_equal(xp.to_numpy(est.classes_), [0, 1, 2])
    pred = est.predict(xp.asarray(X[:10]))
    assert framework_of(pred) is framework_of(xp.asarray(X[:10]))
    np.testing.assert_array_equal(xp.to_numpy(pred), SkKNC().fit(X, y).predict(X[:10]))


def test_float32_is_preserved(xp):
    X, y = _generated()
    X32 = X.astype(np.float32)
    est = KNeighborsClassifier().fit(xp.asarray(X32), xp.asarray(y))
    dist, _ = est.kneighbors(xp.asarray(X32[:5]))
    assert dist.dtype == xp.xp.float32
    assert est.predict_proba(xp.asarray(X32[:5])).dtype == xp.xp.float32


def test_inputs_not_modified(xp):
    X, y = _generated()
    Xb, yb = xp.asarray(X), xp.asarray(y)
    X_before, y_before = xp.to_numpy(Xb).copy(), xp.to_numpy(yb).copy()
    KNeighborsClassifier(weights="distance").fit(Xb, yb).predict_proba(Xb)
    KNeighborsRegressor().fit(Xb, xp.asarray(X[:, 0])).predict(Xb)
    np.testing.assert_array_equal(xp.to_numpy(Xb), X_before)
    np.testing.assert_array_equal(xp.to_numpy(yb), y_before)


# --------------------------------------------------------------------------- #
# regressor
# --------------------------------------------------------------------------- #


def _diabetes():
    return datasets.load_diabetes(return_X_y=True)


def _generated_regression():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 5))
    Y = np.column_stack([X[:, 0] * 2 + np.sin(X[:, 1]), X[:, 2] ** 2 - X[:, 3]]) + rng.normal(scale=0.1, size=(400, 2))
    return X, Y


REG_DATA = {
    "diabetes": _diabetes,
    "generated": lambda: (lambda X, Y: (X, Y[:, 0]))(*_generated_regression()),
    "generated_multioutput": _generated_regression,
    "generated_column": lambda: (lambda X, Y: (X, Y[:, :1]))(*_generated_regression()),
}


@pytest.mark.parametrize("data, weights", [("diabetes", "uniform"), ("diabetes", "distance"), ("generated", "uniform"),
                                           ("generated_multioutput", "distance"), ("generated_column", "uniform")])
def test_regressor_matches_sklearn(xp, data, weights):
    X, y = REG_DATA[data]()
    X, y = _backend_data(xp, X, y)
    Xt, yt, Xq, _ = _split(X, y, n_query=50)
    ref = SkKNR(n_neighbors=6, weights=weights).fit(Xt, yt)
    Xqb = xp.asarray(Xq)
    est = KNeighborsRegressor(n_neighbors=6, weights=weights).fit(xp.asarray(Xt), xp.asarray(yt))
    pred = est.predict(Xqb)
    want = ref.predict(Xq)
    assert framework_of(pred) is framework_of(Xqb) and pred.dtype == Xqb.dtype
    assert pred.shape == want.shape
    clear = _clear_rows(Xt, Xq, 6, xp)
    _assert_close(xp, xp.to_numpy(pred)[clear], want[clear], rtol=max(xp.rtol(), 1e-8))
    # leave-one-out on the training set
    clear = _clear_rows(Xt, Xt, 6, xp, exclude_self=True)
    _assert_close(xp, xp.to_numpy(est.predict(None))[clear], ref.predict(None)[clear], rtol=max(xp.rtol(), 1e-8))


def test_regressor_integer_targets_and_object_targets():
    X, y = _generated()
    est = KNeighborsRegressor().fit(X, y)
    ref = SkKNR().fit(X, y)
    np.testing.assert_allclose(est.predict(X), ref.predict(X))
    np.testing.assert_allclose(KNeighborsRegressor().fit(X, y.astype(object)).predict(X), ref.predict(X))


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("Est", [KNeighborsClassifier, KNeighborsRegressor])
def test_bad_n_neighbors(xp, Est):
    X, y = _generated()
    Xb, yb = xp.asarray(X[:10]), xp.asarray(y[:10])
    for bad in (0, -1, 2.5, None):
        with pytest.raises(ValueError, match=r"'n_neighbors' parameter of .* must be an int in the range"):
            Est(n_neighbors=bad).fit(Xb, yb)
    est = Est(n_neighbors=11).fit(Xb, yb)
    with pytest.raises(ValueError, match=r"Expected n_neighbors <= n_samples_fit, but n_neighbors = 11, n_samples_fit = 10"):
        est.predict(Xb)
    with pytest.raises(ValueError, match=r"Expected n_neighbors < n_samples_fit, but n_neighbors = 10, n_samples_fit = 10"):
        Est(n_neighbors=10).fit(Xb, yb).kneighbors()
    with pytest.raises(ValueError, match=r"Expected n_neighbors > 0. Got 0"):
        Est(n_neighbors=3).fit(Xb, yb).kneighbors(Xb, n_neighbors=0)
    with pytest.raises(TypeError, match=r"n_neighbors does not take .*float"):
        Est(n_neighbors=3).fit(Xb, yb).kneighbors(Xb, n_neighbors=2.0)


@pytest.mark.parametrize("Est", [KNeighborsClassifier, KNeighborsRegressor])
def test_unsupported_metrics(Est):
    X, y = _generated()
    for kwargs, exc, msg in [
        (dict(metric="manhattan"), NotImplementedError, "metric='manhattan' is not supported"),
        (dict(metric="cosine"), NotImplementedError, "metric='cosine' is not supported"),
        (dict(p=1), NotImplementedError, "metric='minkowski' with p=1 is not supported"),
        (dict(metric_params={"p": 3}), NotImplementedError, "with p=3 is not supported"),
        (dict(metric_params={"w": [1.0] * 6}), NotImplementedError, r"metric_params \['w'\] are not supported"),
        (dict(metric=lambda a, b: 0.0), NotImplementedError, "callable metric"),
        (dict(metric="bogus"), ValueError, "Metric 'bogus' not valid"),
        (dict(p=-1), ValueError, "'p' parameter"),
        (dict(algorithm="fast"), ValueError, "'algorithm' parameter .* must be one of"),
        (dict(weights="bogus"), ValueError, "'weights' parameter .* must be 'uniform', 'distance'"),
        (dict(leaf_size=0), ValueError, "'leaf_size' parameter"),
    ]:
        with pytest.raises(exc, match=msg):
            Est(**kwargs).fit(X, y)


@pytest.mark.parametrize("kwargs", [dict(metric="euclidean"), dict(metric="l2"), dict(algorithm="kd_tree"),
                                    dict(algorithm="ball_tree", leaf_size=5, n_jobs=2), dict(p=2.0)])
def test_accepted_parameters_give_the_same_result(kwargs):
    X, y = _generated()
    base = KNeighborsClassifier().fit(X, y).predict_proba(X[:50])
    np.testing.assert_array_equal(KNeighborsClassifier(**kwargs).fit(X, y).predict_proba(X[:50]), base)


def test_classifier_bad_targets(xp):
    X, y = _generated()
    with pytest.raises(ValueError, match="only one class"):
        KNeighborsClassifier().fit(xp.asarray(X), xp.asarray(np.zeros(len(X), dtype=int)))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        KNeighborsClassifier().fit(xp.asarray(X), xp.asarray(X[:, 0]))
    with pytest.raises(ValueError, match="needs numeric targets"):
        KNeighborsRegressor().fit(xp.asarray(X), np.array(["a", "b"] * (len(X) // 2)))
    with pytest.raises(ValueError, match="requires y to be passed"):
        KNeighborsClassifier().fit(xp.asarray(X), None)
    est = KNeighborsClassifier().fit(xp.asarray(X), xp.asarray(y))
    with pytest.raises(ValueError, match="X has 2 features, but KNeighborsClassifier is expecting 6"):
        est.predict(xp.asarray(X[:, :2]))


def test_to_backend_moves_training_set(xp):
    X, _ = _generated()
    est = KNeighborsRegressor().fit(X, X[:, 0])
    want = est.predict(X[:20])
    est.to_backend(xp.name, xp.param.device)
    Xb = xp.asarray(X[:20])
    got = est.predict(Xb)
    assert framework_of(got) is framework_of(Xb)
    _assert_close(xp, got, want)


# --------------------------------------------------------------------------- #
# the tiled search on NumPy arrays (toolbox.neighbors._native)
# --------------------------------------------------------------------------- #


def _ranking_reference(Xq, X, k):
    """The generic search's choice: the k smallest ``[-x, 1] @ fit_aug.T``, ties by index (stable sort)."""
    F = np.column_stack([X, 0.5 * (X * X).sum(1)]).astype(X.dtype)
    Q = np.column_stack([-Xq, np.ones(len(Xq))]).astype(X.dtype)
    return np.argsort(Q @ F.T, axis=1, kind="stable")[:, :k], F


@pytest.fixture(params=["numpy", "numba"])
def use_numba(request):
    if request.param == "numba":
        pytest.importorskip("numba")
    return request.param == "numba"


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles and query blocks of a few rows: many tiles, many blocks on several threads."""
    monkeypatch.setattr(_native, "TILE_NUMBA", 48)
    monkeypatch.setattr(_native, "TILE_NUMPY", 64)
    monkeypatch.setattr(_native, "_FIRST_TILE", 16)
    monkeypatch.setattr(_native, "QUERY_BLOCK_MIN", 8)
    monkeypatch.setattr(_native, "QUERY_BLOCK_MAX", 16)


def _tied_data(dtype, seed=0):
    """Small integer coordinates (exact ranks, many equal) with duplicated training rows."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(300, 4)).astype(dtype)
    X = np.vstack([X, X[:20]])
    Xq = np.vstack([rng.integers(-2, 3, size=(37, 4)), X[:5]]).astype(dtype)
    return X, Xq


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("f32_ranks", [False, True])
@pytest.mark.parametrize("k", [1, 5, 40, 320])
def test_tiled_search_equals_generic_ranking_with_ties(use_numba, small_tiles, monkeypatch, dtype, f32_ranks, k):
    monkeypatch.setattr(_native, "_F32_MIN_ROWS", 0 if f32_ranks else 10**9)
    monkeypatch.setattr(_native, "_F32_MIN_QUERIES", 0)
    X, Xq = _tied_data(dtype)
    want, F = _ranking_reference(Xq, X, k)
    got = _native.ranked_nearest(Xq, F, k, use_numba=use_numba)
    assert got.shape == (len(Xq), k) and got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("k", [1, 7])
def test_tiled_search_float32_ranks_random_data(use_numba, small_tiles, monkeypatch, k):
    # float64 data ranked through float32 products: the float64 ranking, also for close calls
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 9)) * np.linspace(0.1, 10.0, 9) + 50.0
    # near-duplicates: equal in float32 ranks (~1e-3 apart), clearly ordered in float64 ranks (~1e-12)
    X[1000:1100] = X[:100] + rng.normal(scale=1e-4, size=(100, 9))
    Xq = np.vstack([rng.normal(size=(60, 9)) * 3 + 50.0, X[:30] + 1e-5])
    want, F = _ranking_reference(Xq, X, k)
    monkeypatch.setattr(_native, "_F32_MIN_QUERIES", 0)
    for min_rows in (0, 10**9):  # through float32 products, and float64 products only
        monkeypatch.setattr(_native, "_F32_MIN_ROWS", min_rows)
        np.testing.assert_array_equal(_native.ranked_nearest(Xq, F, k, use_numba=use_numba), want)


def test_tiled_search_full_candidate_lists_are_redone(small_tiles, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setattr(_native, "_F32_MIN_ROWS", 0)
    monkeypatch.setattr(_native, "_F32_MIN_QUERIES", 0)
    monkeypatch.setattr(_native, "_CANDIDATES", 0)  # lists of 4 k: the many ties overflow them
    redone = []
    plain = _native._block_numba
    monkeypatch.setattr(_native, "_block_numba", lambda Q, *a: redone.append(len(Q)) or plain(Q, *a))
    X, Xq = _tied_data(np.float64, seed=2)
    want, F = _ranking_reference(Xq, X, 3)
    np.testing.assert_array_equal(_native.ranked_nearest(Xq, F, 3, use_numba=True), want)
    assert sum(redone) > 0


def test_tiled_search_float32_ranks_far_from_origin(use_numba, small_tiles, monkeypatch):
    # an offset 1e4 times the spread: the float32 ranks are of the centred data
    monkeypatch.setattr(_native, "_F32_MIN_ROWS", 0)
    monkeypatch.setattr(_native, "_F32_MIN_QUERIES", 0)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 6)) + 1e4
    Xq = rng.normal(size=(40, 6)) + 1e4
    _, F32, margin = _native.float32_ranks(Xq, np.column_stack([X, 0.5 * (X * X).sum(1)]))
    assert np.abs(F32[:, :6]).max() < 10 and margin.max() < 1e-2
    want, F = _ranking_reference(Xq, X, 4)
    got = _native.ranked_nearest(Xq, F, 4, use_numba=use_numba)
    # float64 ranks of such data are rounded to ~1e-7 of the spread: compare the distances
    d_got = ((Xq[:, None] - X[got]) ** 2).sum(-1)
    d_want = ((Xq[:, None] - X[want]) ** 2).sum(-1)
    np.testing.assert_allclose(d_got, d_want, rtol=0, atol=1e-6)


def test_tiled_search_for_host_arrays_and_small_k():
    import array_api_compat.numpy as xnp

    assert _base._native_search(xnp, _native.MAX_K) is not None
    assert _base._native_search(xnp, _native.MAX_K + 1) is None
    import array_api_strict

    assert _base._native_search(array_api_strict, 5) is None


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_tiled_search_on_cpu_tensors_in_place(backend):
    """torch / JAX arrays in CPU memory take the same search on zero-copy views, results in their library."""
    mod = pytest.importorskip(backend)
    from array_api_compat import array_namespace

    rng = np.random.default_rng(3)
    X, Q = rng.normal(size=(3000, 6)), rng.normal(size=(400, 6))
    F = np.column_stack([X, 0.5 * (X * X).sum(1)])
    want = _native.ranked_nearest(Q, F, 5, use_numba=False)
    x64 = bool(mod.config.jax_enable_x64) if backend == "jax" else None
    if backend == "torch":
        Qb, Fb = mod.asarray(Q), mod.asarray(F)
    else:
        mod.config.update("jax_enable_x64", True)
        Qb, Fb = mod.numpy.asarray(Q), mod.numpy.asarray(F)
    try:
        search = _base._native_search(array_namespace(Qb), 5)
        got = search(Qb, Fb, 5)
        assert type(got).__module__.split(".")[0] == type(Qb).__module__.split(".")[0]
        np.testing.assert_array_equal(np.sort(np.asarray(got), axis=1), np.sort(want, axis=1))
        if backend == "torch":  # tensors that need gradients are not read behind autograd's back
            assert search(Qb.requires_grad_(True), Fb, 5) is None
    finally:
        if backend == "jax":
            mod.config.update("jax_enable_x64", x64)


def test_tiled_search_gives_up_on_infinite_ranks(use_numba):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [1e200, 0.0], [2.0, 2.0]])
    with np.errstate(over="ignore"):
        F = np.column_stack([X, 0.5 * (X * X).sum(1)])  # an infinite rank
    assert _native.ranked_nearest(X[:2], F, 4, use_numba=use_numba) is None
    assert _native.ranked_nearest(X[:2], F[[0, 1, 3]], 2, use_numba=use_numba) is not None


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_tiled_search_matches_generic_search_and_sklearn(backend, monkeypatch):
    # large enough for the float32-ranked path of float64 data
    import toolbox as tb

    if backend == "numba":
        pytest.importorskip("numba")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(3000, 12))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    Xq = np.vstack([rng.normal(size=(400, 12)), X[:50]])
    f32_calls = []
    float32_ranks = _native.float32_ranks
    monkeypatch.setattr(_native, "float32_ranks",
                        lambda *a: f32_calls.append(a[0].dtype) or float32_ranks(*a))
    found = {}
    with tb.use_backend(backend):
        for dtype in (np.float64, np.float32):
            est = KNeighborsClassifier(n_neighbors=6).fit(X.astype(dtype), y)
            dist, ind = est.kneighbors(Xq.astype(dtype))
            loo = est.kneighbors(return_distance=False)
            proba = est.predict_proba(Xq.astype(dtype))
            assert dist.dtype == dtype
            found[dtype] = ind
            with monkeypatch.context() as mp:
                mp.setattr(_base, "_native_search", lambda xp, k: None)  # the generic search
                gdist, gind = est.kneighbors(Xq.astype(dtype))
                np.testing.assert_array_equal(ind, gind)
                np.testing.assert_array_equal(loo, est.kneighbors(return_distance=False))
                np.testing.assert_allclose(dist, gdist, rtol=1e-12 if dtype == np.float64 else 1e-5)
                np.testing.assert_array_equal(proba, est.predict_proba(Xq.astype(dtype)))
    # float64 only (kneighbors, kneighbors(None), predict_proba), one call per block of queries
    assert len(f32_calls) >= 3 and set(f32_calls) == {np.dtype(np.float64)}
    ref = SkKNC(n_neighbors=6).fit(X, y)
    np.testing.assert_array_equal(np.sort(found[np.float64], 1), np.sort(ref.kneighbors(Xq, return_distance=False), 1))


# --------------------------------------------------------------------------- #
# scikit-learn's conformance suite (NumPy)
# --------------------------------------------------------------------------- #


@parametrize_with_checks([KNeighborsClassifier(), KNeighborsRegressor()])
def test_sklearn_conformance(estimator, check):
    check(estimator)


def test_training_float32_copy_is_kept_between_searches_and_not_pickled(monkeypatch):
    import pickle

    import toolbox as tb

    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 8))
    y = (X[:, 0] > 0).astype(int)
    Xq = rng.normal(size=(500, 8))
    made = []
    train_float32 = _native.train_float32
    monkeypatch.setattr(_native, "train_float32", lambda F: made.append(1) or train_float32(F))
    ref = SkKNC(n_neighbors=5).fit(X, y)
    with tb.use_backend("numpy"):
        est = KNeighborsClassifier(n_neighbors=5).fit(X, y)
        for _ in range(3):  # uniform votes: from the tiled search's neighbors, no exact distances
            np.testing.assert_array_equal(est.predict(Xq), ref.predict(Xq))
            np.testing.assert_array_equal(est.predict_proba(Xq), ref.predict_proba(Xq))
        assert len(made) == 1
        copy = pickle.loads(pickle.dumps(est))
        assert len(copy._search_cache) == 0
        np.testing.assert_array_equal(copy.predict(Xq), ref.predict(Xq))
        est.fit(X[::-1], y[::-1])  # a new training set: a new float32 copy
        np.testing.assert_array_equal(est.predict(Xq), SkKNC(n_neighbors=5).fit(X[::-1], y[::-1]).predict(Xq))
        assert len(made) == 3  # the unpickled copy made its own, and so did the refit


def test_kneighbors_classifier_several_outputs_match_sklearn():
    """2-D y (a multilabel indicator, or several label columns): per-output votes, as scikit-learn."""
    from sklearn.datasets import make_multilabel_classification

    from toolbox.model_selection import cross_val_score

    X, Y = make_multilabel_classification(n_samples=120, n_classes=3, random_state=0)
    X = X + np.random.default_rng(0).normal(scale=1e-3, size=X.shape)  # no distance ties
    Y[:, 2] *= 5  # an output with labels {0, 5}
    Xq = X[100:]
    ours = KNeighborsClassifier(4, weights="distance").fit(X[:100], Y[:100])
    theirs = SkKNC(4, weights="distance").fit(X[:100], Y[:100])
    np.testing.assert_array_equal(ours.predict(Xq), theirs.predict(Xq))
    for a, b in zip(ours.predict_proba(Xq), theirs.predict_proba(Xq), strict=True):
        np.testing.assert_allclose(a, b)
    assert ours.outputs_2d_ and [list(c) for c in ours.classes_] == [list(c) for c in theirs.classes_]
    assert ours.score(Xq, Y[100:]) == np.mean(np.all(theirs.predict(Xq) == Y[100:], axis=1))  # subset accuracy
    assert np.all(cross_val_score(KNeighborsClassifier(3), X, Y, cv=3) <= 1.0)
