"""The benchmark cases: one declarative spec per estimator.

Each :class:`Case` names the toolbox estimator and its scikit-learn
counterpart (same parameters), the data it runs on, the operation that is
timed and the quality figure computed for both libraries to check that they
gave the same answer. Sizes are those of issue 4's table, targets issue 16's (raised);
:func:`cases_for` scales them for the quick mode and adds the scaling sweep.

The gradient-boosting cases also name *peers* (LightGBM, XGBoost with the
equivalent parameters), timed beside scikit-learn on the NumPy rows, and a
peak-memory budget; the parameter mapping is documented in ``README.md``.

Nothing here times anything (see ``measure.py`` and ``test_matrix.py``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

__all__ = [
    "CASES",
    "GPU_ROWS",
    "QUALITY_RTOL",
    "SWEEP",
    "Case",
    "Data",
    "Dataset",
    "MemoryBudget",
    "Peer",
    "Size",
    "cases_for",
    "get_data",
    "quality",
]

#: "Same answer": the quality figures agree within this relative tolerance.
QUALITY_RTOL = 1e-3


@dataclass(frozen=True)
class Dataset:
    """What to generate: a kind, a shape and a dtype (the cache key)."""

    kind: str  # "regression" | "classification" | "binary" | "lowrank" | "blobs" | "neighbors"
    n_samples: int
    n_features: int
    n_queries: int = 0
    dtype: str = "float64"
    seed: int = 0

    @property
    def shape(self) -> str:
        q = f" (+{self.n_queries:,} queries)" if self.n_queries else ""
        return f"{self.n_samples:,} x {self.n_features}{q}"


@dataclass
class Data:
    """Host (NumPy) data for one dataset; ``init`` holds KMeans' initial centres."""

    X: np.ndarray
    y: np.ndarray | None = None
    X_query: np.ndarray | None = None
    y_query: np.ndarray | None = None
    init: np.ndarray | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: v for k, v in vars(self).items() if v is not None}


def _regression(ds: Dataset) -> Data:
    from sklearn.datasets import make_regression

    X, y = make_regression(ds.n_samples + ds.n_queries, ds.n_features, n_informative=10, noise=10.0,
                           random_state=ds.seed)
    n = ds.n_samples
    if ds.n_queries:  # held-out rows, from the same draw
        return Data(X[:n], y[:n], X[n:], y[n:])
    return Data(X, y)


def _classification(ds: Dataset) -> Data:
    from sklearn.datasets import make_classification

    X, y = make_classification(ds.n_samples + ds.n_queries, ds.n_features, n_informative=10,
                               n_redundant=5, n_classes=3, random_state=ds.seed)
    n = ds.n_samples
    if ds.n_queries:
        return Data(X[:n], y[:n], X[n:], y[n:])
    return Data(X, y)


def _binary(ds: Dataset) -> Data:
    """HIGGS-like: two classes, 28 dense features, a hard problem (label noise, classes close together)."""
    from sklearn.datasets import make_classification

    X, y = make_classification(ds.n_samples + ds.n_queries, ds.n_features, n_informative=14, n_redundant=4,
                               n_classes=2, flip_y=0.05, class_sep=0.8, random_state=ds.seed)
    n = ds.n_samples
    if ds.n_queries:
        return Data(X[:n], y[:n], X[n:], y[n:])
    return Data(X, y)


def _lowrank(ds: Dataset) -> Data:
    """Gaussian data with a decaying spectrum (a few strong directions, a long tail), rotated and offset.

    PCA and TruncatedSVD on isotropic data would have no well-defined leading
    components, so the quality check would compare noise.
    """
    rng = np.random.default_rng(ds.seed)
    d = ds.n_features
    k = np.arange(d)
    scale = 10.0 * np.exp(-((k / 5.0) ** 2)) + np.exp(-0.05 * k)
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    X = rng.standard_normal((ds.n_samples, d))
    X *= scale
    X = X @ rotation.T
    X += rng.uniform(-5.0, 5.0, size=d)
    return Data(X)


