"""HistGradientBoostingRegressor / HistGradientBoostingClassifier against scikit-learn and across backends.

On NumPy with numba (the default "auto" backend) the estimators replicate
scikit-learn's HistGradientBoosting: same binning, split finding, tie-breaking,
losses and random streams, so predictions are compared at ``rtol=1e-10`` (they
are bit-identical). The other paths -- NumPy kernels without numba
(``use_backend("numpy")``), numba on zero-copy host views of torch / JAX CPU
arrays, and the Array API grower (torch / JAX / CuPy on their device,
array_api_strict, or forced on torch / JAX CPU arrays) -- are compared with the
NumPy reference within a dtype-dependent tolerance, on small data: the Array
API grower is slow on CPU (per-op overhead).
"""

from __future__ import annotations

import functools
import os

import array_api_compat
import numpy as np
import pytest
from sklearn import datasets
from sklearn.ensemble import HistGradientBoostingClassifier as SkHGBC
from sklearn.ensemble import HistGradientBoostingRegressor as SkHGBR
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score, log_loss, mean_pinball_loss, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from toolbox.backends import framework_of
from toolbox.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from toolbox.ensemble._hist_gradient_boosting import _gradient_boosting

RTOL = 1e-10  # NumPy / numba against scikit-learn: bit-identical in practice


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    """scikit-learn's OpenMP loops on one thread: on a busy 2-core machine (pytest -n 2) its spinning
    threads turn a 0.1 s fit into a minute. Results do not depend on the thread count."""
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


# --------------------------------------------------------------------------- #
# data
# --------------------------------------------------------------------------- #


@functools.cache
def _load(name):
    if name == "diabetes":
        return datasets.load_diabetes(return_X_y=True)
    if name == "breast_cancer":
        return datasets.load_breast_cancer(return_X_y=True)
    if name == "digits":  # 10 classes, 64 features: a subset keeps it quick
        X, y = datasets.load_digits(return_X_y=True)
        return X[:600], y[:600]
    if name == "classification":
        return datasets.make_classification(n_samples=400, n_features=6, n_informative=4, random_state=0)
    if name == "multiclass":
        return datasets.make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=3,
                                            random_state=0)
    if name == "regression":
        return datasets.make_regression(n_samples=400, n_features=6, noise=5.0, random_state=0)
    raise KeyError(name)


def _data(name, nan=False):
    X, y = _load(name)
    X = X.copy()
    if nan:
        X[np.random.default_rng(0).random(X.shape) < 0.1] = np.nan
    return X, y.copy()


def _positive(y):
    """A target for poisson / gamma: positive, of the same shape."""
    return np.exp((y - y.mean()) / (y.std() + 1e-12))


def _counts(y):
    return np.round(_positive(y) * 3)


def _pair(ours, theirs, X, y, sample_weight=None):
    return ours.fit(X, y, sample_weight=sample_weight), theirs.fit(X, y, sample_weight=sample_weight)


def _assert_same_regressor(kw, X, y, sample_weight=None):
    ours, ref = _pair(HistGradientBoostingRegressor(**kw), SkHGBR(**kw), X, y, sample_weight)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=RTOL, atol=1e-12)
    return ours, ref


def _assert_same_classifier(kw, X, y, sample_weight=None):
    ours, ref = _pair(HistGradientBoostingClassifier(**kw), SkHGBC(**kw), X, y, sample_weight)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=RTOL, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    return ours, ref


# --------------------------------------------------------------------------- #
# 1. against scikit-learn on NumPy (numba)
# --------------------------------------------------------------------------- #

REGRESSION_LOSSES = [("squared_error", None), ("absolute_error", None), ("poisson", None), ("gamma", None),
                     ("quantile", 0.1), ("quantile", 0.9)]


def _target_for(loss, y):
    return {"poisson": _counts, "gamma": _positive}.get(loss, lambda t: t)(y)


@pytest.mark.parametrize("nan", [False, True], ids=["dense", "nan"])
@pytest.mark.parametrize(("loss", "quantile"), REGRESSION_LOSSES, ids=[f"{a}-{b}" for a, b in REGRESSION_LOSSES])
def test_regression_losses_match_sklearn(loss, quantile, nan):
    X, y = _data("diabetes", nan)
    kw = dict(loss=loss, max_iter=20, random_state=0)
    if quantile is not None:
        kw["quantile"] = quantile
    _assert_same_regressor(kw, X, _target_for(loss, y))


@pytest.mark.parametrize("nan", [False, True], ids=["dense", "nan"])
@pytest.mark.parametrize("data", ["breast_cancer", "digits", "classification", "multiclass"])
def test_log_loss_matches_sklearn(data, nan):
    X, y = _data(data, nan)
    _assert_same_classifier(dict(max_iter=10 if data == "digits" else 20, random_state=0), X, y)


def _weights(n, zeros=False):
    w = np.random.default_rng(1).uniform(0.2, 2.0, n)
    if zeros:
        w[::7] = 0.0
    return w


# Up to max_bins distinct values per feature and no zero weights: the bin thresholds do not depend on the
# weights, so this checks the weighted gradients, leaves, baselines and line searches.
@pytest.mark.parametrize(("loss", "quantile"), REGRESSION_LOSSES, ids=[f"{a}-{b}" for a, b in REGRESSION_LOSSES])
def test_sample_weight_matches_sklearn(loss, quantile):
    X, y = _data("regression")
    X = X[:250]
    kw = dict(loss=loss, max_iter=15, random_state=0)
    if quantile is not None:
        kw["quantile"] = quantile
    _assert_same_regressor(kw, X, _target_for(loss, y[:250]), _weights(250))


@pytest.mark.parametrize("data", ["classification", "multiclass"])
def test_sample_weight_and_class_weight_match_sklearn(data):
    X, y = _data(data)
    X, y = X[:250], y[:250]
    _assert_same_classifier(dict(max_iter=15, random_state=0), X, y, _weights(250))
    labels = np.unique(y)
    for cw in ["balanced", {int(c): 1.0 + i for i, c in enumerate(labels)}]:
        _assert_same_classifier(dict(max_iter=15, random_state=0, class_weight=cw), X, y)
        _assert_same_classifier(dict(max_iter=15, random_state=0, class_weight=cw), X, y, _weights(250))


@pytest.mark.parametrize("case", ["regressor-many-values", "regressor-zero-weights", "class_weight-balanced",
                                  "class_weight-dict"])
