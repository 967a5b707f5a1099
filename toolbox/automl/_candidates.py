"""The candidates :func:`toolbox.fit` tries: one registry entry per model family.

An entry (:class:`Candidate`) says which tasks the model fits, how to build
it from a parameter dict, which preprocessing it needs (``"linear"``,
``"tree"`` or none, see :class:`~toolbox.automl.FeaturePrep`), its search
space (declarative, so that portfolio trials can be handed to Optuna as
finished trials), a fixed portfolio of strong default configurations, a cost
rank (cheap first) and when it is usable (kNN is not tried on large data).
A new estimator joins the search by one :func:`register` call; nothing else
changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._labels import encode_labels
from ..base import BaseEstimator, ClassifierMixin, RegressorMixin, check_is_fitted, validate_data

__all__ = ["CANDIDATES", "Candidate", "ConstantModel", "Context", "Param", "candidates_for", "register"]


@dataclass(frozen=True)
class Param:
    """One dimension of a search space: ``kind`` is ``"float"``, ``"int"`` or ``"cat"``."""

    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple = ()

    def distribution(self) -> Any:
        """The Optuna distribution of this dimension."""
        import optuna

        if self.kind == "float":
            return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log)
        if self.kind == "int":
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), log=self.log)
        return optuna.distributions.CategoricalDistribution(list(self.choices))


@dataclass(frozen=True)
class Context:
    """What a candidate may depend on: the task and the shape of the encoded data."""

    task: str
    n_rows: int
    n_features: int
    n_categorical: int
    cardinalities: tuple[int, ...]
    n_classes: int
    seed: int


@dataclass(frozen=True)
class Candidate:
    """A model family in the search (see the module docstring)."""

    name: str
    tasks: frozenset[str]
    make: Callable[[dict, Context], Any]
    prep: str | None
    space: dict[str, Param] = field(default_factory=dict)
    portfolio: tuple[dict, ...] = ({},)
    cost: int = 0
    usable: Callable[[Context], bool] = lambda ctx: True
    #: reports per-iteration figures (toolbox._hooks.report_metric), so a deadline can stop its fit
    interruptible: bool = False
    #: one-time preparation per process and task (compiling kernels), run on a helper thread before
    #: the first timed trial (see :mod:`toolbox.automl._warm`)
    warm_up: Callable[[Context], None] | None = None


CANDIDATES: dict[str, Candidate] = {}


def register(candidate: Candidate) -> Candidate:
    """Add (or replace) a candidate; every later :func:`toolbox.fit` call considers it."""
    for params in candidate.portfolio:
        unknown = set(params) - set(candidate.space)
        if unknown:
            raise ValueError(f"portfolio entry {params} of {candidate.name!r} sets {sorted(unknown)}, "
                             "which are not in its search space.")
    CANDIDATES[candidate.name] = candidate
    return candidate


def candidates_for(ctx: Context) -> list[Candidate]:
    """Usable candidates for ``ctx.task``, cheapest first (the constant baseline excluded)."""
    out = [c for c in CANDIDATES.values() if ctx.task in c.tasks and c.name != "constant" and c.usable(ctx)]
    return sorted(out, key=lambda c: (c.cost, c.name))


# --------------------------------------------------------------------------- #
# the baseline
# --------------------------------------------------------------------------- #


class ConstantModel(BaseEstimator):
    """Predict the training mean (regression) or the class frequencies (classification).

    The fallback :func:`toolbox.fit` returns when no other candidate fits in
    the time budget, and the baseline of every leaderboard.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}, default="regression"

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    class_prior_ : array of shape (n_classes,)
    mean_ : 0-d array (regression)
    """

    def __init__(self, task: str = "regression") -> None:
        self.task = task

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor" if self.task == "regression" else "classifier"
        return tags

    def fit(self, X: Any, y: Any) -> ConstantModel:
        """Learn the mean or class frequencies of ``y`` (``X`` gives only the rows)."""
        v = validate_data(self, X, y, reset=True, allow_nan=True, y_numeric=self.task == "regression")
        xp = v.xp
        if self.task == "regression":
            self.mean_ = xp.mean(v.y)
        else:
            from ..backends import primitives

            self.classes_, codes = encode_labels(v.y, compute=v.compute, estimator_name="ConstantModel",
                                                 min_classes=1)
            codes = v.compute.asarray(codes)
            k = int(self.classes_.shape[0])
            counts = primitives.bincount(codes, length=k, xp=xp)
            self.class_prior_ = xp.astype(counts, v.X.dtype) / int(codes.shape[0])
        return self

    def predict_proba(self, X: Any) -> Any:
        """The class frequencies for every row, shape (n_samples, n_classes)."""
        check_is_fitted(self, "class_prior_")
        v = validate_data(self, X, reset=False, allow_nan=True)
        (prior,) = self._fitted(v.compute, "class_prior_", dtype=v.X.dtype)
        n = int(v.X.shape[0])
        return self._output(v.xp.broadcast_to(prior[None, :], (n, int(prior.shape[0]))), v.origin)

    def predict(self, X: Any) -> Any:
        """The mean, or the most frequent class, for every row."""
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, allow_nan=True)
        xp, n = v.xp, int(v.X.shape[0])
        if self.task == "regression":
            (mean,) = self._fitted(v.compute, "mean_", dtype=v.X.dtype)
            return self._output(xp.broadcast_to(mean, (n,)), v.origin)
        (prior,) = self._fitted(v.compute, "class_prior_")
        idx = xp.broadcast_to(xp.argmax(prior)[None], (n,))
        return ClassifierMixin._output_labels(self, idx, v.compute, v.origin)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classification) or R^2 (regression)."""
        mixin = RegressorMixin if self.task == "regression" else ClassifierMixin
        return mixin.score(self, X, y, sample_weight)