def _blobs(ds: Dataset) -> Data:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(ds.n_samples, ds.n_features, centers=8, random_state=ds.seed)
    rng = np.random.default_rng(ds.seed + 1)
    init = X[rng.choice(ds.n_samples, size=8, replace=False)].copy()
    return Data(X, y, init=init)


_GENERATORS: dict[str, Callable[[Dataset], Data]] = {
    "regression": _regression,
    "classification": _classification,
    "binary": _binary,
    "neighbors": _classification,
    "lowrank": _lowrank,
    "blobs": _blobs,
}

_CACHE: OrderedDict[Dataset, Data] = OrderedDict()
_CACHE_SIZE = 2  # tests are ordered case by case, so a small cache hits nearly always


def get_data(ds: Dataset) -> Data:
    """Generate ``ds`` once per session (a small LRU cache: large sizes do not pile up)."""
    if ds in _CACHE:
        _CACHE.move_to_end(ds)
        return _CACHE[ds]
    data = _GENERATORS[ds.kind](replace(ds, dtype="float64"))
    if ds.dtype != "float64":
        for name in ("X", "X_query", "init"):
            v = getattr(data, name)
            if v is not None:
                setattr(data, name, v.astype(ds.dtype))
    for name, v in data.arrays().items():
        setattr(data, name, np.ascontiguousarray(v))
    _CACHE[ds] = data
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return data


# ---------------------------------------------------------------- quality figures
# Each takes (fitted estimator, operation output, backend data dict, host Data, to_numpy)
# and returns a Python float; they run on the host, outside any timing.


def _q_r2(est, out, xb, data, to_numpy) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(data.y, to_numpy(est.predict(xb["X"]))))


def _q_log_loss(est, out, xb, data, to_numpy) -> float:
    from sklearn.metrics import log_loss

    proba = to_numpy(est.predict_proba(xb["X"])).astype(np.float64)
    return float(log_loss(data.y, proba, labels=np.unique(data.y)))


def _q_heldout_log_loss(est, out, xb, data, to_numpy) -> float:
    from sklearn.metrics import log_loss

    proba = to_numpy(est.predict_proba(xb["X_query"])).astype(np.float64)
    return float(log_loss(data.y_query, proba, labels=np.unique(data.y)))


def _q_heldout_rmse(est, out, xb, data, to_numpy) -> float:
    pred = to_numpy(est.predict(xb["X_query"])).astype(np.float64)
    return float(np.sqrt(np.mean((pred - data.y_query) ** 2)))


def _q_accuracy_train(est, out, xb, data, to_numpy) -> float:
    return float(np.mean(to_numpy(est.predict(xb["X"])) == data.y))


def _q_accuracy_query(est, out, xb, data, to_numpy) -> float:
    return float(np.mean(to_numpy(out) == data.y_query))


def _q_inertia(est, out, xb, data, to_numpy) -> float:
    return float(to_numpy(est.inertia_))


def _q_explained_variance(est, out, xb, data, to_numpy) -> float:
    return float(np.sum(to_numpy(est.explained_variance_ratio_)))


def _q_reconstruction(est, out, xb, data, to_numpy) -> float:
    V = to_numpy(est.components_).astype(np.float64)
    X = data.X.astype(np.float64)
    return float(np.linalg.norm(X - (X @ V.T) @ V) / np.linalg.norm(X))


def _q_mean_abs(est, out, xb, data, to_numpy) -> float:
    return float(np.mean(np.abs(to_numpy(out).astype(np.float64))))