def test_weighted_binning_matches_sklearn(case):
    if case.startswith("regressor"):
        X, y = _data("diabetes") if case == "regressor-many-values" else _data("regression")
        ours, ref = _assert_same_regressor(dict(max_iter=20, random_state=0), X, y,
                                           _weights(len(y), zeros=case == "regressor-zero-weights"))
    else:
        X, y = _data("breast_cancer")
        cw = "balanced" if case == "class_weight-balanced" else {0: 3.0, 1: 0.5}
        ours, ref = _assert_same_classifier(dict(max_iter=20, random_state=0, class_weight=cw), X, y)
    # the thresholds themselves (predictions can agree by luck when a few thresholds move)
    for a, b in zip(ours._bin_mapper.bin_thresholds_, ref._bin_mapper.bin_thresholds_, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("scoring", ["loss", "accuracy"])
@pytest.mark.parametrize("weighted", [False, True])
def test_user_validation_set_matches_sklearn(scoring, weighted):
    X, y = _data("breast_cancer")
    rng = np.random.default_rng(3)
    val = rng.random(len(y)) < 0.3
    kw = dict(max_iter=60, early_stopping=True, n_iter_no_change=3, learning_rate=0.3, scoring=scoring,
              random_state=0)
    sw_val = _weights(int(val.sum())) if weighted else None
    ours = HistGradientBoostingClassifier(**kw).fit(X[~val], y[~val], X_val=X[val], y_val=y[val],
                                                    sample_weight_val=sw_val)
    ref = SkHGBC(**kw).fit(X[~val], y[~val], X_val=X[val], y_val=y[val], sample_weight_val=sw_val)
    assert ours.n_iter_ == ref.n_iter_ < 60  # no random split: the same early stop as scikit-learn
    np.testing.assert_allclose(ours.validation_score_, ref.validation_score_, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), rtol=RTOL, atol=1e-12)
    Xr, yr = _data("regression")
    kwr = dict(max_iter=60, early_stopping="auto", n_iter_no_change=2, learning_rate=0.5, random_state=0)
    ours = HistGradientBoostingRegressor(**kwr).fit(Xr[:300], yr[:300], X_val=Xr[300:], y_val=yr[300:])
    ref = SkHGBR(**kwr).fit(Xr[:300], yr[:300], X_val=Xr[300:], y_val=yr[300:])
    assert ours.n_iter_ == ref.n_iter_  # "auto" is on when a validation set is given
    np.testing.assert_allclose(ours.predict(Xr), ref.predict(Xr), rtol=RTOL, atol=1e-12)


def test_user_validation_set_errors():
    X, y = _data("breast_cancer")
    clf = HistGradientBoostingClassifier(max_iter=3)
    with pytest.raises(ValueError, match="X_val is provided, but y_val was not provided"):
        clf.fit(X, y, X_val=X)
    with pytest.raises(ValueError, match="y_val is provided, but X_val was not provided"):
        clf.fit(X, y, y_val=y)
    with pytest.raises(ValueError, match="early_stopping is False"):
        HistGradientBoostingClassifier(early_stopping=False).fit(X, y, X_val=X, y_val=y)
    with pytest.raises(ValueError, match="y_val contains label 7, not seen in y"):
        clf.fit(X, y, X_val=X[:5], y_val=np.array([0, 1, 7, 0, 1]))
    with pytest.raises(ValueError, match="X has 29 features, but HistGradientBoostingClassifier is expecting 30"):
        clf.fit(X, y, X_val=X[:, 1:], y_val=y)
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="X_val lives on torch"):
        clf.fit(X, y, X_val=torch.asarray(X), y_val=torch.asarray(y))


TREE_PARAMS = {
    "max_depth": dict(max_depth=3),
    "max_depth-no-leaf-limit": dict(max_depth=4, max_leaf_nodes=None),
    "min_samples_leaf": dict(min_samples_leaf=5),
    "l2_regularization": dict(l2_regularization=1.5),
    "small-leaves-lr": dict(max_leaf_nodes=7, learning_rate=0.3, min_samples_leaf=3),
    "monotonic": dict(monotonic_cst=[1, -1, 0, 0, 1, 0, 0, 0, -1, 0]),
    "interaction-groups": dict(interaction_cst=[[0, 1], [2, 3, 4]]),
    "interaction-sets": dict(interaction_cst=[{0, 2}, {1, 2}, {5}]),
    "no_interactions": dict(interaction_cst="no_interactions"),
    "pairwise": dict(interaction_cst="pairwise"),
    "max_features": dict(max_features=0.5, random_state=42),
    "max_bins": dict(max_bins=17),
}


@pytest.mark.parametrize("nan", [False, True], ids=["dense", "nan"])
@pytest.mark.parametrize("params", TREE_PARAMS)
def test_tree_parameters_match_sklearn(params, nan):
    X, y = _data("diabetes", nan)
    _assert_same_regressor(dict(dict(max_iter=15, random_state=0), **TREE_PARAMS[params]), X, y)


@pytest.mark.parametrize("params", ["monotonic", "interaction", "max_features", "max_depth"])
def test_classifier_tree_parameters_match_sklearn(params):
    X, y = _data("breast_cancer", nan=True)
    kw = dict(max_iter=15, random_state=0)
    kw.update({"monotonic": dict(monotonic_cst=[1] + [0] * 28 + [-1]),
               "interaction": dict(interaction_cst=[[0, 1, 2], [3, 20, 21]]),
               "max_features": dict(max_features=0.5, random_state=7),
               "max_depth": dict(max_depth=2, max_leaf_nodes=None, l2_regularization=0.5)}[params])
    _assert_same_classifier(kw, X, y)


def test_max_features_multiclass_matches_sklearn():
    # one feature subsample per tree, K trees per iteration: the RNG stream is consumed as in scikit-learn
    X, y = _data("multiclass", nan=True)
    _assert_same_classifier(dict(max_iter=8, max_features=0.4, random_state=3), X, y)


def _with_categories(nan=False):
    X, y = _data("diabetes")
    rng = np.random.default_rng(0)
    X[:, 1] = rng.integers(0, 6, len(X))
    X[:, 3] = rng.integers(0, 40, len(X))
    y = y + 30.0 * (X[:, 1] % 3) - 2.0 * (X[:, 3] % 7)
    if nan:
        X[rng.random(len(X)) < 0.1, 1] = np.nan
        X[rng.random(len(X)) < 0.1, 3] = np.nan
    return X, y


@pytest.mark.parametrize("nan", [False, True], ids=["dense", "nan"])
@pytest.mark.parametrize("spec", ["indices", "mask"])
def test_categorical_features_match_sklearn(spec, nan):
    X, y = _with_categories(nan)
    cats = [1, 3] if spec == "indices" else np.isin(np.arange(X.shape[1]), [1, 3])
    ours, ref = _assert_same_regressor(dict(max_iter=15, random_state=0, categorical_features=cats), X, y)
    np.testing.assert_array_equal(ours.is_categorical_, ref.is_categorical_)
    # unknown categories at predict time go with the missing values, as in scikit-learn
    Xn = X[:50].copy()
    Xn[:, 3] = 99.0
    np.testing.assert_allclose(ours.predict(Xn), ref.predict(Xn), rtol=RTOL)


def _sklearn_interaction(groups, categorical, d):
    """``groups`` as scikit-learn applies them with categorical features: to its reordered columns.

    scikit-learn moves the categorical columns first (ColumnTransformer) and remaps
    ``monotonic_cst`` but not ``interaction_cst``, whose indices then name other columns;
    toolbox keeps them on the columns the user named.
    """
    order = np.concatenate([categorical, np.setdiff1d(np.arange(d), categorical)])
    position = np.empty(d, dtype=int)
    position[order] = np.arange(d)
    return [[int(position[j]) for j in g] for g in groups]


