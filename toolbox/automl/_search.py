"""The search: a constant baseline, a fixed portfolio ordered by cost, then Optuna's TPE with pruning.

Trials are cross-validated pipelines (:func:`~toolbox.automl._candidates.make_pipeline`
without the table encoder, which is fitted once) on the encoded matrix, on the
data's device. They run in batches of :data:`BATCH` trials: a batch is
decided in full (portfolio entries, or ``BATCH`` asks of the TPE sampler in
order) before any of its trials runs, its trials run concurrently on
``n_workers`` threads, and their results are told to the sampler in trial
order. Pruning compares a trial's running fold mean with the median of the
trials finished before its batch (Optuna's median rule on a snapshot). So with
``max_trials`` and a seed the sequence of trials and their results does not
depend on ``n_jobs`` or on timing.

Deadlines: a batch only starts trials whose estimated time fits; within a
trial the deadline is checked between folds, and iterative fits are stopped
by a metric listener (:func:`toolbox._hooks.metric_listener`) raising
:class:`~toolbox.automl._budget.OutOfTime`. A candidate with a ``warm_up``
(kernels to compile, which no deadline can interrupt) waits, under a time
budget, until its warm-up has run on a helper thread (:mod:`._warm`); its
portfolio entries are deferred meanwhile and the other candidates go on.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _hooks
from ..backends import framework_of
from . import _warm
from ._budget import Budget, OutOfTime
from ._candidates import CANDIDATES, Context, candidates_for, make_pipeline
from ._metrics import Metric

__all__ = ["BATCH", "Search", "TrialResult"]

#: Trials decided together (and run concurrently); fixed, so results never depend on n_jobs.
BATCH = 4
#: Trials that keep their out-of-fold predictions (for ensembling) and fold models.
KEEP_TOP = 10
#: Median pruning starts once this many trials have finished a step.
PRUNE_STARTUP = 5
#: The search has converged when this many finished trials in a row did not improve the best score.
PATIENCE = 40
#: An improvement of the best (signed) score smaller than this does not count for convergence.
TOLERANCE = 1e-4
#: Arrays of at most this many elements keep their fold slices in memory.
_CACHE_FOLDS_MAX = 20_000_000


@dataclass
class TrialResult:
    """One evaluated candidate configuration (a leaderboard row, plus what ensembling needs)."""

    number: int
    model: str
    params: dict
    source: str
    seed: int
    status: str = "ok"
    message: str = ""
    fold_scores: list[float] = field(default_factory=list)
    signed_steps: list[float] = field(default_factory=list)
    fit_times: list[float] = field(default_factory=list)
    predict_times: list[float] = field(default_factory=list)
    n_predicted: int = 0
    wall_time: float = 0.0
    oof: Any = None
    fold_models: list | None = None

    @property
    def mean(self) -> float:
        return float(np.mean(self.fold_scores)) if self.fold_scores else math.nan

    @property
    def std(self) -> float:
        return float(np.std(self.fold_scores)) if self.fold_scores else math.nan

    @property
    def fit_time(self) -> float:
        return float(np.sum(self.fit_times))

    @property
    def predict_time(self) -> float:
        return float(np.sum(self.predict_times))

    @property
    def predict_per_row(self) -> float:
        """Median seconds per predicted row over the folds (a first call that compiled is an outlier)."""
        if not self.predict_times:
            return 0.0
        return float(np.median(self.predict_times)) * len(self.predict_times) / max(self.n_predicted, 1)

    @property
    def predict_per_1k(self) -> float:
        return 1000.0 * self.predict_time / self.n_predicted if self.n_predicted else math.nan


@dataclass
class _Spec:
    number: int
    model: str
    params: dict
    source: str
    trial: Any = None  # the Optuna trial, for TPE


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


class Search:
    """Run the trials of one :func:`toolbox.fit` call (see the module docstring).

    Parameters
    ----------
    X, y : arrays on the compute device (``y``: class codes or values)
    folds : list of (train, test) index arrays
    ctx : Context
    metric : Metric
    budget : Budget
    max_trials : int or None
        Trials beyond the constant baseline.
    n_workers : int
    seed : int
    on_result : callable(TrialResult), optional
        Called in the main thread after each trial (tracking, progress).
    reserve : callable() -> float
        Seconds to keep free after the search (refit, ensemble, record).
    """

    def __init__(self, X: Any, y: Any, folds: list, ctx: Context, metric: Metric, budget: Budget,
                 max_trials: int | None, n_workers: int, seed: int, on_result: Any = None,
                 reserve: Any = None) -> None:
        self.X, self.y, self.folds, self.ctx, self.metric = X, y, folds, ctx, metric
        self.budget, self.max_trials, self.n_workers, self.seed = budget, max_trials, max(1, n_workers), seed
        self.on_result = on_result or (lambda r: None)
        self.reserve = reserve or (lambda: 0.0)
        self.xp = framework_of(X).xp
        self.classification = ctx.task != "regression"
        self.results: list[TrialResult] = []
        self.stopped_because = ""
        self._time_per_fold: dict[str, float] = {}
        self._fold_times: dict[str, list[float]] = {}
        self._since_best = 0
        self._best = -math.inf
        self.candidates = candidates_for(ctx)
        xp = self.xp
        self.oof_index = xp.concat([te for _, te in folds])
        self.oof_y = xp.take(y, self.oof_index, axis=0)
        sizes = [int(te.shape[0]) for _, te in folds]
        self.fold_bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        self.n_train_mean = float(np.mean([int(tr.shape[0]) for tr, _ in folds]))
        self._cache = {} if int(np.prod(X.shape)) * len(folds) <= _CACHE_FOLDS_MAX else None
        self._study = None
        self._optuna_missing = False

    # ------------------------------------------------------------ fold data
    def fold(self, f: int) -> tuple[Any, Any, Any, Any]:
        """``(X_train, y_train, X_test, y_test)`` of fold ``f``."""
        if self._cache is not None and f in self._cache:
            return self._cache[f]
        xp = self.xp
        tr, te = self.folds[f]
        out = (xp.take(self.X, tr, axis=0), xp.take(self.y, tr, axis=0),
               xp.take(self.X, te, axis=0), xp.take(self.y, te, axis=0))
        if self._cache is not None:
            self._cache[f] = out
        return out

    # ------------------------------------------------------------ one trial
    def predict(self, model: Any, X: Any) -> Any:
        """Probabilities (columns for every class, in code order) or values."""
        xp = self.xp
        if not self.classification:
            p = model.predict(X)
            return xp.reshape(p, (-1,))
        p = model.predict_proba(X)
        k = self.ctx.n_classes
        if int(p.shape[1]) != k:  # a class absent from this fold's training rows
            classes = model[-1].classes_ if hasattr(model, "steps") else model.classes_
            classes = xp.asarray(classes, device=p.device) if framework_of(classes) is not framework_of(p) else classes
            ar = xp.arange(k, dtype=classes.dtype, device=p.device)
            E = xp.astype(classes[:, None] == ar[None, :], p.dtype)
            p = p @ E
        return p

    def _evaluate(self, spec: _Spec, deadline: float, snapshot: list[list[float]]) -> TrialResult:
        cand = CANDIDATES[spec.model]
        seed = (self.seed + 7919 * spec.number) % (2**31 - 1)
        ctx = dataclasses.replace(self.ctx, seed=seed)
        res = TrialResult(spec.number, spec.model, dict(spec.params), spec.source, seed)
        start = time.perf_counter()
        preds, models = [], []

        def listener(est: Any, name: str, value: Any, step: Any) -> None:
            if time.perf_counter() > deadline:
                raise OutOfTime

        try:
            with _hooks.metric_listener(listener):
                for f in range(len(self.folds)):
                    if time.perf_counter() > deadline:
                        raise OutOfTime
                    X_tr, y_tr, X_te, y_te = self.fold(f)
                    pipe = make_pipeline(cand, spec.params, ctx)
                    t0 = time.perf_counter()
                    pipe.fit(X_tr, y_tr)
                    t1 = time.perf_counter()
                    p = self.predict(pipe, X_te)
                    t2 = time.perf_counter()
                    score = self.metric(y_te, p, self.ctx.n_classes)
                    if not math.isfinite(score):
                        raise ValueError(f"the fold score is {score}")
                    res.fit_times.append(t1 - t0)
                    res.predict_times.append(t2 - t1)
                    res.n_predicted += int(X_te.shape[0])
                    res.fold_scores.append(score)
                    preds.append(p)
                    models.append(pipe)
                    running = self.metric.signed(float(np.mean(res.fold_scores)))
                    res.signed_steps.append(running)
                    if f < len(self.folds) - 1 and spec.source != "baseline":
                        done = snapshot[f] if f < len(snapshot) else []
                        if len(done) >= PRUNE_STARTUP and running < float(np.median(done)):
                            res.status = "pruned"
                            res.message = (f"fold {f + 1} mean below the median of {len(done)} earlier trials "
                                           "(median pruning)")
                            break
        except OutOfTime:
            res.status, res.message = "pruned", "stopped by the time budget"
        except Exception as exc:  # a failing candidate is recorded, never fatal
            res.status, res.message = "failed", _first_line(exc)
        res.wall_time = time.perf_counter() - start
        if res.status == "ok":
            res.oof = self.xp.concat(preds, axis=0)
            res.fold_models = models
        return res

    # ------------------------------------------------------------ estimates
    def estimate(self, model: str) -> float:
        """Seconds a trial of ``model`` is expected to take (0 when none ran yet)."""
        return self._time_per_fold.get(model, 0.0) * len(self.folds)

    def refit_estimate(self, r: TrialResult) -> float:
        """Seconds to refit trial ``r`` on every row."""
        if not r.fit_times:
            return 0.0
        return float(np.median(r.fit_times)) * (self.ctx.n_rows / max(self.n_train_mean, 1.0)) * 1.25 + 0.002

    def ok(self) -> list[TrialResult]:
        """Finished trials, best first (ties: the earlier trial)."""
        done = [r for r in self.results if r.status == "ok"]
        return sorted(done, key=lambda r: (-self.metric.signed(r.mean), r.number))

    # ------------------------------------------------------------ running
    def _snapshot(self) -> list[list[float]]:
        steps: list[list[float]] = [[] for _ in self.folds]
        for r in self.results:
            if r.status == "ok" and r.source != "baseline":
                for i, v in enumerate(r.signed_steps):
                    steps[i].append(v)
        return steps

    def _record(self, r: TrialResult) -> None:
        self.results.append(r)
        if r.fit_times:  # the median of recent trials: a first fit that compiled kernels is an outlier
            per = r.wall_time / max(len(r.fold_scores), 1)
            recent = self._fold_times.setdefault(r.model, [])
            recent.append(per)
            del recent[:-9]
            self._time_per_fold[r.model] = float(np.median(recent))
        if r.source != "baseline":
            s = self.metric.signed(r.mean) if r.status == "ok" else -math.inf
            if s > self._best + TOLERANCE:
                self._best, self._since_best = s, 0
            else:
                self._since_best += 1
        # keep out-of-fold predictions and fold models for the best few only
        keep = {id(x) for x in self.ok()[:KEEP_TOP]}
        for x in self.results:
            if id(x) not in keep:
                x.oof, x.fold_models = None, None
        self.on_result(r)

    def _deadline(self) -> float:
        return self.budget.end - self.reserve()

    def _run_batch(self, specs: list[_Spec], pool: Any) -> list[TrialResult]:
        deadline = self._deadline()
        snapshot = self._snapshot()
        if pool is None or len(specs) == 1:
            results = [self._evaluate(s, deadline if s.source != "baseline" else math.inf, snapshot) for s in specs]
        else:
            futures = [pool.submit(contextvars.copy_context().run, self._evaluate, s, deadline, snapshot)
                       for s in specs]
            results = [f.result() for f in futures]
        return results

    def _n_trials(self) -> int:
        return sum(1 for r in self.results if r.source != "baseline")

    def _room(self) -> int:
        """Trials that may still start (max_trials), at most a batch."""
        if self.max_trials is None:
            return BATCH
        return max(0, min(BATCH, self.max_trials - self._n_trials()))

    def _stop(self) -> bool:
        if self.max_trials is not None and self._n_trials() >= self.max_trials:
            self.stopped_because = f"max_trials={self.max_trials} reached"
            return True
        if self.budget.limited and time.perf_counter() >= self._deadline():
            self.stopped_because = "time budget"
            return True
        if self._since_best >= PATIENCE:
            self.stopped_because = f"converged (no better score in {PATIENCE} trials)"
            return True
        return False

    def _fits(self, model: str) -> bool:
        if not self.budget.limited:
            return True
        return time.perf_counter() + self.estimate(model) <= self._deadline()

    def _ready(self, model: str) -> bool:
        """Whether trials of ``model`` may start: no warm-up, no time budget, or its warm-up has finished.

        Without a time budget a first trial simply compiles (no deadline to miss, and the sequence of
        trials stays independent of timing); with one, the first ask starts the warm-up thread.
        """
        cand = CANDIDATES[model]
        if cand.warm_up is None or not self.budget.limited:
            return True
        warm, ctx = cand.warm_up, self.ctx
        return _warm.ready(f"{model}:{ctx.task}", lambda: warm(ctx))

    def portfolio(self) -> list[_Spec]:
        """The fixed portfolio: first configuration of every candidate (cheapest first), then the second..."""
        out, depth = [], max((len(c.portfolio) for c in self.candidates), default=0)
        for i in range(depth):
            for c in self.candidates:
                if i < len(c.portfolio):
                    out.append((c.name, dict(c.portfolio[i])))
        return [_Spec(0, m, p, "portfolio") for m, p in out]

    def run(self) -> list[TrialResult]:
        """Run until max_trials, the deadline, convergence, or (without Optuna) the end of the portfolio."""
        number = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pool = ThreadPoolExecutor(self.n_workers, thread_name_prefix="toolbox-fit") if self.n_workers > 1 else None
            try:
                base = _Spec(number, "constant", {}, "baseline")
                number += 1
                for r in self._run_batch([base], None):
                    self._record(r)
                queue = self.portfolio()
                deferred: list[_Spec] = []  # portfolio entries of candidates still warming up
                while not self._stop():
                    back = [s for s in deferred if self._ready(s.model)]
                    if back:  # warmed up: back to the front of the queue, in their portfolio order
                        queue[:0], deferred = back, [s for s in deferred if not any(s is b for b in back)]
                    room = self._room()
                    batch: list[_Spec] = []
                    while queue and len(batch) < room:
                        s = queue.pop(0)
                        if not self._ready(s.model):
                            deferred.append(s)
                        elif self._fits(s.model):
                            s.number = number
                            number += 1
                            batch.append(s)
                    if not batch and not queue:
                        batch = self._ask(room, number)
                        number += len(batch)
                        if not batch and deferred:
                            time.sleep(0.02)  # nothing else to run: wait for the warm-up
                            continue
                        if not batch:
                            if not self.stopped_because:
                                self.stopped_because = ("portfolio done (Optuna not installed)" if self._optuna_missing
                                                        else "no candidate fits in the time left")
                            break
                    if not batch:
                        continue
                    for r in self._run_batch(batch, pool):
                        self._record(r)
                        self._tell(batch, r)
            finally:
                if pool is not None:
                    pool.shutdown(wait=True)
        return self.results

    # ------------------------------------------------------------ optuna
    def _names(self) -> list[str]:
        return [c.name for c in self.candidates if c.space]

    def _ensure_study(self) -> Any:
        if self._study is not None or self._optuna_missing:
            return self._study
        try:
            import optuna
        except ImportError:
            self._optuna_missing = True
            warnings.warn("Optuna is not installed: toolbox.fit searched its fixed portfolio only. "
                          "pip install 'toolbox[automl]' for the TPE search.", UserWarning, stacklevel=4)
            return None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=self.seed % (2**31 - 1), multivariate=True, group=True,
                                             n_startup_trials=8, warn_independent_sampling=False)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        self._study = study
        for r in self.results:
            self._add_portfolio_trial(r)
        return study

    def _add_portfolio_trial(self, r: TrialResult) -> None:
        """A finished portfolio trial, told to the TPE study as a trial of its own."""
        if self._study is None or r.source != "portfolio" or r.model not in self._names():
            return
        import optuna

        dists, params = self._distributions(r.model, r.params)
        state = {"ok": optuna.trial.TrialState.COMPLETE, "pruned": optuna.trial.TrialState.PRUNED}.get(
            r.status, optuna.trial.TrialState.FAIL)
        value = self.metric.signed(r.mean) if r.status == "ok" else None
        inter = dict(enumerate(r.signed_steps)) if r.status == "pruned" else {}
        self._study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=value,
                                                        state=state, intermediate_values=inter))

    def _distributions(self, model: str, params: dict) -> tuple[dict, dict]:
        import optuna

        cand = CANDIDATES[model]
        dists = {"model": optuna.distributions.CategoricalDistribution(self._names())}
        out = {"model": model}
        for k, p in cand.space.items():
            dists[f"{model}.{k}"] = p.distribution()
            out[f"{model}.{k}"] = params[k]
        return dists, out

    def _ask(self, room: int, number: int) -> list[_Spec]:
        if room <= 0 or not self._names():
            return []
        study = self._ensure_study()
        if study is None:
            return []
        out = []
        attempts = 0
        while len(out) < room and attempts < 2 * room:
            attempts += 1
            if attempts > room:  # the sampler's choices do not fit in the time left: ask for one that does
                fitting = [m for m in self._names() if self._fits(m) and self._ready(m)]
                if not fitting:
                    break
                study.enqueue_trial({"model": min(fitting, key=self.estimate)})
            trial = study.ask()
            model = trial.suggest_categorical("model", self._names())
            params = {}
            for k, p in CANDIDATES[model].space.items():
                name = f"{model}.{k}"
                if p.kind == "float":
                    params[k] = trial.suggest_float(name, p.low, p.high, log=p.log)
                elif p.kind == "int":
                    params[k] = trial.suggest_int(name, int(p.low), int(p.high), log=p.log)
                else:
                    params[k] = trial.suggest_categorical(name, list(p.choices))
            if not self._fits(model) or not self._ready(model):
                import optuna

                study.tell(trial, state=optuna.trial.TrialState.FAIL)  # not run: no time for it, or warming up
                continue
            out.append(_Spec(number + len(out), model, params, "tpe", trial))
        return out

    def _tell(self, batch: list[_Spec], r: TrialResult) -> None:
        spec = next((s for s in batch if s.number == r.number), None)
        if spec is not None and spec.trial is None:  # a portfolio trial run after the study began (deferred)
            self._add_portfolio_trial(r)
        if spec is None or spec.trial is None:
            return
        import optuna

        if r.status == "ok":
            self._study.tell(spec.trial, self.metric.signed(r.mean))
            return
        if r.status == "pruned" and r.signed_steps:
            for i, v in enumerate(r.signed_steps):
                spec.trial.report(v, i)
            self._study.tell(spec.trial, state=optuna.trial.TrialState.PRUNED)
            return
        self._study.tell(spec.trial, state=optuna.trial.TrialState.FAIL)