#: name -> (function, description, higher_is_better)
QUALITY: dict[str, tuple[Callable[..., float], str, bool]] = {
    "r2": (_q_r2, "R^2 on the training data", True),
    "log_loss": (_q_log_loss, "log-loss on the training data", False),
    "heldout_log_loss": (_q_heldout_log_loss, "log-loss on held-out rows", False),
    "heldout_rmse": (_q_heldout_rmse, "RMSE on held-out rows", False),
    "accuracy": (_q_accuracy_train, "accuracy on the training data", True),
    "query_accuracy": (_q_accuracy_query, "accuracy of the predicted query labels", True),
    "inertia": (_q_inertia, "inertia_ (within-cluster sum of squares)", False),
    "explained_variance": (_q_explained_variance, "sum of explained_variance_ratio_", True),
    "reconstruction": (_q_reconstruction, "relative reconstruction error |X - X V'V| / |X|", False),
    "mean_abs": (_q_mean_abs, "mean |output| (the outputs are also compared element-wise)", True),
}


def quality(name: str, est: Any, out: Any, xb: dict, data: Data, to_numpy: Callable) -> float:
    return QUALITY[name][0](est, out, xb, data, to_numpy)


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Peer:
    """Another library's estimator timed beside scikit-learn on the NumPy rows (same data, same rounds).

    ``name`` is the import name and the key in the results (``"lightgbm"``, ``"xgboost"``); ``n_jobs`` is
    set to the number of cores at run time. A peer that is not installed is skipped with ``install`` as
    the hint.
    """

    name: str
    cls: str
    params: tuple[tuple[str, Any], ...]
    install: str

    @property
    def param_text(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.params] + ["n_jobs=<cores>"]
        return f"{self.cls}({', '.join(shown)})"

    def kwargs(self) -> dict[str, Any]:
        kw = dict(self.params)
        kw["n_jobs"] = os.cpu_count() or 1
        return kw

    def missing(self) -> str | None:
        """Why the peer cannot run here, or None."""
        if importlib.util.find_spec(self.name) is None:
            return f"{self.name} is not installed (pip install {self.install}, or the bench extra)"
        return None

    def peer_class(self) -> type:
        return getattr(importlib.import_module(self.name), self.cls)

    def version(self) -> str | None:
        return getattr(importlib.import_module(self.name), "__version__", None)


@dataclass(frozen=True)
class MemoryBudget:
    """A peak-memory budget for the toolbox run: ``per_element`` bytes x n_samples x n_features + ``fixed``."""

    per_element: float
    fixed: int

    def bytes(self, ds: Dataset) -> int:
        return int(self.per_element * ds.n_samples * ds.n_features + self.fixed)

    @property
    def text(self) -> str:
        return f"{self.per_element:g} x n_samples x n_features bytes + {self.fixed / 2**20:g} MiB"


@dataclass(frozen=True)
class Case:
    """One estimator of the targets table."""

    name: str
    module: str  # toolbox module; scikit-learn's is "sklearn" + module[len("toolbox"):]
    cls: str
    dataset: Dataset  # the table's size (full mode, CPU)
    op: str  # "fit" | "fit_transform" | "predict" (after an untimed fit)
    quality: str  # key of QUALITY
    target: float | None  # toolbox NumPy time / scikit-learn time, at the table's size
    params: tuple[tuple[str, Any], ...] = ()
    supervised: bool = True
    #: parameters taken from the data (converted to the backend): KMeans' initial centres
    data_params: tuple[str, ...] = ()
    #: compare the outputs element-wise too (deterministic transforms)
    compare_output: bool = False
    #: also run at the sweep's sizes (time against n)
    sweep: bool = False
    #: also run on the GPU backends (10^6 rows, float32)
    gpu: bool = True
    #: quick mode divides the sizes by QUICK_DIVISOR (False: small-data cases keep their size)
    quick_scale: bool = True
    #: counted in the targets table's geometric mean (issue 4's estimators; later families are shown
    #: beside it, not mixed into it)
    in_geomean: bool = True
    #: at most this many timed rounds (slow estimators), whatever the mode's time budget allows
    max_rounds: int | None = None
    #: measure peak memory on the CPU as the process's RSS for every library (numba's and C++ allocations
    #: bypass tracemalloc), rather than tracemalloc on the NumPy rows
    rss_memory: bool = False
    #: peak-memory budget of the toolbox operation on the CPU rows (None: none)
    memory_budget: MemoryBudget | None = None
    #: other libraries timed beside scikit-learn on the NumPy rows
    peers: tuple[Peer, ...] = ()
    #: target for toolbox time / ``peer_target_of``'s time (NumPy rows)
    peer_target: float | None = None
    peer_target_of: str | None = None

    @property
    def sklearn_module(self) -> str:
        return "sklearn" + self.module[len("toolbox"):]

    @property
    def param_text(self) -> str:
        shown = [f"{k}={v!r}" for k, v in self.params]
        shown += [f"{k}=<same {k} for both>" for k in self.data_params]
        return f"{self.cls}({', '.join(shown)})"

    def kwargs(self, data_params: dict[str, Any]) -> dict[str, Any]:
        kw = dict(self.params)
        kw.update(data_params)
        return kw

    def toolbox_class(self) -> type:
        """The toolbox class; raises ImportError/AttributeError when it is not there yet."""
        return getattr(importlib.import_module(self.module), self.cls)

    def sklearn_class(self) -> type:
        return getattr(importlib.import_module(self.sklearn_module), self.cls)