@pytest.mark.parametrize("params", ["max_features", "interaction", "monotonic"])
def test_categorical_with_constraints_matches_sklearn(params):
    # the trees see the categorical columns first, as scikit-learn's: ties and max_features draws agree
    X, y = _with_categories(nan=True)
    kw = dict(max_iter=10, random_state=0, categorical_features=[1, 3])
    theirs = {}
    if params == "max_features":
        kw["max_features"] = 0.5
    elif params == "monotonic":
        kw["monotonic_cst"] = [1, 0, -1, 0, 0, 1, 0, 0, 0, 0]
    else:
        groups = [[0, 1, 2], [3, 4, 5], [1, 6, 7, 8, 9]]
        kw["interaction_cst"] = groups
        theirs["interaction_cst"] = _sklearn_interaction(groups, [1, 3], X.shape[1])
    ours = HistGradientBoostingRegressor(**kw).fit(X, y)
    ref = SkHGBR(**dict(kw, **theirs)).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=RTOL)


def test_categorical_classifier_matches_sklearn():
    X, y = _data("multiclass")
    rng = np.random.default_rng(2)
    X[:, 0] = rng.integers(0, 12, len(X))
    y = np.where(X[:, 0] % 4 == 0, 0, y)
    _assert_same_classifier(dict(max_iter=10, random_state=0, categorical_features=[0]), X, y)


def test_pandas_categorical_from_dtype_matches_sklearn():
    pd = pytest.importorskip("pandas")
    X, y = _data("diabetes")
    rng = np.random.default_rng(0)
    df = pd.DataFrame(X[:, :6], columns=[f"num_{i}" for i in range(6)])
    df["colour"] = pd.Categorical(np.array(["red", "green", "blue", "black"])[rng.integers(0, 4, len(df))])
    df["size"] = pd.Categorical(np.array(list("SMLX"))[rng.integers(0, 4, len(df))],
                                categories=list("XSML"))
    df.loc[rng.random(len(df)) < 0.1, "colour"] = np.nan
    y = y + 40.0 * (df["colour"] == "red") - 25.0 * (df["size"] == "L")
    kw = dict(max_iter=15, random_state=0, categorical_features="from_dtype")
    ours, ref = _pair(HistGradientBoostingRegressor(**kw), SkHGBR(**kw), df, y)
    np.testing.assert_allclose(ours.predict(df), ref.predict(df), rtol=RTOL)
    np.testing.assert_array_equal(ours.is_categorical_, ref.is_categorical_)
    np.testing.assert_array_equal(ours.feature_names_in_, ref.feature_names_in_)
    # categories are matched by value, not by code; names select columns too
    head = df.iloc[:40].copy()
    np.testing.assert_allclose(ours.predict(head), ref.predict(head), rtol=RTOL)
    kw["categorical_features"] = ["colour", "size"]
    by_name = HistGradientBoostingRegressor(**kw).fit(df, y)
    np.testing.assert_allclose(by_name.predict(df), ref.predict(df), rtol=RTOL)


def test_warm_start_equals_one_fit():
    X, y = _data("diabetes", nan=True)
    warm = HistGradientBoostingRegressor(max_iter=10, warm_start=True, random_state=0).fit(X, y)
    warm.set_params(max_iter=20).fit(X, y)
    cold = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(X, y)
    assert warm.n_iter_ == 20
    np.testing.assert_array_equal(warm.predict(X), cold.predict(X))
    np.testing.assert_allclose(warm.predict(X), SkHGBR(max_iter=20, random_state=0).fit(X, y).predict(X),
                               rtol=RTOL)

    X, y = _data("multiclass")
    kw = dict(max_features=0.5, random_state=1)  # the feature RNG carries on where it stopped
    warm = HistGradientBoostingClassifier(max_iter=4, warm_start=True, **kw).fit(X, y)
    warm.set_params(max_iter=8).fit(X, y)
    cold = HistGradientBoostingClassifier(max_iter=8, **kw).fit(X, y)
    np.testing.assert_array_equal(warm.predict_proba(X), cold.predict_proba(X))
    np.testing.assert_allclose(warm.predict_proba(X), SkHGBC(max_iter=8, **kw).fit(X, y).predict_proba(X),
                               rtol=RTOL)


@pytest.mark.parametrize("scoring", ["loss", "accuracy"])
def test_classifier_early_stopping_like_sklearn(scoring):
    # On NumPy data the validation split is scikit-learn's own (same rows for the same seed): the same
    # scores, the same early stop, the same model
    X, y = datasets.make_classification(n_samples=3000, n_features=8, n_informative=5, flip_y=0.02,
                                        random_state=1)
    Xtr, Xte, ytr, _yte = train_test_split(X, y, test_size=0.3, random_state=0)
    kw = dict(early_stopping=True, scoring=scoring, max_iter=300, random_state=0)
    ours, ref = _pair(HistGradientBoostingClassifier(**kw), SkHGBC(**kw), Xtr, ytr)
    assert ours.do_early_stopping_ and ours.n_iter_ == ref.n_iter_ < 300
    assert ours.validation_score_.shape == ours.train_score_.shape == (ours.n_iter_ + 1,)
    np.testing.assert_allclose(ours.validation_score_, ref.validation_score_, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(Xte), ref.predict_proba(Xte), rtol=RTOL, atol=1e-12)
    # warm start continues the same scores and stops within n_iter_no_change more iterations, as scikit-learn
    Xs, ys = datasets.make_classification(random_state=0)
    kw = dict(n_iter_no_change=5, max_iter=10_000, early_stopping=True, random_state=42, warm_start=True,
              tol=1e-3, scoring=scoring)
    ours, ref = HistGradientBoostingClassifier(**kw).fit(Xs, ys), SkHGBC(**kw).fit(Xs, ys)
    first = ours.n_iter_
    ours.fit(Xs, ys), ref.fit(Xs, ys)
    assert ours.n_iter_ == ref.n_iter_ and 0 < ours.n_iter_ - first < 5


@pytest.mark.parametrize("scoring", ["loss", "r2"])
def test_regressor_early_stopping_like_sklearn(scoring):
    X, y = datasets.make_regression(n_samples=1500, n_features=8, noise=10.0, random_state=0)
    Xtr, Xte, ytr, _yte = train_test_split(X, y, test_size=0.3, random_state=0)
    kw = dict(early_stopping=True, scoring=scoring, max_iter=500, random_state=0)
    ours, ref = _pair(HistGradientBoostingRegressor(**kw), SkHGBR(**kw), Xtr, ytr)
    assert ours.n_iter_ == ref.n_iter_ < 500
    assert ours.validation_score_.shape == ours.train_score_.shape == (ours.n_iter_ + 1,)
    np.testing.assert_allclose(ours.validation_score_, ref.validation_score_, rtol=RTOL)
    np.testing.assert_allclose(ours.predict(Xte), ref.predict(Xte), rtol=RTOL, atol=1e-9)


@pytest.mark.parametrize("scoring", ["loss", "r2"])
def test_early_stopping_on_training_data_matches_sklearn(scoring):
    # validation_fraction=None: scored on the training data, no split, so exactly as scikit-learn
    X, y = _data("regression")
    kw = dict(early_stopping=True, validation_fraction=None, scoring=scoring, tol=1e-3, n_iter_no_change=3,
              max_iter=200, random_state=0)
    ours, ref = _assert_same_regressor(kw, X, y)
    np.testing.assert_allclose(ours.train_score_, ref.train_score_, rtol=RTOL)
    assert ours.validation_score_.shape == ref.validation_score_.shape == (0,)


