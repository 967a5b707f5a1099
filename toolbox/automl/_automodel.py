"""``toolbox.fit`` and :class:`AutoModel`: from raw data to a tuned model within a time budget.

The steps of :meth:`AutoModel.fit`, all inside the budget: detect the task
(:mod:`._task`), read the column types and encode the table
(:class:`TableEncoder`), make the folds on the data's device, search
(:class:`._search.Search`), then refit the best trial on every row (or the
ensemble of trials :mod:`._ensemble` selected), compute permutation
importances on held-out rows, and finish the tracking run. See
``docs/fit.md``.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import os
import time
import warnings
from typing import Any

import numpy as np

from .._config import config_context, use_backend
from .._labels import encode_labels
from ..backends import Compute, float_dtype, framework_of, origin_of, resolve, to_backend
from ..base import BaseEstimator, ClassifierMixin, check_is_fitted
from ._budget import Budget
from ._candidates import CANDIDATES, Context, make_pipeline
from ._columns import TableEncoder
from ._ensemble import caruana
from ._leaderboard import Leaderboard
from ._metrics import get_metric
from ._progress import Progress
from ._search import Search, TrialResult
from ._task import TASKS, detect_task

__all__ = ["AutoModel", "fit"]

#: Set by :func:`fit` so that the budget counts from the call, not from inside the fit hooks.
_CALL_START: contextvars.ContextVar[float | None] = contextvars.ContextVar("toolbox_fit_start", default=None)

_MIN_ROWS = 4
_IMPORTANCE_ROWS = 2000


def _seed_of(random_state: Any) -> int:
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**31 - 1)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a NumPy random generator; got {random_state!r}.")


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        raise TypeError(f"X must be a DataFrame or a 2-D array; got {type(X).__name__}.") from None


def _describe_device(x: Any) -> tuple[str, str]:
    fw = framework_of(x)
    if fw is None:
        return "numpy", "cpu"
    return fw.name, fw.describe_device(fw.device_of(x))


def _on_cpu(x: Any) -> bool:
    return _describe_device(x)[1].startswith("cpu")


class AutoModel(BaseEstimator):
    """A model found by :func:`toolbox.fit`: the best pipeline (or an ensemble), with its search record.

    Parameters are those of :func:`toolbox.fit`.

    Attributes
    ----------
    task_ : {"binary", "multiclass", "regression"}
    task_reason_ : str
        Why, e.g. ``"y has 3 distinct integer values out of 1,500 rows"``.
    metric_ : str
        The metric optimized (``"roc_auc"``, ``"log_loss"``, ``"r2"``, ...).
    greater_is_better_ : bool
    classes_ : ndarray of shape (n_classes,)
        Classification only.
    best_estimator_ : sklearn.pipeline.Pipeline
        ``TableEncoder`` -> ``FeaturePrep`` -> model, refit on every row.
    best_params_ : dict
        ``{"model": name, **parameters}`` of the best trial.
    best_score_ : float
        Its cross-validated mean score.
    ensemble_ : dict or None
        ``{"members": [trial numbers], "weights": [...], "models": [pipelines], "score": ...}``
        when greedy ensemble selection beat the best single model, else None.
    leaderboard_ : Leaderboard
        Every trial (see :class:`toolbox.automl.Leaderboard`).
    feature_importances_ : ndarray of shape (n_features_in_,) or None
        Permutation importance of each input column on held-out rows (drop in
        the signed score); None when the budget left no time for it.
    feature_names_ : list of str
    dropped_columns_ : list of dict
        Columns the encoder dropped and why.
    run_id_ : str or None
        The tracking run, when ``track=True``.
    budget_ : dict
        Seconds spent per phase and why the search stopped.
    n_features_in_ : int
    """

    def __init__(self, task: str = "auto", metric: str = "auto", time_budget: float | None = 60.0,
                 max_trials: int | None = None, cv: Any = "auto", random_state: Any = None, backend: str | None = None,
                 n_jobs: int | None = None, categorical_features: Any = "auto", track: bool = True,
                 verbose: bool = True) -> None:
        self.task = task
        self.metric = metric
        self.time_budget = time_budget
        self.max_trials = max_trials
        self.cv = cv
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.categorical_features = categorical_features
        self.track = track
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        task = getattr(self, "task_", self.task)
        tags.estimator_type = ("regressor" if task == "regression"
                               else "classifier" if task in ("binary", "multiclass", "classification") else None)
        return tags

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        tb = self.time_budget
        if tb is not None and (not isinstance(tb, numbers.Real) or isinstance(tb, bool) or not tb > 0
                               or not math.isfinite(tb)):
            raise ValueError(f"time_budget must be a positive number of seconds or None; got {tb!r}.")
        mt = self.max_trials
        if mt is not None and (not isinstance(mt, numbers.Integral) or isinstance(mt, bool) or mt < 0):
            raise ValueError(f"max_trials must be a non-negative integer or None; got {mt!r}.")
        if tb is None and mt is None:
            raise ValueError("Give a time_budget (seconds) or max_trials; with neither the search would not end.")
        nj = self.n_jobs
        if nj is not None and (not isinstance(nj, numbers.Integral) or nj == 0):
            raise ValueError(f"n_jobs must be a non-zero integer or None; got {nj!r}.")
        if not isinstance(self.track, bool) or not isinstance(self.verbose, (bool, int)):
            raise TypeError("track and verbose must be booleans.")

    def _n_workers(self, on_cpu: bool) -> int:
        if not on_cpu:
            return 1  # one trial at a time per GPU
        nj = self.n_jobs
        if nj is None:
            return 1
        cores = os.cpu_count() or 1
        return max(1, cores + 1 + nj if nj < 0 else min(nj, cores * 4))

    def _folds(self, X: Any, y: Any, info: Any, seed: int, notes: list[str]) -> list:
        from ..model_selection import KFold, StratifiedKFold
        from ._preprocess import as_index

        n = int(X.shape[0])
        xp = framework_of(X).xp
        device = framework_of(X).device_of(X)
        if n < _MIN_ROWS:
            raise ValueError(f"toolbox.fit needs at least {_MIN_ROWS} rows to cross-validate; X has {n}.")
        cv = self.cv
        if not isinstance(cv, str) and hasattr(cv, "split"):
            folds = [(as_index(np.asarray(to_backend(tr, "numpy")), xp, device) if framework_of(tr) is not
                      framework_of(X) else tr,
                      as_index(np.asarray(to_backend(te, "numpy")), xp, device) if framework_of(te) is not
                      framework_of(X) else te) for tr, te in cv.split(X, y)]
            if len(folds) < 1:
                raise ValueError("cv produced no folds.")
            return folds
        if isinstance(cv, str) and cv == "auto":
            k = 5 if n < 20_000 else 3
        elif isinstance(cv, numbers.Integral) and not isinstance(cv, bool) and cv >= 2:
            k = int(cv)
        else:
            raise ValueError(f"cv must be 'auto', an integer >= 2 or a splitter with a split method; got {cv!r}.")
        if n < 2 * k:
            k2 = max(2, n // 2)
            if k2 < k:
                msg = f"{n} rows are too few for {k} folds: using {k2} folds."
                warnings.warn(msg, UserWarning, stacklevel=4)
                notes.append(msg)
                k = k2
        if info.task != "regression":
            counts = np.asarray(to_backend(self._class_counts(y, info), "numpy")).astype(np.int64)
            order = np.argsort(counts, kind="stable")
            m = int(counts[order[0]])
            if m < k:
                label = info.classes[order[0]]
                if m >= 2:
                    msg = (f"class {label!r} has only {m} rows: using {m} folds instead of {k} so that every "
                           "validation fold holds it.")
                    k = m
                else:
                    singles = [repr(info.classes[i]) for i in order if counts[i] == 1]
                    msg = (f"class(es) {', '.join(singles[:5])} have a single row: each is in one validation fold "
                           "and absent from that fold's training rows (scores there ignore it); add rows of it "
                           "for a reliable estimate.")
                    second = int(counts[order[1]]) if counts.size > 1 else m
                    k = max(2, min(k, second)) if second >= 2 else 2
                warnings.warn(msg, UserWarning, stacklevel=4)
                notes.append(msg)
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return list(splitter.split(X, y))
        return list(KFold(n_splits=k, shuffle=True, random_state=seed).split(X))

    @staticmethod
    def _class_counts(codes: Any, info: Any) -> Any:
        from ..backends import primitives

        xp = framework_of(codes).xp
        return primitives.bincount(codes, length=len(info.classes), xp=xp)

    # --------------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any) -> AutoModel:
        """Search for the best model of ``y`` given ``X`` within the budget; return self.

        Parameters
        ----------
        X : DataFrame or array of shape (n_samples, n_features)
            pandas (numbers, categories, text labels, booleans, dates, NaN for
            missing), NumPy, torch, JAX or CuPy arrays. Never modified.
        y : array-like of shape (n_samples,)
            Never modified.
        """
        start = _CALL_START.get()
        _CALL_START.set(None)
        budget = Budget(None if self.time_budget is None else float(self.time_budget),
                        start if start is not None else time.perf_counter())
        self._check_params()
        ctx = use_backend(self.backend) if self.backend is not None else contextlib.nullcontext()
        with ctx:
            return self._fit(X, y, budget)

    def _fit(self, X: Any, y: Any, budget: Budget) -> AutoModel:
        notes: list[str] = []
        n = _n_rows(X)
        info = detect_task(y, task=self.task, n_rows=n)
        metric = get_metric(self.metric, info.task)
        seed = _seed_of(self.random_state)
        t_prep = time.perf_counter()
        encoder = TableEncoder(categorical_features=self.categorical_features)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            encoder.fit(X)
        for w in caught:
            warnings.warn(str(w.message), w.category, stacklevel=3)
            notes.append(str(w.message))
        Xe = encoder.transform(X)
        compute = resolve(Xe)
        Xe = compute.asarray(Xe)
        Xe = compute.xp.astype(Xe, float_dtype(Xe, xp=compute.xp, device=compute.device))
        xp = compute.xp
        if info.task == "regression":
            y_fit = compute.asarray(info.y)
            y_fit = xp.astype(y_fit, Xe.dtype)
            y_refit = y_fit
            k = 0
        else:
            classes, codes = encode_labels(info.y, compute=compute, estimator_name="toolbox.fit")
            y_fit = compute.asarray(codes)
            y_refit = info.y
            k = int(classes.shape[0])
            self.classes_ = info.classes
        folds = self._folds(Xe, y_fit, info, seed, notes)
        prep_time = time.perf_counter() - t_prep
        backend_name, device_name = _describe_device(Xe)
        ctx = Context(task=info.task, n_rows=n, n_features=int(Xe.shape[1]), n_categorical=encoder.n_categorical_,
                      cardinalities=tuple(encoder.cardinalities_), n_classes=k, seed=seed)

        progress = Progress(bool(self.verbose), budget, metric)
        progress.line(f"toolbox.fit: {info.task} ({info.reason}); metric {metric.name}; {len(folds)}-fold CV; "
                      f"{n:,} rows x {encoder.n_features_in_} columns on {backend_name} {device_name}"
                      + (f"; budget {budget.seconds:g}s" if budget.limited else ""))
        if encoder.dropped_:
            progress.line("  dropped: " + ", ".join(f"{d['name']} ({d['reason']})" for d in encoder.dropped_))

        recorder = None
        if self.track:
            from ..tracking import active_run
            from ._tracking import Recorder

            parent = active_run()
            recorder = Recorder(
                "toolbox.fit", f"fit-{info.task}",
                params={"task": info.task, "metric": metric.name, "time_budget": self.time_budget,
                        "max_trials": self.max_trials, "cv_folds": len(folds), "random_state": self.random_state,
                        "n_rows": n, "n_columns": encoder.n_features_in_, "backend": backend_name,
                        "device": device_name},
                tags={"toolbox.fit.task_reason": info.reason}, parent=parent)

        n_groups = sum(1 for c in encoder.columns_ if c["kind"] != "dropped")
        imp_rows = min(_IMPORTANCE_ROWS, int(folds[0][1].shape[0]))

        def importance_cost(r: TrialResult) -> float:
            return r.predict_per_row * imp_rows * (n_groups + 1) * 1.3

        def reserve() -> float:
            best = search.ok()
            tail = Budget.FIXED_TAIL + (recorder.pending_seconds() + 0.03 if recorder is not None else 0.0)
            if not best:
                return tail
            b = best[0]
            # importances are worth at most a tenth of the budget; without time for them they are skipped
            imp = min(importance_cost(b), 0.1 * budget.seconds) if budget.limited else 0.0
            margin = 0.02 + 0.02 * budget.seconds if budget.limited else 0.0  # the last batch's overrun
            return search.refit_estimate(b) * 1.6 + imp + tail + margin

        def on_result(r: TrialResult) -> None:
            progress.update(r)
            if recorder is not None:
                recorder.trial(self._row(r, 0, backend_name, device_name, metric))

        search = Search(Xe, y_fit, folds, ctx, metric, budget, self.max_trials,
                        self._n_workers(_on_cpu(Xe)), seed, on_result=on_result, reserve=reserve)
        t_search = time.perf_counter()
        try:
            with config_context(cache=False, autolog=False):
                search.run()
                search_time = time.perf_counter() - t_search
                t_final = time.perf_counter()
                self._finalize(search, encoder, Xe, y_refit, ctx, metric, budget, recorder, importance_cost, notes)
        finally:
            progress.close()
        final_time = time.perf_counter() - t_final

        self.task_ = info.task
        self.task_reason_ = info.reason
        self.metric_ = metric.name
        self.greater_is_better_ = metric.greater_is_better
        self.encoder_ = encoder
        self.dropped_columns_ = list(encoder.dropped_)
        self.n_features_in_ = encoder.n_features_in_
        self.feature_names_ = [str(v) for v in encoder.feature_names_in_] if hasattr(encoder, "feature_names_in_") \
            else [f"x{j}" for j in range(encoder.n_features_in_)]
        self.cv_folds_ = len(folds)
        self.backend_, self.device_ = backend_name, device_name
        self.notes_ = notes
        rank = {r.number: i + 1 for i, r in enumerate(search.ok())}
        rows = [self._row(r, rank.get(r.number), backend_name, device_name, metric) for r in self._ordered(search)]
        self._leaderboard = rows
        self.n_trials_ = len(rows)
        self.budget_ = {"time_budget": self.time_budget, "prepare_s": prep_time, "search_s": search_time,
                        "final_s": final_time, "stopped_because": search.stopped_because}
        progress.line(self._summary_line(budget))
        if recorder is not None:
            self._finish_tracking(recorder, budget, rows, metric)
        else:
            self.run_id_ = None
        self.budget_["total_s"] = budget.elapsed()
        return self

    # ------------------------------------------------------------ final phase
    def _finalize(self, search: Search, encoder: TableEncoder, Xe: Any, y_refit: Any, ctx: Context, metric: Any,
                  budget: Budget, recorder: Any, importance_cost: Any, notes: list[str]) -> None:
        from sklearn.pipeline import Pipeline

        ranked = search.ok()
        if not ranked:
            raise RuntimeError("Every candidate failed, the constant baseline included: "
                               + "; ".join(f"{r.model}: {r.message}" for r in search.results[:3]))
        best = ranked[0]
        if best.model == "constant" or len(ranked) == 1:
            msg = ("the time budget left no time for any model beyond the constant baseline; returning it"
                   if budget.limited and len([r for r in search.results if r.source != "baseline"]) == 0
                   else "no candidate beat the constant baseline; returning it")
            if best.model == "constant":
                warnings.warn(f"toolbox.fit: {msg} (time_budget={self.time_budget}).", UserWarning, stacklevel=4)
                notes.append(msg)
        # the tracking record comes last: it may use the slack the budget rule allows (5% + 0.25 s)
        tail = Budget.FIXED_TAIL + (0.03 if recorder is not None else 0.0)

        def room() -> float:
            return budget.remaining() - tail if budget.limited else math.inf

        # ensemble selection on out-of-fold predictions
        pool = [r for r in ranked[:10] if r.oof is not None and r.model != "constant"]
        members: list[tuple[TrialResult, int]] = [(best, 1)]
        ens_score = None
        if len(pool) >= 2 and best.model != "constant" and room() > search.refit_estimate(best) * 2:
            counts, ens, single = caruana(metric, search.oof_y, [r.oof for r in pool], search.fold_bounds,
                                          ctx.n_classes, deadline=budget.end - tail - search.refit_estimate(best)
                                          if budget.limited else None)
            chosen = [(pool[i], c) for i, c in sorted(counts.items())]
            refit_all = sum(search.refit_estimate(r) for r, _ in chosen)
            if len(chosen) > 1 and metric.signed(ens) > metric.signed(single) + 1e-6 and refit_all < room() * 0.8:
                members, ens_score = chosen, ens
        # refit on every row (or, when even that does not fit, the best trial's fold models)
        self.refit_ = "full"
        models = []
        if budget.limited and search.refit_estimate(best) > room() and best.fold_models is not None:
            models = [m for m in best.fold_models]
            weights = [1.0 / len(models)] * len(models)
            self.refit_ = "fold models (no time to refit)"
            notes.append("the refit on all rows did not fit in the budget: the fold models are averaged")
            members = [(best, 1)]
        else:
            weights = []
            for r, c in members:
                pipe = make_pipeline(CANDIDATES[r.model], r.params, _ctx_for(ctx, r))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pipe.fit(Xe, y_refit)
                models.append(pipe)
                weights.append(float(c))
            total = sum(weights)
            weights = [w / total for w in weights]
        full = [Pipeline([("encode", encoder), *m.steps]) for m in models]
        self.best_estimator_ = full[0]
        self.best_params_ = {"model": best.model, **best.params}
        self.best_score_ = best.mean
        if len(full) > 1:
            self.ensemble_ = {"members": [r.number for r, _ in members] if self.refit_ == "full" else
                              [best.number] * len(full), "weights": weights, "models": full,
                              "score": ens_score if ens_score is not None else best.mean,
                              "kind": "caruana" if self.refit_ == "full" else "fold_average"}
        else:
            self.ensemble_ = None
        # permutation importances on the best trial's first validation fold
        self.feature_importances_ = None
        if best.fold_models is not None and (not budget.limited or importance_cost(best) < room()):
            self.feature_importances_ = self._importances(search, best, encoder, metric, ctx)
        elif best.model != "constant":
            notes.append("no time was left for permutation importances")

    def _importances(self, search: Search, best: TrialResult, encoder: TableEncoder, metric: Any,
                     ctx: Context) -> np.ndarray:
        from ..backends import Generator
        from ._preprocess import as_index

        _, _, X_te, y_te = search.fold(0)
        xp = search.xp
        device = framework_of(X_te).device_of(X_te)
        m = min(_IMPORTANCE_ROWS, int(X_te.shape[0]))
        X_te, y_te = X_te[:m, ...], y_te[:m]
        model = best.fold_models[0]
        base = metric.signed(metric(y_te, search.predict(model, X_te), ctx.n_classes))
        perm = Generator(ctx.seed, xp=xp, device=device).permutation(m)
        perm = xp.astype(perm, xp.take(as_index([0], xp, device), as_index([0], xp, device)).dtype)
        shuffled = xp.take(X_te, perm, axis=0)
        groups = np.asarray(encoder.groups_)
        out = np.zeros(encoder.n_features_in_, dtype=np.float64)
        for j in sorted(set(groups.tolist())):
            mask = xp.asarray((groups == j).tolist(), device=device)
            Xp = xp.where(mask[None, :], shuffled, X_te)
            out[j] = base - metric.signed(metric(y_te, search.predict(model, Xp), ctx.n_classes))
        return out

    def _finish_tracking(self, recorder: Any, budget: Budget, rows: list[dict], metric: Any) -> None:
        limit = (budget.end + 0.04 * budget.seconds + 0.15) if budget.limited else math.inf
        recorder.wait_ready(max(0.0, min(limit - time.perf_counter(), 30.0)))
        self.run_id_ = recorder.run_id
        payload = {"leaderboard": rows,
                   "metrics": {"best_score": float(self.best_score_), "n_trials": float(len(rows)),
                               "elapsed_s": float(budget.elapsed())},
                   "tags": {"toolbox.fit.best_model": self.best_params_["model"],
                            "toolbox.fit.stopped_because": self.budget_["stopped_because"]},
                   "model": self}
        timeout = None if not budget.limited else max(0.0, limit - time.perf_counter())
        if not recorder.finish(payload, timeout):
            self.notes_.append("the tracking run was still being written when fit returned")
        if recorder.error:
            self.notes_.append(f"tracking: {recorder.error}")
            warnings.warn(f"toolbox.fit could not record the run completely: {recorder.error}", UserWarning,
                          stacklevel=4)

    # ---------------------------------------------------------------- rows
    @staticmethod
    def _ordered(search: Search) -> list[TrialResult]:
        ok = search.ok()
        others = [r for r in search.results if r.status != "ok"]
        others.sort(key=lambda r: (r.status != "pruned", r.number))
        return ok + others

    @staticmethod
    def _row(r: TrialResult, rank: int | None, backend: str, device: str, metric: Any) -> dict:
        def num(v: float) -> float | None:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

        done = r.status == "ok"
        return {"rank": rank, "trial": r.number, "model": r.model,
                "params": {k: (v.item() if hasattr(v, "item") else v) for k, v in r.params.items()},
                "score_mean": num(r.mean) if done else None, "score_std": num(r.std) if done else None,
                "fold_scores": [float(s) for s in r.fold_scores], "fit_time": float(r.fit_time),
                "predict_time_per_1k": num(r.predict_per_1k), "backend": backend, "device": device,
                "status": r.status, "message": r.message, "source": r.source}

    def _summary_line(self, budget: Budget) -> str:
        ens = ""
        if self.ensemble_ is not None:
            ens = f"; ensemble of {len(self.ensemble_['models'])} ({self.ensemble_['score']:.4f})"
        return (f"toolbox.fit: best {self.best_params_['model']} {self.metric_} {self.best_score_:.4f}{ens}; "
                f"{len(self._leaderboard)} trials in {budget.elapsed():.2f}s "
                f"(stopped: {self.budget_['stopped_because'] or 'done'})")

    # ------------------------------------------------------------ predicting
    @property
    def leaderboard_(self) -> Leaderboard:
        """Every trial, best first (a :class:`toolbox.automl.Leaderboard`)."""
        check_is_fitted(self, "best_estimator_")
        return Leaderboard(self._leaderboard, self.metric_, self.greater_is_better_)

    def _models(self) -> tuple[list[Any], list[float]]:
        if self.ensemble_ is not None:
            return self.ensemble_["models"], self.ensemble_["weights"]
        return [self.best_estimator_], [1.0]

    def _backend_ctx(self) -> Any:
        return use_backend(self.backend) if self.backend is not None else contextlib.nullcontext()

    def _encoded(self, X: Any) -> Any:
        return self.encoder_.transform(X)

    @staticmethod
    def _rest(pipe: Any, Xe: Any) -> tuple[Any, Any]:
        """Apply the steps after the encoder but the last; return (Xt, final model)."""
        Xt = Xe
        for _, step in pipe.steps[1:-1]:
            Xt = step.transform(Xt)
        return Xt, pipe.steps[-1][1]

    def _proba(self, Xe: Any) -> Any:
        models, weights = self._models()
        total = None
        k = len(self.classes_)
        for pipe, w in zip(models, weights):
            Xt, model = self._rest(pipe, Xe)
            p = model.predict_proba(Xt)
            if int(p.shape[1]) != k:
                xp = framework_of(p).xp
                cl = model.classes_
                cl = np.asarray(to_backend(cl, "numpy")) if framework_of(cl) is not None else np.asarray(cl)
                idx = np.asarray(cl).astype(np.int64)  # fold models (refit_ != "full") learned class codes
                E = np.zeros((len(cl), k))
                E[np.arange(len(cl)), idx] = 1.0
                p = p @ xp.asarray(E, dtype=p.dtype, device=p.device)
            total = p * w if total is None else total + p * w
        return total

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes) in ``classes_`` order, mirroring ``X``."""
        check_is_fitted(self, "best_estimator_")
        if self.task_ == "regression":
            raise AttributeError("predict_proba is available for classification only; this model is a regression.")
        with self._backend_ctx():
            p = self._proba(self._encoded(X))
        return self._output(p, origin_of(X))

    def predict(self, X: Any) -> Any:
        """Predicted labels (classification) or values, mirroring ``X``'s library and device."""
        check_is_fitted(self, "best_estimator_")
        origin = origin_of(X)
        with self._backend_ctx():
            Xe = self._encoded(X)
            models, weights = self._models()
            if self.task_ == "regression":
                total = None
                for pipe, w in zip(models, weights):
                    Xt, model = self._rest(pipe, Xe)
                    p = model.predict(Xt)
                    total = p * w if total is None else total + p * w
                return self._output(total, origin)
            if len(models) == 1 and self.refit_ == "full":
                Xt, model = self._rest(models[0], Xe)
                labels = model.predict(Xt)
                if isinstance(labels, np.ndarray) and labels.dtype.kind not in "biuf":
                    return labels
                return self._output(labels, origin)
            p = self._proba(Xe)
            fw = framework_of(p)
            idx = fw.xp.argmax(p, axis=1)
            return ClassifierMixin._output_labels(self, idx, Compute(fw.xp, fw.device_of(p), fw.name, fw), origin)

    def score(self, X: Any, y: Any) -> float:
        """The fitted metric on ``(X, y)``, signed so that higher is better (a log-loss comes back negative)."""
        check_is_fitted(self, "best_estimator_")
        metric = get_metric(self.metric_, self.task_)
        with self._backend_ctx():
            Xe = self._encoded(X)
            if self.task_ == "regression":
                pred = self.predict(X)
                fw = framework_of(pred)
                yt = to_backend(np.asarray(y) if framework_of(y) is None else y, fw.name, fw.device_of(pred))
                return metric.signed(metric(fw.xp.astype(yt, pred.dtype), pred))
            p = self._proba(Xe)
            fw = framework_of(p)
            from ._task import as_target_array

            yh = as_target_array(y)
            yh = np.asarray(to_backend(yh, "numpy")) if framework_of(yh) is not None else yh
            classes = np.asarray(self.classes_)
            codes = np.searchsorted(classes, yh) if classes.dtype.kind != "O" else \
                np.asarray([{c: i for i, c in enumerate(classes.tolist())}.get(v, -1) for v in yh.tolist()])
            codes = np.clip(codes, 0, len(classes) - 1)
            if np.any(classes[codes] != yh):
                raise ValueError("y holds labels the model never saw at fit.")
            yc = fw.xp.asarray(codes.tolist(), device=fw.device_of(p))
            return metric.signed(metric(yc, p, len(classes)))

    # ------------------------------------------------------------ reporting
    def report(self) -> str:
        """A short readable summary: task and why, data, dropped columns, search, best model, budget."""
        from ._report import report

        check_is_fitted(self, "best_estimator_")
        return report(self)

    def save(self, path: str | os.PathLike) -> None:
        """Save with :func:`toolbox.save` (safetensors + JSON, no pickle); load with :func:`toolbox.load`."""
        from .. import io

        check_is_fitted(self, "best_estimator_")
        io.save(self, path)