@dataclass(frozen=True)
class Size:
    """One benchmarked size of a case: the dataset and whether it is the table's size."""

    dataset: Dataset
    role: str  # "table" | "sweep" | "gpu"


_REG = Dataset("regression", 200_000, 100)
_CLF = Dataset("classification", 200_000, 50)
_LOW = Dataset("lowrank", 200_000, 100)
_BLOBS = Dataset("blobs", 200_000, 20)
_KNN = Dataset("neighbors", 50_000, 50, n_queries=2_000)

CASES: tuple[Case, ...] = (
    Case("LinearRegression", "toolbox.linear_model", "LinearRegression", _REG, "fit", "r2", 0.1, sweep=True),
    Case("Ridge", "toolbox.linear_model", "Ridge", _REG, "fit", "r2", 0.5),
    Case("Lasso", "toolbox.linear_model", "Lasso", _REG, "fit", "r2", 0.5, params=(("alpha", 1.0),)),
    Case("ElasticNet", "toolbox.linear_model", "ElasticNet", _REG, "fit", "r2", 0.5, params=(("alpha", 1.0),)),
    Case("LogisticRegression", "toolbox.linear_model", "LogisticRegression", _CLF, "fit", "log_loss", 0.2),
    Case("LinearDiscriminantAnalysis", "toolbox.discriminant_analysis", "LinearDiscriminantAnalysis", _CLF,
         "fit", "accuracy", 0.25),
    Case("GaussianNB", "toolbox.naive_bayes", "GaussianNB", _CLF, "fit", "accuracy", 0.15),
    Case("StandardScaler", "toolbox.preprocessing", "StandardScaler", _REG, "fit_transform", "mean_abs", 0.4,
         supervised=False, compare_output=True, sweep=True),
    Case("MinMaxScaler", "toolbox.preprocessing", "MinMaxScaler", _REG, "fit_transform", "mean_abs", 0.4,
         supervised=False, compare_output=True),
    Case("PCA", "toolbox.decomposition", "PCA", _LOW, "fit", "explained_variance", 0.8,
         params=(("n_components", 10),), supervised=False, sweep=True),
    Case("TruncatedSVD", "toolbox.decomposition", "TruncatedSVD", _LOW, "fit", "reconstruction", 0.1,
         params=(("n_components", 10), ("random_state", 0)), supervised=False),
    Case("KMeans", "toolbox.cluster", "KMeans", _BLOBS, "fit", "inertia", 0.5,
         params=(("n_clusters", 8), ("n_init", 1)), supervised=False, data_params=("init",), sweep=True),
    # memory by RSS: scikit-learn's search keeps its per-thread chunks in C++ buffers, which tracemalloc misses
    Case("KNeighborsClassifier", "toolbox.neighbors", "KNeighborsClassifier", _KNN, "predict", "query_accuracy",
         0.5, params=(("n_neighbors", 5),), rss_memory=True),
)