@pytest.mark.parametrize("cls", ["regressor", "classifier"])
def test_scorer_subsample_above_ten_thousand_rows_matches_sklearn(cls):
    # a non-loss scorer sees 10,000 training rows: scikit-learn's (stratified for a classifier) subsample
    X, y = datasets.make_regression(n_samples=12_000, n_features=4, noise=10.0, random_state=0)
    kw = dict(early_stopping=True, validation_fraction=None, max_iter=8, random_state=0)
    if cls == "regressor":
        ours, ref = _assert_same_regressor(dict(kw, scoring="r2"), X, y)
    else:
        ours, ref = _assert_same_classifier(dict(kw, scoring="balanced_accuracy"), X, (y > 30).astype(int))
    np.testing.assert_allclose(ours.train_score_, ref.train_score_, rtol=RTOL)


@pytest.mark.parametrize("seed", range(5))
def test_held_out_quality_matches_sklearn(seed):
    """The accuracy target: held-out log-loss, RMSE and pinball loss within 1e-3 relative of scikit-learn."""
    X, y = datasets.make_classification(n_samples=800, n_features=10, n_informative=6, n_classes=3,
                                        random_state=seed)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed)
    kw = dict(max_iter=50, random_state=seed)
    ours, ref = _pair(HistGradientBoostingClassifier(**kw), SkHGBC(**kw), Xtr, ytr)
    a, b = log_loss(yte, ours.predict_proba(Xte)), log_loss(yte, ref.predict_proba(Xte))
    assert abs(a - b) <= 1e-3 * b, (a, b)

    X, y = datasets.make_regression(n_samples=800, n_features=10, noise=20.0, random_state=seed)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed)
    ours, ref = _pair(HistGradientBoostingRegressor(**kw), SkHGBR(**kw), Xtr, ytr)
    a = np.sqrt(mean_squared_error(yte, ours.predict(Xte)))
    b = np.sqrt(mean_squared_error(yte, ref.predict(Xte)))
    assert abs(a - b) <= 1e-3 * b, (a, b)

    qkw = dict(kw, loss="quantile", quantile=0.8)
    ours, ref = _pair(HistGradientBoostingRegressor(**qkw), SkHGBR(**qkw), Xtr, ytr)
    a = mean_pinball_loss(yte, ours.predict(Xte), alpha=0.8)
    b = mean_pinball_loss(yte, ref.predict(Xte), alpha=0.8)
    assert abs(a - b) <= 1e-3 * b, (a, b)


# --------------------------------------------------------------------------- #
# 2. the backend matrix
# --------------------------------------------------------------------------- #

_ARRAY_GROWER_BUGS: dict[str, str] = {}


def _small_classification(n_classes):
    X, y = datasets.make_classification(n_samples=150, n_features=4, n_informative=3, n_redundant=0,
                                        n_classes=n_classes, random_state=0)
    X[::11, 1] = np.nan
    return X, y


def _small_regression():
    X, y = datasets.make_regression(n_samples=150, n_features=4, noise=5.0, random_state=0)
    X[::13, 2] = np.nan
    return X, y


def _as_backend(xp, X):
    """What the backend holds: float32-rounded on a backend without float64."""
    return X if xp.float64 else X.astype(np.float32).astype(np.float64)


def _same_place(out, like):
    assert framework_of(out) is framework_of(like)
    assert array_api_compat.device(out) == array_api_compat.device(like)