# --------------------------------------------------------------------------- #
# the registry
# --------------------------------------------------------------------------- #

_CLS = frozenset({"binary", "multiclass"})
_REG = frozenset({"regression"})
_ALL = _CLS | _REG


def _make_constant(p: dict, ctx: Context) -> Any:
    return ConstantModel(task=ctx.task)


def _make_logistic(p: dict, ctx: Context) -> Any:
    from ..linear_model import LogisticRegression

    return LogisticRegression(C=float(p["C"]), max_iter=300)


def _make_ridge(p: dict, ctx: Context) -> Any:
    from ..linear_model import Ridge

    return Ridge(alpha=float(p["alpha"]))


def _make_elastic_net(p: dict, ctx: Context) -> Any:
    from ..linear_model import ElasticNet

    return ElasticNet(alpha=float(p["alpha"]), l1_ratio=float(p["l1_ratio"]), max_iter=2000)


def _make_lda(p: dict, ctx: Context) -> Any:
    from ..discriminant_analysis import LinearDiscriminantAnalysis

    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage=float(p["shrinkage"]))


def _make_nb(p: dict, ctx: Context) -> Any:
    from ..naive_bayes import GaussianNB

    return GaussianNB(var_smoothing=float(p["var_smoothing"]))


def _make_knn(p: dict, ctx: Context) -> Any:
    from ..neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsRegressor if ctx.task == "regression" else KNeighborsClassifier
    k = max(1, min(int(p["n_neighbors"]), max(1, int(ctx.n_rows * 0.6))))
    return cls(n_neighbors=k, weights=str(p["weights"]))


def native_categoricals(ctx: Context) -> int:
    """How many leading columns of the tree-mode :class:`FeaturePrep` output are category codes."""
    from ._preprocess import _TREE_MAX_CATEGORIES

    return sum(1 for c in ctx.cardinalities if c <= _TREE_MAX_CATEGORIES)


def _make_hgb(p: dict, ctx: Context) -> Any:
    from ..ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if ctx.task == "regression" else HistGradientBoostingClassifier
    n_cat = native_categoricals(ctx)
    # "auto": scikit-learn's rule (early stopping above 10,000 rows only); "on": from 400 rows
    auto = p.get("early_stopping") == "auto"
    return cls(learning_rate=float(p["learning_rate"]), max_leaf_nodes=int(p["max_leaf_nodes"]),
               min_samples_leaf=int(p["min_samples_leaf"]), l2_regularization=float(p["l2_regularization"]),
               max_features=float(p["max_features"]), max_iter=int(p["max_iter"]),
               early_stopping=ctx.n_rows > 10_000 if auto else ctx.n_rows >= 400, n_iter_no_change=10 if auto else 15,
               validation_fraction=0.1,
               categorical_features=list(range(n_cat)) if n_cat else None, random_state=ctx.seed)


register(Candidate("constant", _ALL, _make_constant, prep=None, cost=0))
register(Candidate(
    "gaussian_nb", _CLS, _make_nb, prep="linear", cost=1,
    space={"var_smoothing": Param("float", 1e-12, 1e-1, log=True)},
    portfolio=({"var_smoothing": 1e-9}, {"var_smoothing": 1e-3})))