# ---------------------------------------------------------------- histogram gradient boosting
# scikit-learn's defaults made explicit (max_iter=100, learning_rate=0.1, max_leaf_nodes=31, max_depth=None,
# min_samples_leaf=20, l2_regularization=0, max_bins=255), no early stopping; random_state fixes the bin
# thresholds' subsample above 2*10^5 rows. The peers get the equivalent parameters (README.md).

_HGB_PARAMS = (("max_iter", 100), ("early_stopping", False), ("random_state", 0))

_LGBM = (("num_leaves", 31), ("max_depth", -1), ("learning_rate", 0.1), ("n_estimators", 100),
         ("max_bin", 255), ("min_child_samples", 20), ("min_child_weight", 1e-3), ("reg_lambda", 0.0),
         ("reg_alpha", 0.0), ("min_split_gain", 0.0), ("subsample", 1.0), ("subsample_freq", 0),
         ("colsample_bytree", 1.0), ("random_state", 0), ("verbose", -1))
_XGB = (("tree_method", "hist"), ("grow_policy", "lossguide"), ("max_leaves", 31), ("max_depth", 0),
        ("max_bin", 256), ("learning_rate", 0.1), ("n_estimators", 100), ("reg_lambda", 0.0),
        ("reg_alpha", 0.0), ("gamma", 0.0), ("subsample", 1.0), ("colsample_bytree", 1.0),
        ("random_state", 0), ("verbosity", 0))
_XGB_INSTALL = "xgboost-cpu (CPU-only wheel; xgboost pulls CUDA's NCCL on Linux)"

#: classifiers: min_child_weight = scikit-learn's min_hessian_to_split (1e-3); XGBoost has no
#: min-samples-per-leaf, so only the hessian bound carries over
HGB_CLASSIFIER_PEERS = (
    Peer("lightgbm", "LGBMClassifier", _LGBM, "lightgbm"),
    Peer("xgboost", "XGBClassifier", (*_XGB, ("min_child_weight", 1e-3)), _XGB_INSTALL),
)
#: regressors: squared error has hessian 1 per row, so XGBoost's min_child_weight=20 is exactly
#: min_samples_leaf=20 (and implies min_hessian_to_split=1e-3)
HGB_REGRESSOR_PEERS = (
    Peer("lightgbm", "LGBMRegressor", _LGBM, "lightgbm"),
    Peer("xgboost", "XGBRegressor", (*_XGB, ("min_child_weight", 20.0)), _XGB_INSTALL),
)
#: peak extra memory of fit on the CPU: 1.5 x n x d bytes (the uint8 bin codes and some) + 64 MiB
HGB_MEMORY_BUDGET = MemoryBudget(1.5, 64 * 2**20)
#: toolbox time / LightGBM time
HGB_PEER_TARGET = 1.1

#: HIGGS-like (10^6 x 28, two classes), with as many held-out rows: the fit's quality and predict's input
_HIGGS = Dataset("binary", 1_000_000, 28, n_queries=1_000_000)
_HGB_CLF = Dataset("classification", 100_000, 50, n_queries=25_000)
_HGB_REG = Dataset("regression", 100_000, 50, n_queries=25_000)


def _hgb(name: str, cls: str, ds: Dataset, op: str, target: float, **kw: Any) -> Case:
    clf = cls.endswith("Classifier")
    defaults: dict[str, Any] = dict(
        params=_HGB_PARAMS, in_geomean=False, rss_memory=True, gpu=False,
        memory_budget=HGB_MEMORY_BUDGET if op == "fit" else None,
        peers=HGB_CLASSIFIER_PEERS if clf else HGB_REGRESSOR_PEERS,
        peer_target=HGB_PEER_TARGET, peer_target_of="lightgbm")
    defaults.update(kw)
    return Case(name, "toolbox.ensemble", cls, ds, op, "heldout_log_loss" if clf else "heldout_rmse", target,
                **defaults)