def _xfail_array_grower(xp, request):
    reason = _ARRAY_GROWER_BUGS.get(xp.param.id)
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def _check_classifier_on(xp, n_classes, max_iter=3):
    X, y = _small_classification(n_classes)
    X = _as_backend(xp, X)
    kw = dict(max_iter=max_iter, random_state=0)
    ref = HistGradientBoostingClassifier(**kw).fit(X, y)
    Xb, yb = xp.asarray(X), xp.asarray(y)
    est = HistGradientBoostingClassifier(**kw).fit(Xb, yb)
    proba, dec, pred = est.predict_proba(Xb), est.decision_function(Xb), est.predict(Xb)
    for out in (proba, dec, pred):
        _same_place(out, Xb)
    assert proba.dtype == Xb.dtype and proba.shape == (len(X), n_classes)
    assert dec.shape == ((len(X),) if n_classes == 2 else (len(X), n_classes))
    staged = list(est.staged_predict_proba(Xb))
    staged_pred = list(est.staged_predict(Xb))
    assert len(staged) == len(staged_pred) == est.n_iter_ == ref.n_iter_
    for out in (staged[-1], staged_pred[-1]):
        _same_place(out, Xb)
    # staged: one tree at a time into the raw scores, in the backend's widest float
    np.testing.assert_allclose(xp.to_numpy(staged[-1]), xp.to_numpy(proba), rtol=0,
                               atol=1e-12 if xp.float64 else 1e-6)
    want = ref.predict_proba(X)
    if xp.float64:
        np.testing.assert_allclose(xp.to_numpy(proba), want, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(xp.to_numpy(dec), ref.decision_function(X), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(xp.to_numpy(staged[0]), next(ref.staged_predict_proba(X)), rtol=1e-8,
                                   atol=1e-10)
        np.testing.assert_array_equal(xp.to_numpy(pred), ref.predict(X))
    else:
        np.testing.assert_allclose(xp.to_numpy(proba), want, atol=1e-3)
        assert accuracy_score(y, xp.to_numpy(pred)) == accuracy_score(y, ref.predict(X))


def _check_regressor_on(xp, loss="squared_error", max_iter=3):
    X, y = _small_regression()
    X = _as_backend(xp, X)
    kw = dict(loss=loss, max_iter=max_iter, random_state=0)
    ref = HistGradientBoostingRegressor(**kw).fit(X, y)
    Xb, yb = xp.asarray(X), xp.asarray(y)
    est = HistGradientBoostingRegressor(**kw).fit(Xb, yb)
    pred = est.predict(Xb)
    _same_place(pred, Xb)
    assert pred.dtype == Xb.dtype and pred.shape == (len(X),)
    staged = list(est.staged_predict(Xb))
    assert len(staged) == est.n_iter_ == ref.n_iter_
    _same_place(staged[-1], Xb)
    want = ref.predict(X)
    if xp.float64:
        np.testing.assert_allclose(xp.to_numpy(pred), want, rtol=1e-8, atol=1e-8 * np.abs(want).max())
        np.testing.assert_allclose(xp.to_numpy(staged[0]), next(ref.staged_predict(X)), rtol=1e-8)
    else:
        rmse = np.sqrt(mean_squared_error(y, xp.to_numpy(pred)))
        ref_rmse = np.sqrt(mean_squared_error(y, want))
        assert abs(rmse - ref_rmse) <= 0.05 * ref_rmse, (rmse, ref_rmse)
    np.testing.assert_allclose(xp.to_numpy(staged[-1]), xp.to_numpy(pred), rtol=1e-12 if xp.float64 else 1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_backends(xp, n_classes, request):
    _xfail_array_grower(xp, request)
    _check_classifier_on(xp, n_classes)


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error"])
def test_regressor_backends(xp, loss, request):
    _xfail_array_grower(xp, request)
    _check_regressor_on(xp, loss)


@pytest.fixture
def array_grower(monkeypatch):
    """Force the Array API grower on torch / JAX arrays in CPU memory (instead of numba on host views)."""
    monkeypatch.setattr(_gradient_boosting._BaseHGB, "_numba_path", lambda self, v: False)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_array_grower_on_cpu(xp, n_classes, array_grower, request):
    if xp.name not in ("torch", "jax") or xp.param.gpu:
        pytest.skip("the Array API grower on torch / JAX CPU arrays (other backends: test_classifier_backends)")
    _xfail_array_grower(xp, request)
    _check_classifier_on(xp, n_classes, max_iter=2)


def test_regressor_array_grower_on_cpu(xp, array_grower, request):
    if xp.name not in ("torch", "jax") or xp.param.gpu:
        pytest.skip("the Array API grower on torch / JAX CPU arrays (other backends: test_regressor_backends)")
    _xfail_array_grower(xp, request)
    _check_regressor_on(xp, "absolute_error", max_iter=3)


@pytest.mark.parametrize("schedule", ["one-thread", "every-expansion-on-the-pool", "one-node-per-batch",
                                      "every-expansion-on-spinning-helpers", "every-expansion-inside-a-parallel-job"])
def test_numba_grower_schedule_never_changes_the_trees(schedule, monkeypatch):
    """The compiled grower expands nodes ahead of their turn, in batches cut into feature blocks across
    threads (woken pool threads, or helpers spinning beside the tree), and partitions large nodes in
    parts; none of that may change a tree. Hundreds of leaves (no leaf limit) also make its node slots
    and histogram pool grow mid-tree (the spinning helpers stopped and restarted on the new arrays)."""
    pytest.importorskip("numba")
    from toolbox.ensemble._hist_gradient_boosting import _grower_numba

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("TOOLBOX_SPIN_WAIT", raising=False)
    X, y = datasets.make_regression(n_samples=3000, n_features=8, noise=10.0, random_state=0)
    X[::7, 2] = np.nan
    kw = dict(max_iter=4, max_leaf_nodes=None, min_samples_leaf=2, early_stopping=False)
    ref = SkHGBR(**kw).fit(X, y)
    if schedule == "one-thread":
        monkeypatch.setattr(_grower_numba._threaded, "worker_threads", lambda: 1)
    else:
        monkeypatch.setattr(_grower_numba, "PAR_WORK", 0)
        monkeypatch.setattr(_grower_numba, "LANE_WORK", 0)
        helpers = schedule == "every-expansion-on-spinning-helpers"
        monkeypatch.setattr(_grower_numba, "LANE_MIN_WORK", 0 if helpers else 10**18)
        monkeypatch.setattr(_grower_numba._threaded, "worker_threads", lambda: 3)  # two helpers, even on 1 core
        monkeypatch.setattr(_grower_numba, "BLOCK_WORK", 1)
        monkeypatch.setattr(_grower_numba, "PAR_ROWS", 64)  # partitions in parts of 100 rows on the pool
        monkeypatch.setattr(_grower_numba, "PART_ROWS", 100)
        if schedule == "one-node-per-batch":
            monkeypatch.setattr(_grower_numba, "MAX_BATCH", 1)
    if schedule == "every-expansion-inside-a-parallel-job":  # batches run inline, without the pool
        ours = _grower_numba._threaded.job_context().run(HistGradientBoostingRegressor(**kw).fit, X, y)
    else:
        ours = HistGradientBoostingRegressor(**kw).fit(X, y)
    assert ours._trees[0][0].n_leaves > 300
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=RTOL, atol=1e-12)


def test_a_failing_spinning_helper_raises_instead_of_hanging(monkeypatch):
    """A helper thread's error reaches the caller (the grower waiting for it gives up), and the next
    fit works."""
    pytest.importorskip("numba")
    from toolbox.ensemble._hist_gradient_boosting import _grower_numba

    def broken(*args):
        raise RuntimeError("a helper broke")

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("TOOLBOX_SPIN_WAIT", raising=False)
    monkeypatch.setattr(_grower_numba, "LANE_MIN_WORK", 0)
    monkeypatch.setattr(_grower_numba, "LANE_WORK", 0)
    monkeypatch.setattr(_grower_numba._threaded, "worker_threads", lambda: 2)
    X, y = datasets.make_regression(n_samples=2000, n_features=6, random_state=0)
    real = _grower_numba.lane_loop
    monkeypatch.setattr(_grower_numba, "lane_loop", broken)
    with pytest.raises(RuntimeError, match="a helper broke"):
        HistGradientBoostingRegressor(max_iter=3, early_stopping=False).fit(X, y)
    monkeypatch.setattr(_grower_numba, "lane_loop", real)
    ours = HistGradientBoostingRegressor(max_iter=3, early_stopping=False).fit(X, y)
    ref = SkHGBR(max_iter=3, early_stopping=False).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("env", [{"TOOLBOX_SPIN_WAIT": "0"}, {"OMP_WAIT_POLICY": "PASSIVE"}, {}])
def test_spinning_helpers_follow_the_environment(env, monkeypatch):
    """``TOOLBOX_SPIN_WAIT=0`` or ``OMP_WAIT_POLICY=passive`` (as for OpenMP libraries) turn the spinning
    helpers off: batches then go to the woken pool threads. They are never used inside a parallel job."""
    pytest.importorskip("numba")
    from toolbox.backends import _threaded
    from toolbox.ensemble._hist_gradient_boosting import _grower_numba
    from toolbox.ensemble._hist_gradient_boosting._tree import GrowerParams

    for name in ("TOOLBOX_SPIN_WAIT", "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(_grower_numba._threaded, "worker_threads", lambda: 2)
    d = 8
    params = GrowerParams(n_bins=256, n_bins_non_missing=np.full(d, 255, dtype=np.uint32),
                          has_missing=np.zeros(d, dtype=np.uint8), is_categorical=np.zeros(d, dtype=np.uint8),
                          monotonic=np.zeros(d, dtype=np.int8))
    grower = _grower_numba.Grower(np.zeros((5000, d), dtype=np.uint8, order="F"), params)
    expected = 0 if env or os.name != "posix" else 1
    assert grower._helpers() == expected
    assert _threaded.job_context().run(grower._helpers) == 0


def test_numpy_backend_matches_sklearn():
    """``use_backend("numpy")`` (NumPy kernels, no numba) with every constraint at once."""
    import toolbox

    X, y = _with_categories(nan=True)
    X, y = X[:200, :5], y[:200]
    kw = dict(max_iter=4, random_state=0, categorical_features=[1, 3], monotonic_cst=[1, 0, 0, 0, -1],
              max_features=0.8)
    ref = SkHGBR(interaction_cst=_sklearn_interaction([[0, 1], [1, 2, 3, 4]], [1, 3], 5), **kw).fit(X, y)
    with toolbox.use_backend("numpy"):
        est = HistGradientBoostingRegressor(interaction_cst=[[0, 1], [1, 2, 3, 4]], **kw).fit(X, y)
        np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=1e-10)


# --------------------------------------------------------------------------- #
# 3. scikit-learn's conformance suite
# --------------------------------------------------------------------------- #


@parametrize_with_checks([HistGradientBoostingRegressor(max_iter=10), HistGradientBoostingClassifier(max_iter=10)])
def test_sklearn_conformance(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------- #
# 4. attributes
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("data", "K"), [("regression", 1), ("classification", 1), ("multiclass", 3)])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_score_attributes_like_sklearn(data, K, early_stopping):
    X, y = _data(data)
    kw = dict(max_iter=12, early_stopping=early_stopping, n_iter_no_change=100, random_state=0)
    cls = (HistGradientBoostingRegressor, SkHGBR) if data == "regression" else (HistGradientBoostingClassifier,
                                                                                  SkHGBC)
    ours, ref = _pair(cls[0](**kw), cls[1](**kw), X, y)
    assert ours.n_iter_ == ref.n_iter_ == 12
    assert ours.n_trees_per_iteration_ == ref.n_trees_per_iteration_ == K
    assert ours.train_score_.shape == ref.train_score_.shape
    assert ours.validation_score_.shape == ref.validation_score_.shape
    assert ours.do_early_stopping_ == ref.do_early_stopping_ == early_stopping
    assert ours.is_categorical_ is None and ref.is_categorical_ is None
    if early_stopping:
        assert ours.train_score_.shape == (13,)
        assert np.all(np.diff(ours.train_score_) >= -1e-12)  # the training loss keeps falling (scores rise)


def test_string_labels():
    X, y = _data("multiclass")
    labels = np.array(["cat", "dog", "eel"])[y]
    ours, ref = _assert_same_classifier(dict(max_iter=5, random_state=0), X, labels)
    np.testing.assert_array_equal(ours.classes_, ["cat", "dog", "eel"])
    assert ours.predict(X).dtype.kind == "U"
    for got, want in zip(ours.staged_predict(X), ref.staged_predict(X), strict=True):
        np.testing.assert_array_equal(got, want)
    # early stopping with a non-loss scorer sees the labels as the user gave them
    es = HistGradientBoostingClassifier(max_iter=30, early_stopping=True, scoring="accuracy",
                                        random_state=0).fit(X, labels)
    assert np.all((es.validation_score_ >= 0) & (es.validation_score_ <= 1)) and es.validation_score_.size


@pytest.mark.parametrize("cls", [HistGradientBoostingClassifier, HistGradientBoostingRegressor])
def test_feature_importances(cls):
    make = datasets.make_classification if cls is HistGradientBoostingClassifier else datasets.make_regression
    kw = dict(n_redundant=0) if make is datasets.make_classification else {}
    X, y = make(n_samples=500, n_features=8, n_informative=3, shuffle=False, random_state=0, **kw)
    est = cls(max_iter=30, random_state=0).fit(X, y)
    imp = est.feature_importances_
    assert imp.shape == (8,) and np.all(imp >= 0)
    np.testing.assert_allclose(imp.sum(), 1.0)
    assert set(np.argsort(imp)[-3:]) == {0, 1, 2}


def test_feature_importances_with_categorical_features():
    # reported on the user's columns, not in the trees' order (categorical first)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    X[:, 2] = rng.integers(0, 5, 400)
    y = 10.0 * (X[:, 2] % 2) + 0.1 * rng.normal(size=400)
    imp = HistGradientBoostingRegressor(max_iter=10, categorical_features=[2]).fit(X, y).feature_importances_
    assert np.argmax(imp) == 2 and imp[2] > 0.9


def test_feature_importances_without_splits():
    X = np.ones((30, 3))
    est = HistGradientBoostingRegressor(max_iter=2).fit(X, np.arange(30.0))
    np.testing.assert_array_equal(est.feature_importances_, np.zeros(3))


@pytest.mark.parametrize(("n", "expected"), [(10_000, False), (10_001, True)])
def test_early_stopping_auto_above_ten_thousand_rows(n, expected):
    X, y = datasets.make_regression(n_samples=n, n_features=3, random_state=0)
    est = HistGradientBoostingRegressor(max_iter=3, random_state=0).fit(X, y)
    ref = SkHGBR(max_iter=3, random_state=0).fit(X, y)
    assert est.do_early_stopping_ is ref.do_early_stopping_ is expected
    assert est.validation_score_.shape == ref.validation_score_.shape
    assert est.train_score_.shape == ref.train_score_.shape


# --------------------------------------------------------------------------- #
# 5. bad input
# --------------------------------------------------------------------------- #


def _toy(n=100):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    y = X[:, 0] + 0.1 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_target(bad):
    X, y = _toy()
    y[7] = bad
    with pytest.raises(ValueError, match=r"Input y contains .* index 7"):
        HistGradientBoostingRegressor(max_iter=2).fit(X, y)
    yc = (y > 0).astype(float)
    yc[7] = bad
    with pytest.raises(ValueError, match=r"Input y contains .* index 7"):
        HistGradientBoostingClassifier(max_iter=2).fit(X, yc)


def test_target_range_for_poisson_and_gamma():
    X, y = _toy()
    with pytest.raises(ValueError, match=r"poisson.*non-negative y"):
        HistGradientBoostingRegressor(loss="poisson").fit(X, y)
    with pytest.raises(ValueError, match=r"poisson.*sum\(y\) > 0"):
        HistGradientBoostingRegressor(loss="poisson").fit(X, np.zeros(len(y)))
    y_pos = np.abs(y) + 0.1
    y_pos[5] = 0.0
    with pytest.raises(ValueError, match=r"gamma.*strictly positive y.*y\[5\]"):
        HistGradientBoostingRegressor(loss="gamma").fit(X, y_pos)
    y_pos[5] = -1.0
    with pytest.raises(ValueError, match=r"gamma.*strictly positive"):
        HistGradientBoostingRegressor(loss="gamma").fit(X, y_pos)


@pytest.mark.parametrize("max_bins", [0, 1, 256, 1000, 2.5])
def test_max_bins_out_of_range(max_bins):
    X, y = _toy()
    with pytest.raises(ValueError, match=r"'max_bins' parameter .* \[2, 255\]"):
        HistGradientBoostingRegressor(max_bins=max_bins).fit(X, y)


@pytest.mark.parametrize(("param", "value"), [
    ("learning_rate", 0.0), ("max_iter", 0), ("max_leaf_nodes", 1), ("max_depth", 0), ("min_samples_leaf", 0),
    ("l2_regularization", -1.0), ("max_features", 0.0), ("max_features", 1.5), ("validation_fraction", 1.5),
    ("validation_fraction", 0), ("n_iter_no_change", 0), ("tol", -1.0), ("early_stopping", "yes"),
    ("scoring", 3),
])
def test_bad_parameters_name_the_parameter(param, value):
    X, y = _toy()
    with pytest.raises(ValueError, match=rf"'{param}' parameter of HistGradientBoostingRegressor"):
        HistGradientBoostingRegressor(**{param: value}).fit(X, y)


def test_bad_loss_and_class_weight():
    X, y = _toy()
    with pytest.raises(ValueError, match=r"'loss' parameter of HistGradientBoostingRegressor.*'huber'"):
        HistGradientBoostingRegressor(loss="huber").fit(X, y)
    with pytest.raises(ValueError, match=r"'loss' parameter of HistGradientBoostingClassifier.*'exponential'"):
        HistGradientBoostingClassifier(loss="exponential").fit(X, y > 0)
    with pytest.raises(ValueError, match=r"'class_weight' parameter .* Got 'even'"):
        HistGradientBoostingClassifier(class_weight="even").fit(X, y > 0)
    with pytest.raises(ValueError, match=r"quantile.*\(0, 1\)"):
        HistGradientBoostingRegressor(loss="quantile").fit(X, y)
    with pytest.raises(ValueError, match=r"quantile.*\(0, 1\)"):
        HistGradientBoostingRegressor(loss="quantile", quantile=1.5).fit(X, y)


def test_single_class():
    X, _ = _toy()
    with pytest.raises(ValueError, match=r"only one class"):
        HistGradientBoostingClassifier().fit(X, np.full(len(X), "a"))


def test_infinite_features_are_values_nan_is_missing():
    """+-inf are values (the edge bins), NaN is missing: scikit-learn's predictions on both."""
    X = np.asarray([-np.inf, 0, 1, np.inf, np.nan]).reshape(-1, 1)
    y = np.asarray([0.0, 1, 0, 1, 0])
    params = {"min_samples_leaf": 1, "max_depth": 2, "learning_rate": 1, "max_iter": 1}
    ours = HistGradientBoostingRegressor(**params).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), SkHGBR(**params).fit(X, y).predict(X), atol=1e-12)
    X2, y2 = np.array([-np.inf, 0, 1, np.inf]).reshape(-1, 1), np.array([0.0, 0, 1, 1])
    np.testing.assert_allclose(HistGradientBoostingRegressor(min_samples_leaf=1).fit(X2, y2).predict(X2), y2,
                               atol=1e-4)