def _ctx_for(ctx: Context, r: TrialResult) -> Context:
    import dataclasses

    return dataclasses.replace(ctx, seed=r.seed)


def fit(X: Any, y: Any, *, task: str = "auto", metric: str = "auto", time_budget: float | None = 60.0,
        max_trials: int | None = None, cv: Any = "auto", random_state: Any = None, backend: str | None = None,
        n_jobs: int | None = None, categorical_features: Any = "auto", track: bool = True,
        verbose: bool = True) -> AutoModel:
    """From raw data to a tuned model in one call, within ``time_budget`` seconds, where the data lives.

    Parameters
    ----------
    X : DataFrame or array of shape (n_samples, n_features)
        pandas (numbers, categories, text labels, booleans, dates; NaN for
        missing values), NumPy, torch, JAX or CuPy. Never modified.
    y : array-like of shape (n_samples,)
        The target. Never modified.
    task : {"auto", "binary", "multiclass", "classification", "regression"}, default="auto"
        "auto" decides from ``y`` and records why in ``task_reason_``.
    metric : str, default="auto"
        ROC AUC (binary), log-loss (multiclass), R^2 (regression), or any of
        :func:`toolbox.automl.metric_names`.
    time_budget : float or None, default=60.0
        Seconds for the whole call (inference of types, search, refit,
        ensembling and the tracking record); it returns within
        ``1.05 * time_budget + 0.25`` s. None: no limit (give ``max_trials``).
    max_trials : int, optional
        Trials beyond the constant baseline. With ``random_state`` and
        ``time_budget=None`` two runs give the same leaderboard and
        bit-identical predictions whatever ``n_jobs``.
    cv : "auto", int or splitter, default="auto"
        "auto": 5 folds (3 from 20,000 rows), stratified for classification.
    random_state : int, optional
    backend : str, optional
        Compute on this backend (``"torch"``, ``"jax"``, ...) instead of where X lives.
    n_jobs : int, optional
        Trials run concurrently on the CPU path (-1: all cores); one at a time on a GPU.
    categorical_features : "auto", None, list of names or indices, or boolean mask
        Columns to treat as categorical besides those whose dtype says so.
    track : bool, default=True
        Record a tracking run (experiment ``"toolbox.fit"``) with a child run per trial.
    verbose : bool, default=True
        Print the task decision and progress (live on a terminal).

    Returns
    -------
    AutoModel
        Fitted; see its attributes (``leaderboard_``, ``best_estimator_``, ``report()``...).
    """
    if task not in ("auto", "classification", *TASKS):
        raise ValueError(f"task must be 'auto', 'binary', 'multiclass', 'classification' or 'regression'; "
                         f"got {task!r}.")
    token = _CALL_START.set(time.perf_counter())
    try:
        model = AutoModel(task=task, metric=metric, time_budget=time_budget, max_trials=max_trials, cv=cv,
                          random_state=random_state, backend=backend, n_jobs=n_jobs,
                          categorical_features=categorical_features, track=track, verbose=verbose)
        return model.fit(X, y)
    finally:
        _CALL_START.reset(token)