register(Candidate(
    "lda", _CLS, _make_lda, prep="linear", cost=1,
    space={"shrinkage": Param("float", 0.0, 0.9)},
    portfolio=({"shrinkage": 0.05}, {"shrinkage": 0.5})))
register(Candidate(
    "ridge", _REG, _make_ridge, prep="linear", cost=1,
    space={"alpha": Param("float", 1e-3, 1e4, log=True)},
    portfolio=({"alpha": 1.0}, {"alpha": 30.0}, {"alpha": 0.03})))
register(Candidate(
    "logistic", _CLS, _make_logistic, prep="linear", cost=2, interruptible=True,
    space={"C": Param("float", 1e-3, 1e3, log=True)},
    portfolio=({"C": 1.0}, {"C": 0.05}, {"C": 20.0})))
register(Candidate(
    "elastic_net", _REG, _make_elastic_net, prep="linear", cost=3,
    space={"alpha": Param("float", 1e-4, 10.0, log=True), "l1_ratio": Param("float", 0.05, 1.0)},
    portfolio=({"alpha": 1e-3, "l1_ratio": 0.5}, {"alpha": 0.05, "l1_ratio": 0.9})))
register(Candidate(
    "knn", _ALL, _make_knn, prep="linear", cost=4,
    space={"n_neighbors": Param("int", 1, 64, log=True), "weights": Param("cat", choices=("uniform", "distance"))},
    portfolio=({"n_neighbors": 15, "weights": "distance"}, {"n_neighbors": 5, "weights": "uniform"}),
    usable=lambda ctx: ctx.n_rows <= 30_000 and ctx.n_features <= 200))
_HGB_SPACE = {
    "learning_rate": Param("float", 0.01, 0.3, log=True),
    "max_leaf_nodes": Param("int", 4, 128, log=True),
    "min_samples_leaf": Param("int", 2, 100, log=True),
    "l2_regularization": Param("float", 1e-4, 10.0, log=True),
    "max_features": Param("float", 0.3, 1.0),
    "max_iter": Param("int", 50, 800, log=True),
    "early_stopping": Param("cat", choices=("on", "auto")),
}
def _warm_hgb(ctx: Context) -> None:
    from ..ensemble._hist_gradient_boosting._warm import warm_up

    warm_up(ctx.task)


register(Candidate(
    "hgb", _ALL, _make_hgb, prep="tree", cost=5, interruptible=True, space=_HGB_SPACE, warm_up=_warm_hgb,
    portfolio=(
        # scikit-learn's defaults first (l2 at the space's floor, 1e-4, instead of 0): the search moves
        # away from them only on a better cross-validated score
        {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20, "l2_regularization": 1e-4,
         "max_features": 1.0, "max_iter": 100, "early_stopping": "auto"},
        {"learning_rate": 0.05, "max_leaf_nodes": 15, "min_samples_leaf": 8, "l2_regularization": 0.1,
         "max_features": 0.8, "max_iter": 400, "early_stopping": "on"},
        {"learning_rate": 0.1, "max_leaf_nodes": 63, "min_samples_leaf": 40, "l2_regularization": 1.0,
         "max_features": 0.6, "max_iter": 300, "early_stopping": "on"},
        {"learning_rate": 0.03, "max_leaf_nodes": 127, "min_samples_leaf": 60, "l2_regularization": 3.0,
         "max_features": 0.5, "max_iter": 800, "early_stopping": "on"},
        {"learning_rate": 0.2, "max_leaf_nodes": 7, "min_samples_leaf": 4, "l2_regularization": 1e-4,
         "max_features": 1.0, "max_iter": 200, "early_stopping": "on"},
    )))


def make_pipeline(candidate: Candidate, params: dict, ctx: Context, encoder: Any = None) -> Any:
    """A scikit-learn ``Pipeline``: [TableEncoder,] [FeaturePrep,] model."""
    from sklearn.pipeline import Pipeline

    from ._preprocess import FeaturePrep

    steps = []
    if encoder is not None:
        steps.append(("encode", encoder))
    if candidate.prep is not None:
        steps.append(("prep", FeaturePrep(mode=candidate.prep, n_categorical=ctx.n_categorical,
                                          cardinalities=list(ctx.cardinalities), task=ctx.task,
                                          random_state=ctx.seed)))
    steps.append(("model", candidate.make(params, ctx)))
    return Pipeline(steps)