def test_sklearn_loss_objects_and_predictor_view():
    """scikit-learn's loss objects are accepted as ``loss``; ``_predictors`` shows the trees as its TreePredictors."""
    from sklearn._loss.loss import HalfBinomialLoss, HalfSquaredError, PinballLoss

    X, y = _toy()
    a = HistGradientBoostingRegressor(loss=HalfSquaredError(), max_iter=5).fit(X, y)
    b = HistGradientBoostingRegressor(max_iter=5).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    q = HistGradientBoostingRegressor(loss=PinballLoss(quantile=0.8), max_iter=5).fit(X, y)
    np.testing.assert_array_equal(q.predict(X), HistGradientBoostingRegressor(
        loss="quantile", quantile=0.8, max_iter=5).fit(X, y).predict(X))
    yc = (y > np.median(y)).astype(int)
    HistGradientBoostingClassifier(loss=HalfBinomialLoss(), max_iter=3).fit(X, yc)
    est = HistGradientBoostingRegressor(max_iter=4, max_depth=2, min_samples_leaf=1).fit(X, y)
    sk = SkHGBR(max_iter=4, max_depth=2, min_samples_leaf=1).fit(X, y)
    assert len(est._predictors) == len(sk._predictors) == 4
    for ours_it, sk_it in zip(est._predictors, sk._predictors, strict=True):
        assert ours_it[0].get_max_depth() == sk_it[0].get_max_depth() == 2
        assert ours_it[0].get_n_leaf_nodes() == sk_it[0].get_n_leaf_nodes()
        assert ours_it[0].nodes.dtype.names == sk_it[0].nodes.dtype.names


