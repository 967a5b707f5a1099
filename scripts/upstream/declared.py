"""The declared differences: the few ways toolbox differs from scikit-learn on purpose.

Each entry names a design decision (documented in docs/migrating-from-scikit-learn.md)
and the failures of scikit-learn's tests it explains, as a regular expression on
the failure's message (and optionally its exception class). The conformance
runner counts a failure that matches one as *declared* (still a failure);
every other failure is a bug. Keep the list short and honest: only decisions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Declared:
    id: str
    reason: str
    message: str  # regular expression searched in the failure's first message line
    exception: str | None = None  # exception class name, when it matters
    nodeid: str | None = None  # regular expression on the test id, when the message alone is too broad
    outside_toolbox: bool = False  # only when raised outside toolbox's code (by the test itself)
    buckets: tuple[str, ...] = ("unsupported",)  # the buckets it may explain (a refusal, by default)

    def matches(self, record: dict) -> bool:
        if self.nodeid is not None and not re.search(self.nodeid, record.get("nodeid", "")):
            return False
        if self.outside_toolbox and record.get("raised_in_toolbox"):
            return False
        inner = record.get("context") or {}  # the exception under pytest.raises / pytest.warns
        for exc, msg in ((record.get("exception"), record.get("message", "")),
                         (inner.get("exception"), inner.get("message", ""))):
            if (self.exception is None or exc == self.exception) and re.search(self.message, msg or ""):
                return True
        return False


DECLARED: tuple[Declared, ...] = (
    Declared(
        "nan-refused",
        "NaN is refused by every estimator except SimpleImputer and MissingIndicator, with the count and "
        "first position of the NaN (scikit-learn's scalers let NaN through); impute first.",
        r"Input \S+ contains \d+ NaN|contains NaN|NaN at row",
    ),
    Declared(
        "numeric-only",
        "Estimators take numeric data (numbers, numeric pandas columns); SimpleImputer and MissingIndicator "
        "too: strings, object and category columns, pd.NA and string missing_values are refused with a "
        "message (encode first).",
        r"toolbox estimators need numeric data|holds non-numeric values|parameter of (SimpleImputer|"
        r"MissingIndicator) must be an instance of 'float'|cannot be cast to the input data, which is numeric",
    ),
    Declared(
        "ridge-cholesky",
        "Ridge solves every solver name exactly (Cholesky on the Gram matrix): solver_ is 'cholesky' and "
        "n_iter_ None, whatever solver was asked for.",
        r"assert 'cholesky' == '|n_iter_ is None|None \(ACTUAL\), 1 \(DESIRED\)",
        nodeid=r"linear_model/tests/test_ridge\.py",
        buckets=("wrong-answer",),
    ),
    Declared(
        "sklearn-private-internals",
        "Tests that reach into scikit-learn's private methods (KMeans._init_centroids, HistGradientBoosting*."
        "_get_small_trainset, LogisticRegression._predict_proba_lr, ...) test its implementation, not its API; "
        "toolbox's implementation is its own (it does provide the private helpers code commonly calls: "
        "PolynomialFeatures._combinations / _num_combinations, HistGradientBoosting*._predictors).",
        r"has no attribute '_[a-z]",
        exception="AttributeError",
        outside_toolbox=True,
    ),
    Declared(
        "copy-false-not-in-place",
        "copy=False is accepted, but toolbox never modifies the caller's array: the result is a new array, "
        "so a test asserting that the output *is* the input fails.",
        r"^assert (array|<).* is (array|<)",
        buckets=("wrong-answer",),
    ),
    Declared(
        "copy-false-input-unchanged",
        "The same decision seen from the other side: after copy=False the caller's array is unchanged, so a "
        "test expecting the output's later edits to show in the input fails.",
        r"Arrays are not almost equal|assert np\.float64\(0\.0\) > |assert np\.False_",
        nodeid=r"test_imputation_copy|test_inplace_data_preprocessing|test_enet_copy_X_False_check_input_False",
        buckets=("wrong-answer",),
    ),
    Declared(
        "ridge-sparse-intercept",
        "Ridge fits sparse X with an intercept exactly whatever the solver name (centred implicitly in the normal "
        "equations), so scikit-learn's errors for solver='svd'/'cholesky'/'saga' there, and its warning that "
        "'sag' needs many iterations, do not apply.",
        r"DID NOT (RAISE|WARN)",
        nodeid=r"test_ridge_fit_intercept_sparse(_error|_sag)\[",
        buckets=("missing-warning-message",),
    ),
    Declared(
        "layout-free",
        "toolbox does not depend on memory layout: check_input=False with a C-ordered X works (scikit-learn's "
        "coordinate descent needs Fortran order there and raises).",
        r"DID NOT RAISE",
        nodeid=r"test_coordinate_descent\.py::test_check_input_false$",
        buckets=("missing-warning-message",),
    ),
    Declared(
        "exact-lasso-gap",
        "Lasso/ElasticNet finish with an exact solve on the active set: dual_gap_ is at rounding level (1e-16), "
        "where a relative comparison with the same gap computed by another formula compares two roundings.",
        r"Max absolute difference among violations: [0-9.]+e-1[5-7]",
        nodeid=r"test_coordinate_descent\.py::test_lasso_dual_gap$",
        buckets=("wrong-answer",),
    ),
    Declared(
        "mocks-sklearn-internals",
        "Tests that count calls of scikit-learn's private methods or module functions with mocks (HistGradient"
        "Boosting's _raw_predict, its module's check_scoring) test its implementation; toolbox's scorer reuses "
        "the raw predictions kept during fit instead.",
        r"\.call_count",
        nodeid=r"test_early_stopping_with_sample_weights|test_raw_predict_is_called_with_custom_scorer",
        buckets=("wrong-answer",),
    ),
    Declared(
        "fista-iterations",
        "Lasso/ElasticNet run accelerated proximal gradient (FISTA) on the Gram matrix, finished by an exact "
        "active-set solve, not coordinate descent: n_iter_ counts FISTA steps in chunks between duality-gap "
        "checks, and warm_start resumes from coef_ without the momentum, so iteration counts and max_iter-limited "
        "partial solutions differ (converged solutions agree).",
        r"Arrays are not almost equal|assert \d+ > \d+",
        nodeid=r"test_coordinate_descent\.py::test_warm_start(_convergence_with_regularizer_decrement)?$",
        buckets=("wrong-answer",),
    ),
    Declared(
        "tighter-optimum",
        "toolbox's logistic solvers converge to the optimum (exact active-set / Newton steps); tests that "
        "compare to 6 decimals with scikit-learn's solver stopped at tol=1e-4 see the difference of the two.",
        r"Arrays are not almost equal to 6 decimals",
        nodeid=r"test_logistic\.py::test_logistic_cv(_multinomial_score)?\[",
        buckets=("wrong-answer",),
    ),
    Declared(
        "deterministic-liblinear",
        "solver='liblinear' with dual=True is solved as its primal problem, deterministically: random_state "
        "does not change the result (liblinear's dual coordinate descent visits samples at random).",
        r"DID NOT RAISE",
        nodeid=r"test_logistic\.py::test_liblinear_dual_random_state",
        buckets=("missing-warning-message",),
    ),
    Declared(
        "single-class-refused",
        "Classifiers refuse a y with a single class with a clear ValueError (scikit-learn's "
        "HistGradientBoostingClassifier fits one and returns a two-column predict_proba for its one class).",
        r"contains only one class",
        nodeid=r"test_single_node_trees\[HistGradientBoostingClassifier",
        buckets=("internal-error", "unsupported"),
    ),
    Declared(
        "scorers-in-model-selection",
        "toolbox's check_scoring and get_scorer live in toolbox.model_selection (toolbox.metrics holds the "
        "metric functions only), so a test that keeps scikit-learn's check_scoring sees toolbox's metric "
        "functions as callables, which scikit-learn only recognises as metrics in its own modules.",
        r"DID NOT RAISE",
        nodeid=r"test_score_objects\.py::test_scoring_is_not_metric$",
        buckets=("missing-warning-message",),
    ),
    Declared(
        "neighbors-metrics",
        "KNeighbors* implement the Euclidean distance only (brute force, exact); other metrics, p != 2, "
        "callable metrics and metric_params raise, naming the metric.",
        r"(metric|metric_params).* (is|are) not supported by toolbox's KNeighbors",
    ),
)


def declared_for(record: dict) -> Declared | None:
    """The declared difference explaining a failed test's record, or None (a bug)."""
    for d in DECLARED:
        if record.get("bucket") in d.buckets and d.matches(record):
            return d
    return None