HGB_CASES: tuple[Case, ...] = (
    _hgb("HistGradientBoostingClassifier", "HistGradientBoostingClassifier", _HIGGS, "fit", 0.7,
         gpu=True, max_rounds=2),
    _hgb("HistGradientBoostingClassifier_predict", "HistGradientBoostingClassifier", _HIGGS, "predict", 0.7,
         gpu=True, max_rounds=5),
    _hgb("HistGradientBoostingClassifier_3class", "HistGradientBoostingClassifier", _HGB_CLF, "fit", 0.8,
         max_rounds=2),
    _hgb("HistGradientBoostingRegressor", "HistGradientBoostingRegressor", _HGB_REG, "fit", 0.8, max_rounds=2),
    # small data: fixed overheads; quick mode keeps these sizes
    _hgb("HistGradientBoostingClassifier_1k", "HistGradientBoostingClassifier",
         replace(_HGB_CLF, n_samples=1_000, n_queries=250), "fit", 1.0, quick_scale=False),
    _hgb("HistGradientBoostingClassifier_10k", "HistGradientBoostingClassifier",
         replace(_HGB_CLF, n_samples=10_000, n_queries=2_500), "fit", 1.0, quick_scale=False, max_rounds=5),
    _hgb("HistGradientBoostingRegressor_1k", "HistGradientBoostingRegressor",
         replace(_HGB_REG, n_samples=1_000, n_queries=250), "fit", 1.0, quick_scale=False),
    _hgb("HistGradientBoostingRegressor_10k", "HistGradientBoostingRegressor",
         replace(_HGB_REG, n_samples=10_000, n_queries=2_500), "fit", 1.0, quick_scale=False, max_rounds=5),
)

CASES = CASES + HGB_CASES

def target_backend() -> str:
    """The backend id whose rows the targets apply to: the NumPy path as users get it by default.

    NumPy arrays under the default backend (``"auto"``) compute with NumPy plus numba kernels
    when numba is installed (it is in ``toolbox[all]``): the ``numba`` rows. Without numba,
    the pure NumPy rows.
    """
    return "numba" if importlib.util.find_spec("numba") is not None else "numpy"


#: The target for the geometric mean of the NumPy backend's ratios over the table.
GEOMEAN_TARGET = 0.25
#: torch-cpu and jax-cpu: geometric mean within this factor of the NumPy backend's.
BACKEND_FACTOR = 2.0

#: Rows of the scaling sweep (full mode); quick mode divides by 20.
SWEEP = (10_000, 100_000, 1_000_000)
#: Rows on GPU backends (float32), issue 4: 10^6 x 100.
GPU_ROWS = 1_000_000

MODES = ("quick", "full")
QUICK_DIVISOR = 20


def _scaled(ds: Dataset, n: int) -> Dataset:
    return replace(ds, n_samples=n)


def cases_for(mode: str, *, gpu: bool = False) -> list[tuple[Case, Size]]:
    """(case, size) pairs of a mode, in run order (a case's sizes together, so the data cache hits).

    ``gpu``: the sizes for a GPU backend (float32, 10^6 rows; quick: 1/20), for the cases with ``gpu``.
    Cases with ``quick_scale=False`` (small data) keep their size in quick mode.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {mode!r}")
    quick = mode == "quick"
    out: list[tuple[Case, Size]] = []
    for case in CASES:
        ds = case.dataset
        div = QUICK_DIVISOR if quick and case.quick_scale else 1
        if gpu:
            if not case.gpu:
                continue
            g = replace(ds, n_samples=GPU_ROWS // div, n_queries=ds.n_queries // div if ds.n_queries else 0,
                        dtype="float32")
            out.append((case, Size(g, "gpu")))
            continue
        table = replace(ds, n_samples=ds.n_samples // div, n_queries=ds.n_queries // div)
        sizes = [Size(table, "table")]
        if case.sweep:
            sizes += [Size(_scaled(ds, n // div), "sweep") for n in SWEEP]
        sizes.sort(key=lambda s: s.dataset.n_samples)
        out.extend((case, s) for s in sizes)
    return out