def test_partial_validation_set_is_refused_first():
    X, y = _toy()
    with pytest.raises(ValueError, match="X_val is provided, but y_val was not provided"):
        HistGradientBoostingClassifier().fit(X[:2], np.array([1, 1]), X_val=X[2:4])
    with pytest.raises(ValueError, match=r"was not fitted on data with feature names\. Pass monotonic_cst as an "
                                         r"integer array instead"):
        HistGradientBoostingRegressor(monotonic_cst={"a": 1}).fit(X, y)
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1]})
    with pytest.raises(ValueError, match=r"monotonic_cst\['a'\] must be either -1, 0 or 1\. Got '\+'"):
        HistGradientBoostingRegressor(monotonic_cst={"b": -1, "a": "+"}).fit(df, y)


def test_categorical_feature_errors():
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    X = np.column_stack([np.arange(300.0), rng.normal(size=300)])
    with pytest.raises(ValueError, match=r"Categorical feature at index 0 is expected to have a cardinality <= 255 but actually has a cardinality of 300\."):
        HistGradientBoostingRegressor(categorical_features=[0]).fit(X, y)
    X[:, 0] %= 10
    with pytest.raises(ValueError, match=r"at index 0 is expected to have a cardinality <= 8 but actually has a cardinality of 10"):
        HistGradientBoostingRegressor(categorical_features=[0], max_bins=8).fit(X, y)
    with pytest.raises(ValueError, match=r"monotonic_cst is non-zero at categorical column\(s\) \[0\]"):
        HistGradientBoostingRegressor(categorical_features=[0], monotonic_cst=[1, 0]).fit(X, y)
    with pytest.raises(ValueError, match=r"at index 1 \(column 1\) holds the non-integer value"):
        HistGradientBoostingRegressor(categorical_features=[1]).fit(X, y)
    with pytest.raises(ValueError, match=r"categorical_features set as integer indices must be in \[0, n_features - 1\] = \[0, 1\]; got \[5\]"):
        HistGradientBoostingRegressor(categorical_features=[5]).fit(X, y)
    with pytest.raises(ValueError, match=r"boolean mask must have shape \(n_features,\), got: \(3,\) \(n_features = 2\)"):
        HistGradientBoostingRegressor(categorical_features=[True, False, True]).fit(X, y)


@pytest.mark.parametrize("cls", [HistGradientBoostingClassifier, HistGradientBoostingRegressor])
def test_negative_categories_are_missing_values_as_in_sklearn(cls):
    # scikit-learn's rule: a negative value in a categorical column is a missing value. toolbox applies it
    # in fit and in predict alike, so a model trained with -1 for missing is the model trained with NaN
    # (scikit-learn's predict reads a raw -1 as an unknown category instead of following the learned
    # missing-value direction), and that model matches scikit-learn's
    from sklearn.ensemble import HistGradientBoostingClassifier as SkC
    from sklearn.ensemble import HistGradientBoostingRegressor as SkR

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.random(600), rng.integers(0, 4, 600).astype(float)])
    y = (X[:, 1] % 2 == 0).astype(int)
    miss = rng.random(600) < 0.05
    X_nan, X_neg = X.copy(), X.copy()
    X_nan[miss, 1], X_neg[miss, 1] = np.nan, -1.0
    kw = dict(max_iter=10, categorical_features=[1], random_state=0)
    X_test = np.array([[0.5, -1.0], [0.5, np.nan], [0.5, -7.0], [0.5, 2.0], [0.5, 30.0], [0.5, 1.0]])
    by_nan = cls(**kw).fit(X_nan, y)._raw_predict(X_test)
    by_neg = cls(**kw).fit(X_neg, y)._raw_predict(X_test)
    ref = (SkC if cls is HistGradientBoostingClassifier else SkR)(**kw).fit(X_nan, y)._raw_predict(X_test)
    assert by_nan.shape == (6, 1)
    np.testing.assert_allclose(by_nan, ref, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(by_neg, by_nan)
    np.testing.assert_array_equal(by_nan[0], by_nan[1])  # -1, -7 and NaN alike at predict
    np.testing.assert_array_equal(by_nan[2], by_nan[1])


def test_constraint_errors():
    X, y = _toy()
    with pytest.raises(ValueError, match=r"got invalid indices: \[0, 7\] \(the entry 7"):
        HistGradientBoostingRegressor(interaction_cst=[[0, 7]]).fit(X, y)
    with pytest.raises(ValueError, match=r"the entry -1;"):
        HistGradientBoostingRegressor(interaction_cst=[[-1, 0]]).fit(X, y)
    with pytest.raises(ValueError, match=r"'pairwise', 'no_interactions'"):
        HistGradientBoostingRegressor(interaction_cst="all").fit(X, y)
    with pytest.raises(ValueError, match=r"monotonic_cst has shape \(2,\) .* 4 features"):
        HistGradientBoostingRegressor(monotonic_cst=[1, 0]).fit(X, y)
    with pytest.raises(ValueError, match=r"monotonic_cst must be an array-like of -1, 0 or 1"):
        HistGradientBoostingRegressor(monotonic_cst=[2, 0, 0, 0]).fit(X, y)
    with pytest.raises(ValueError, match=r"not supported for multiclass"):
        HistGradientBoostingClassifier(monotonic_cst=[1, 0, 0, 0]).fit(X, np.arange(len(X)) % 3)


def test_constraints_by_feature_name():
    pd = pytest.importorskip("pandas")
    X, y = _toy()
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match=r"got invalid indices: \['a', 'zz'\] \(the entry 'zz'"):
        HistGradientBoostingRegressor(interaction_cst=[["a", "zz"]]).fit(df, y)
    with pytest.raises(ValueError, match=r"monotonic_cst contains 1 unexpected feature names: \['zz'\]"):
        HistGradientBoostingRegressor(monotonic_cst={"zz": 1}).fit(df, y)
    by_name = HistGradientBoostingRegressor(max_iter=5, interaction_cst=[["a", "b"], ["c", "d"]],
                                            monotonic_cst={"a": 1}).fit(df, y)
    by_index = HistGradientBoostingRegressor(max_iter=5, interaction_cst=[[0, 1], [2, 3]],
                                             monotonic_cst=[1, 0, 0, 0]).fit(X, y)
    np.testing.assert_array_equal(by_name.predict(df), by_index.predict(X))


@pytest.mark.parametrize("cls", [HistGradientBoostingClassifier, HistGradientBoostingRegressor])
def test_early_stopping_with_too_few_samples_warns(cls):
    X, y = _toy(5)
    y = (np.arange(5) % 2) if cls is HistGradientBoostingClassifier else y
    if cls is HistGradientBoostingRegressor:  # 5 rows still split 4 / 1; 1 row cannot
        X, y = X[:1], y[:1]
    with pytest.warns(UserWarning, match=r"early_stopping: .* scoring on the training data instead"):
        est = cls(early_stopping=True, max_iter=4, n_iter_no_change=2).fit(X, y)
    assert est.validation_score_.shape == (0,)
    assert est.train_score_.shape == (est.n_iter_ + 1,)
    assert np.all(np.isfinite(est.train_score_))


def test_predict_errors():
    X, y = _toy()
    est = HistGradientBoostingRegressor(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match=r"X has 3 features, but HistGradientBoostingRegressor is expecting 4"):
        est.predict(X[:, :3])
    with pytest.raises(NotFittedError):
        HistGradientBoostingRegressor().predict(X)
    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(NotFittedError):
            getattr(HistGradientBoostingClassifier(), method)(X)
    with pytest.raises(NotFittedError):
        next(HistGradientBoostingClassifier().staged_predict_proba(X))


def test_warm_start_errors():
    X, y = _toy()
    est = HistGradientBoostingRegressor(max_iter=5, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"max_iter=2 must be larger than or equal to n_iter_=5"):
        est.set_params(max_iter=2).fit(X, y)
    clf = HistGradientBoostingClassifier(max_iter=3, warm_start=True).fit(X, y > 0)
    with pytest.raises(ValueError, match=r"labels not seen in the first fit"):
        clf.set_params(max_iter=5).fit(X, np.arange(len(y)) % 3)


@pytest.mark.parametrize("order", ["C", "F"])
def test_inputs_are_never_mutated(order):
    X, y = _with_categories(nan=True)
    X = np.asarray(X, order=order)
    w = _weights(len(y), zeros=True)
    copies = [a.copy() for a in (X, y, w)]
    kw = dict(max_iter=5, early_stopping=True, validation_fraction=0.2, random_state=0)
    HistGradientBoostingRegressor(**kw).fit(X, y, sample_weight=w).predict(X)
    HistGradientBoostingRegressor(categorical_features=[1, 3], loss="absolute_error", **kw).fit(
        X, y, sample_weight=w)
    yc = (y > np.median(y)).astype(np.int64)
    copies.append(yc.copy())
    HistGradientBoostingClassifier(class_weight="balanced", **kw).fit(X, yc, sample_weight=w).predict_proba(X)
    for a, b in zip((X, y, w, yc), copies, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dataframe_input_is_not_mutated():
    pd = pytest.importorskip("pandas")
    X, y = _toy()
    df = pd.DataFrame(X, columns=list("abcd"))
    before = df.copy()
    est = HistGradientBoostingRegressor(max_iter=5, random_state=0).fit(df, y)
    pd.testing.assert_frame_equal(df, before)
    np.testing.assert_allclose(est.predict(df), SkHGBR(max_iter=5, random_state=0).fit(df, y).predict(df),
                               rtol=RTOL)


def test_torch_input_is_not_mutated():
    torch = pytest.importorskip("torch")
    X, y = _toy()
    Xt = torch.asarray(X.T.copy()).T  # column-major strides: its host view is Fortran-ordered
    yt = torch.asarray(y)
    X0, y0 = Xt.clone(), yt.clone()
    HistGradientBoostingRegressor(max_iter=3).fit(Xt, yt)
    assert torch.equal(Xt, X0) and torch.equal(yt, y0)


def test_predictor_view_categorical_bitsets_match_sklearn():
    rng = np.random.RandomState(0)
    X = np.c_[rng.rand(1000), rng.randint(0, 10, 1000) * 2]
    y = np.isin(X[:, 1], [0, 4, 8]).astype(int)
    params = {"max_iter": 1, "max_depth": 1, "categorical_features": [1]}
    ours, theirs = HistGradientBoostingClassifier(**params).fit(X, y), SkHGBC(**params).fit(X, y)
    np.testing.assert_array_equal(ours._predictors[0][0].raw_left_cat_bitsets,
                                  theirs._predictors[0][0].raw_left_cat_bitsets)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_warm_up_compiles_what_a_fit_needs(task):
    # toolbox.fit runs warm_up on a helper thread before timing HGB trials: a fit after it must not
    # compile anything more (a compilation cannot be interrupted by the budget)
    pytest.importorskip("numba")
    from toolbox.ensemble._hist_gradient_boosting import (
        _binning_numba,
        _grower_numba,
        _loss_numba,
        _tree_numba,
    )
    from toolbox.ensemble._hist_gradient_boosting._warm import warm_up

    def signatures():
        out = set()
        for mod in (_binning_numba, _grower_numba, _loss_numba, _tree_numba):
            for name, obj in vars(mod).items():
                for sig in getattr(obj, "signatures", None) or ():
                    out.add((mod.__name__, name, str(sig)))
        return out

    warm_up(task)
    before = signatures()
    assert {"run_items", "lane_loop"} <= {name for _, name, _ in before}  # the helper-side kernels too
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 7)).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan
    z = X[:, 0] - X[:, 1]
    if task == "regression":
        est = HistGradientBoostingRegressor(max_iter=5, early_stopping=True)
        y = np.nan_to_num(z)
    else:
        est = HistGradientBoostingClassifier(max_iter=5, early_stopping=True)
        y = (np.nan_to_num(z) > 0).astype(int) + (np.nan_to_num(z) > 1) * (task == "multiclass")
    est.fit(X, y, sample_weight=rng.random(3000))
    est.predict(X)
    assert signatures() - before == set()
