"""A/B tests between versions: sticky weighted routing, shadow predictions, outcomes, a sequential test.

Routing (weighted rendezvous hashing). For a key ``k`` and each variant ``v``
of weight ``w_v``, ``u_v = xxh3_64(model, v, k)`` mapped to (0, 1); the key
goes to the variant with the smallest ``-ln(u_v) / w_v``. Those are
independent exponential variables of rates ``w_v``, so a variant gets exactly
the share ``w_v`` of keys (in distribution), the same key always gets the same
variant, and raising one variant's weight (lowering the others') only lowers
its own score and raises the others': no key ever leaves the variant being
ramped up. No state is stored for routing.

Statistics. Each key with an outcome contributes one score (``accuracy``:
1 when the prediction equals the outcome; ``squared_error``,
``absolute_error``: the error). For each candidate against the control (the
first variant given), the difference of mean scores gets an *always-valid*
confidence interval: the normal-mixture boundary of the mixture sequential
probability ratio test (Robbins 1970; Johari, Pekelis & Walsh 2017, "Always
valid inference"; Howard et al. 2021, "Time-uniform, nonparametric,
nonasymptotic confidence sequences"), with the plug-in variance
``V = s_a^2/n_a + s_b^2/n_b`` and a N(0, tau^2) mixture over the effect::

    |diff - effect| <= sqrt( V (V + tau^2) / tau^2 * (2 ln(1/alpha) + ln((V + tau^2) / V)) )

holds at every sample size at once with probability about ``1 - alpha``, so
looking at the report every day does not inflate false positives (a fixed
horizon z-test looked at daily does). ``tau = effect_scale * pooled sd``
(default 0.1 sd: the boundary is tightest where a tenth of a standard
deviation becomes detectable). The always-valid p-value is ``min(1, 1/Lambda)``
with ``Lambda`` the mixture likelihood ratio. A shadow version's scores are
compared with the served scores of the same keys (a paired difference).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, insert, select, update

from ..store import _schema as S
from ._compare import check_signature, to_host
from ._errors import ABTestError, VersionNotFoundError
from ._records import ModelVersion
from ._registry import Registry, actor, check_name
from ._stages import move_to_stage

__all__ = ["METRICS", "ABComparison", "ABReport", "ABTest", "ABVariant", "ab_test", "route", "sequential_interval"]

#: Per-key scores: name -> (function of (prediction, outcome), higher is better)
METRICS = {
    "accuracy": (lambda p, y: 1.0 if p == y else 0.0, True),
    "squared_error": (lambda p, y: (float(p) - float(y)) ** 2, False),
    "absolute_error": (lambda p, y: abs(float(p) - float(y)), False),
}
_CHUNK = 500
A, R, V = S.registry_ab_tests, S.registry_ab_records, S.registry_versions


# --------------------------------------------------------------------------- #
# routing and statistics (pure, vectorised)
# --------------------------------------------------------------------------- #
def _key_text(k: Any) -> str:
    if isinstance(k, np.generic):
        k = k.item()
    if isinstance(k, bytes):
        k = k.decode()
    text = str(k)
    if not 0 < len(text) <= 256:
        raise ABTestError(f"A/B key {text[:40]!r} must be 1-256 characters as text.")
    return text


def route(model: str, weights: Mapping[str, float], keys: Sequence[Any]) -> np.ndarray:
    """The variant index (into ``weights``' order) of each key; deterministic, sticky, ramp-safe."""
    import xxhash

    texts = [_key_text(k) for k in keys]
    w = np.array([float(x) for x in weights.values()])
    scores = np.empty((len(weights), len(texts)))
    for j, version in enumerate(weights):
        prefix = f"{model}\x1f{version}\x1f"
        h = np.fromiter((xxhash.xxh3_64_intdigest((prefix + t).encode()) for t in texts), dtype=np.uint64, count=len(texts))
        u = ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
        with np.errstate(divide="ignore"):
            scores[j] = -np.log(u) / w[j]
    return np.argmin(scores, axis=0) if len(texts) else np.zeros(0, dtype=np.intp)


def sequential_interval(diff: Any, var: Any, tau2: Any, alpha: float = 0.05) -> tuple[Any, Any, Any]:
    """Always-valid interval ``(low, high, p_value)`` for an effect estimated by ``diff`` with variance ``var``.

    Normal-mixture mSPRT boundary (see the module docstring); ``var`` is the
    variance of ``diff`` itself (e.g. ``s_a^2/n_a + s_b^2/n_b``), ``tau2`` the
    mixture variance. Works elementwise on arrays.
    """
    diff, V, tau2 = np.asarray(diff, float), np.maximum(np.asarray(var, float), 1e-300), np.asarray(tau2, float)
    log_ratio = np.log((V + tau2) / V)
    half = np.sqrt(V * (V + tau2) / tau2 * (2 * math.log(1 / alpha) + log_ratio))
    log_lambda = tau2 * diff**2 / (2 * V * (V + tau2)) - 0.5 * log_ratio
    p = np.minimum(1.0, np.exp(-log_lambda))
    return diff - half, diff + half, p


@dataclass(frozen=True)
class ABVariant:
    """One arm: its weight, keys routed to it, keys with an outcome, mean score and its sd."""

    version: str
    weight: float
    n_assigned: int
    n_outcomes: int
    mean: float
    std: float


@dataclass(frozen=True)
class ABComparison:
    """``version`` minus ``baseline`` in mean score, with its always-valid interval and p-value.

    ``better`` is True when the interval excludes 0 in ``version``'s favour,
    False when in the baseline's, None while undecided.
    """

    version: str
    baseline: str
    difference: float
    low: float
    high: float
    p_value: float
    n: int
    better: bool | None


@dataclass(frozen=True)
class ABReport:
    """Per-variant counts and scores and each candidate against the control (and the shadow, if any)."""

    name: str
    label: str
    metric: str
    higher_is_better: bool
    alpha: float
    control: str
    variants: tuple[ABVariant, ...]
    comparisons: tuple[ABComparison, ...]
    shadow: ABComparison | None
    status: str

    @property
    def winner(self) -> str | None:
        """The candidate that beats the control, the control if every candidate is worse, else None."""
        better = [c for c in self.comparisons if c.better]
        if better:
            key = (lambda c: c.difference) if self.higher_is_better else (lambda c: -c.difference)
            return max(better, key=key).version
        if self.comparisons and all(c.better is False for c in self.comparisons):
            return self.control
        return None

    def __str__(self) -> str:
        lines = [f"A/B test {self.label!r} of {self.name!r} ({self.status}); metric {self.metric} "
                 f"({'higher' if self.higher_is_better else 'lower'} is better), alpha {self.alpha}"]
        for v in self.variants:
            role = " (control)" if v.version == self.control else ""
            lines.append(f"  {v.version}{role}: weight {v.weight:g}, {v.n_assigned} keys, {v.n_outcomes} outcomes, "
                         f"mean {v.mean:.6g} (sd {v.std:.3g})")
        for c in [*self.comparisons, *([self.shadow] if self.shadow else [])]:
            verdict = {True: "better", False: "worse", None: "undecided"}[c.better]
            lines.append(f"  {c.version} - {c.baseline}: {c.difference:+.6g} [{c.low:+.6g}, {c.high:+.6g}] "
                         f"p={c.p_value:.3g} ({verdict}, n={c.n})")
        lines.append(f"  winner: {self.winner or 'none yet'}")
        return "\n".join(lines)


def _mean_sd(n: int, s: float, ss: float) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    mean = s / n
    var = max(ss - s * s / n, 0.0) / (n - 1) if n > 1 else math.nan
    return mean, math.sqrt(var)


def _compare(version: str, baseline: str, diff: float, var: float, sd: float, n_min: int, n: int,
             alpha: float, effect_scale: float, higher: bool) -> ABComparison:
    if n_min < 2 or not math.isfinite(var):
        return ABComparison(version, baseline, diff, -math.inf, math.inf, 1.0, n, None)
    tau2 = (effect_scale * sd) ** 2 if sd > 0 else effect_scale**2
    low, high, p = (float(x) for x in sequential_interval(diff, var, tau2, alpha))
    better = None
    if low > 0 or high < 0:
        better = (low > 0) == higher
    return ABComparison(version, baseline, diff, low, high, p, n, better)


# --------------------------------------------------------------------------- #
# the test
# --------------------------------------------------------------------------- #
def _jsonable(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _take(X: Any, idx: np.ndarray) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    return X[idx]


class ABTest:
    """A running (or concluded) A/B test; from :func:`toolbox.registry.ab_test`."""

    def __init__(self, reg: Registry, test_id: int, name: str, label: str, key: str, weights: dict[str, float],
                 ids: dict[str, int], shadow: str | None, metric: str) -> None:
        self._reg, self.id, self.name, self.label, self.key = reg, test_id, name, label, key
        self.weights, self._ids, self.shadow, self.metric = weights, ids, shadow, metric
        self._models: dict[str, Any] = {}
        self._records: dict[str, ModelVersion] = {}

    def __repr__(self) -> str:
        return f"<ABTest {self.label!r} of {self.name!r}: {self.weights}, shadow={self.shadow}>"

    @property
    def control(self) -> str:
        """The first variant: the baseline of every comparison."""
        return next(iter(self.weights))

    def assign(self, keys: Sequence[Any]) -> np.ndarray:
        """The version each key is routed to (an array of version strings); nothing is logged."""
        names = np.array(list(self.weights), dtype=object)
        return names[route(self.name, self.weights, list(keys))]

    def _model(self, version: str) -> tuple[Any, ModelVersion]:
        if version not in self._models:
            self._records[version] = self._reg.get_version(self.name, version)
            self._models[version] = self._reg.load(self.name, version)
        return self._models[version], self._records[version]

    def predict(self, X: Any, keys: Sequence[Any]) -> np.ndarray:
        """Predictions for the rows of ``X``, row ``i`` from the version its key ``keys[i]`` is routed to.

        The shadow version (if any) also predicts every row; its predictions
        are logged, never returned. Every prediction is logged for
        :meth:`log_outcome`; a key predicted again replaces its earlier record.
        """
        keys = list(keys)
        n = getattr(X, "shape", (len(X),))[0]
        if len(keys) != n:
            raise ABTestError(f"Model {self.name!r}: {len(keys)} keys for {n} rows of X.", model=self.name)
        texts = [_key_text(k) for k in keys]
        arm = route(self.name, self.weights, texts)
        versions = list(self.weights)
        parts: dict[int, np.ndarray] = {}
        for j, version in enumerate(versions):
            idx = np.flatnonzero(arm == j)
            if idx.size:
                est, mv = self._model(version)
                check_signature(mv, X)
                parts[j] = (idx, to_host(est.predict(_take(X, idx))))  # type: ignore[assignment]
        dtype = np.result_type(*[p.dtype for _, p in parts.values()]) if parts else np.float64
        out = np.empty(n, dtype=dtype)
        for idx, p in parts.values():  # type: ignore[misc]
            out[idx] = p
        shadow_out = None
        if self.shadow is not None and n:
            est, mv = self._model(self.shadow)
            check_signature(mv, X)
            shadow_out = to_host(est.predict(X))
        now = time.time()
        rows = [{"test_id": self.id, "key": texts[i], "variant_id": self._ids[versions[arm[i]]],
                 "prediction": json.dumps(_jsonable(out[i])),
                 "shadow_prediction": None if shadow_out is None else json.dumps(_jsonable(shadow_out[i])),
                 "predicted_at": now} for i in range(n)]
        if rows:
            store = self._reg.store
            ins = store.insert(R)
            stmt = ins.on_conflict_do_update(
                index_elements=["test_id", "key"],
                set_={"variant_id": ins.excluded.variant_id, "prediction": ins.excluded.prediction,
                      "shadow_prediction": ins.excluded.shadow_prediction, "predicted_at": ins.excluded.predicted_at,
                      "score": None, "shadow_score": None, "outcome_at": None})
            with store.write() as conn:
                self._check_running(conn)
                conn.execute(stmt, rows)
        return out

    def _check_running(self, conn: Any) -> None:
        status = conn.execute(select(A.c.status).where(A.c.id == self.id)).scalar()
        if status != "running":
            raise ABTestError(f"Model {self.name!r}: the A/B test {self.label!r} is {status}; start another label.",
                              model=self.name)

    def log_outcome(self, keys: Sequence[Any], y_true: Sequence[Any]) -> int:
        """Record the true outcome of each key's latest prediction; returns how many were recorded.

        Every key must have been predicted; otherwise :class:`ABTestError`
        names the unknown ones and nothing is recorded.
        """
        texts = [_key_text(k) for k in keys]
        ys = to_host(y_true).tolist() if not isinstance(y_true, list) else list(y_true)
        if len(ys) != len(texts):
            raise ABTestError(f"Model {self.name!r}: {len(texts)} keys but {len(ys)} outcomes.", model=self.name)
        latest = dict(zip(texts, ys))
        score, _ = METRICS[self.metric]
        found: dict[str, Any] = {}
        with self._reg.store.read() as conn:
            uniq = list(latest)
            for k in range(0, len(uniq), _CHUNK):
                for r in conn.execute(select(R.c.key, R.c.prediction, R.c.shadow_prediction)
                                      .where(R.c.test_id == self.id, R.c.key.in_(uniq[k:k + _CHUNK]))):
                    found[r.key] = r
        missing = [k for k in latest if k not in found]
        if missing:
            raise ABTestError(f"Model {self.name!r}: {len(missing)} key(s) of A/B test {self.label!r} were never "
                              f"predicted (e.g. {missing[:3]}); no outcome recorded.", model=self.name)
        now = time.time()
        updates = []
        for k, y in latest.items():
            r = found[k]
            try:
                s = score(json.loads(r.prediction), _jsonable(y))
                ss = None if r.shadow_prediction is None else score(json.loads(r.shadow_prediction), _jsonable(y))
            except (TypeError, ValueError):
                raise ABTestError(f"Model {self.name!r}: outcome {y!r} of key {k!r} cannot be scored with "
                                  f"{self.metric}.", model=self.name) from None
            updates.append({"t": self.id, "k": k, "s": s, "ss": ss, "at": now})
        stmt = (update(R).where(R.c.test_id == bindparam("t"), R.c.key == bindparam("k"))
                .values(score=bindparam("s"), shadow_score=bindparam("ss"), outcome_at=bindparam("at")))
        if updates:
            with self._reg.store.write() as conn:
                self._check_running(conn)
                conn.execute(stmt, updates)
        return len(updates)

    def report(self, alpha: float = 0.05, effect_scale: float = 0.1) -> ABReport:
        """Counts, mean scores and always-valid intervals (see the module docstring)."""
        if not 0 < alpha < 1 or not effect_scale > 0:
            raise ABTestError(f"Model {self.name!r}: alpha must be in (0, 1) and effect_scale > 0.", model=self.name)
        sc, ss = R.c.score, R.c.shadow_score
        d = ss - sc
        with self._reg.store.read() as conn:
            status = conn.execute(select(A.c.status).where(A.c.id == self.id)).scalar_one()
            rows = {r.variant_id: r for r in conn.execute(
                select(R.c.variant_id, func.count().label("n"), func.count(sc).label("m"),
                       func.coalesce(func.sum(sc), 0.0).label("s"), func.coalesce(func.sum(sc * sc), 0.0).label("q"))
                .where(R.c.test_id == self.id).group_by(R.c.variant_id))}
            sh = conn.execute(select(func.count(d).label("m"), func.coalesce(func.sum(d), 0.0).label("s"),
                                     func.coalesce(func.sum(d * d), 0.0).label("q"))
                              .where(R.c.test_id == self.id, sc.is_not(None), ss.is_not(None))).one()
        _, higher = METRICS[self.metric]
        variants, stats = [], {}
        for version, w in self.weights.items():
            r = rows.get(self._ids[version])
            n, m, s, q = (int(r.n), int(r.m), float(r.s), float(r.q)) if r is not None else (0, 0, 0.0, 0.0)
            mean, sd = _mean_sd(m, s, q)
            variants.append(ABVariant(version, w, n, m, mean, sd))
            stats[version] = (m, mean, sd)
        comps = []
        m0, mean0, sd0 = stats[self.control]
        for version in list(self.weights)[1:]:
            m1, mean1, sd1 = stats[version]
            var = sd1**2 / m1 + sd0**2 / m0 if m0 > 1 and m1 > 1 else math.nan
            pooled = math.sqrt((sd0**2 + sd1**2) / 2) if m0 > 1 and m1 > 1 else math.nan
            comps.append(_compare(version, self.control, mean1 - mean0, var, pooled, min(m0, m1), m0 + m1, alpha,
                                  effect_scale, higher))
        shadow = None
        if self.shadow is not None:
            m, mean, sd = int(sh.m), *_mean_sd(int(sh.m), float(sh.s), float(sh.q))
            shadow = _compare(self.shadow, "served", mean if m else math.nan, sd**2 / m if m > 1 else math.nan,
                              sd if m > 1 else math.nan, m, m, alpha, effect_scale, higher)
        return ABReport(self.name, self.label, self.metric, higher, alpha, self.control, tuple(variants),
                        tuple(comps), shadow, status)

    def conclude(self, winner: str, *, reason: str | None = None) -> ModelVersion:
        """Promote ``winner`` (a variant) to production and close the test, in one transaction."""
        if winner not in self.weights:
            raise ABTestError(f"Model {self.name!r} version {winner}: not a variant of the A/B test {self.label!r} "
                              f"(variants: {', '.join(self.weights)}).", model=self.name, version=str(winner))
        why = reason or f"A/B test {self.label!r} concluded"
        with self._reg.store.write() as conn:
            mrow = self._reg._model_row(conn, self.name, lock=True)
            self._check_running(conn)
            now = time.time()
            move_to_stage(conn, mrow.id, self._ids[winner], "production", action="promote", reason=why,
                          who=actor(), now=now)
            conn.execute(update(A).where(A.c.id == self.id).values(status="concluded",
                                                                   winner_version_id=self._ids[winner],
                                                                   updated_at=now))
        return self._reg.get_version(self.name, winner)


def _check_weights(name: str, weights: Any) -> dict[str, float]:
    if not isinstance(weights, Mapping) or len(weights) < 2:
        raise ABTestError(f"Model {name!r}: A/B weights are a mapping of at least two versions to weights, "
                          f"e.g. {{'1.4.2': 0.9, '1.5.0': 0.1}}; got {weights!r}.", model=name)
    out = {}
    for version, w in weights.items():
        try:
            f = float(w)
        except (TypeError, ValueError):
            f = math.nan
        if not math.isfinite(f) or f < 0 or isinstance(w, bool):
            raise ABTestError(f"Model {name!r} version {version}: weight {w!r} must be a number in [0, 1].",
                              model=name, version=str(version))
        out[str(version)] = f
    total = sum(out.values())
    if abs(total - 1.0) > 1e-9:
        raise ABTestError(f"Model {name!r}: A/B weights must sum to 1, they sum to {total:.12g} "
                          f"({', '.join(f'{v}: {w:g}' for v, w in out.items())}).", model=name)
    return out


def ab_test(reg: Registry, name: str, weights: Mapping[str, float], *, key: str = "id", shadow: str | None = None,
            label: str = "default", metric: str | None = None) -> ABTest:
    """Start (or resume, re-weighting it: ramping) the A/B test ``label`` of ``name``; see the public docs."""
    check_name(name)
    check_name(label, "A/B test label")
    w = _check_weights(name, weights)
    if metric is not None and metric not in METRICS:
        raise ABTestError(f"Model {name!r}: metric must be one of {', '.join(METRICS)}, not {metric!r}.", model=name)
    if not isinstance(key, str) or not key:
        raise ABTestError(f"Model {name!r}: key names the routing key (e.g. 'customer_id').", model=name)
    ids: dict[str, int] = {}
    with reg.store.write() as conn:
        mrow = reg._model_row(conn, name, lock=True)
        for version in [*w, *([shadow] if shadow is not None else [])]:
            try:
                row = reg._resolve(conn, name, version, model_row=mrow)
            except (VersionNotFoundError, ValueError) as exc:
                raise ABTestError(f"Model {name!r} version {version}: not a registered version ({exc}).",
                                  model=name, version=str(version)) from None
            if row.version != version:
                raise ABTestError(f"Model {name!r} version {version}: A/B variants name exact versions, "
                                  f"{version!r} matched {row.version}.", model=name, version=str(version))
            ids[version] = int(row.id)
        if shadow is not None and shadow in w:
            raise ABTestError(f"Model {name!r} version {shadow}: the shadow version cannot also be a variant.",
                              model=name, version=shadow)
        if len(set(ids[v] for v in w)) != len(w):  # pragma: no cover - exact versions are distinct
            raise ABTestError(f"Model {name!r}: a version appears twice among the variants.", model=name)
        if metric is None:
            control = conn.execute(select(V.c.signature).where(V.c.id == ids[next(iter(w))])).scalar_one()
            metric = "accuracy" if json.loads(control).get("classes") is not None else "squared_error"
        now = time.time()
        existing = conn.execute(select(A).where(A.c.model_id == mrow.id, A.c.label == label)).first()
        values = {"key_name": key, "weights": json.dumps(w), "shadow_version_id": ids.get(shadow) if shadow else None,
                  "updated_at": now}
        if existing is None:
            tid = conn.execute(insert(A).values(model_id=mrow.id, label=label, metric=metric, status="running",
                                                created_at=now, **values).returning(A.c.id)).scalar_one()
        else:
            if existing.status != "running":
                raise ABTestError(f"Model {name!r}: the A/B test {label!r} is {existing.status}; use another label.",
                                  model=name)
            old = json.loads(existing.weights)
            if list(old) != list(w):
                raise ABTestError(f"Model {name!r}: the A/B test {label!r} has the variants {list(old)}; ramping "
                                  f"changes their weights only (got {list(w)}).", model=name)
            if metric != existing.metric:
                raise ABTestError(f"Model {name!r}: the A/B test {label!r} scores {existing.metric}, not {metric}.",
                                  model=name)
            tid = existing.id
            conn.execute(update(A).where(A.c.id == tid).values(**values))
    return ABTest(reg, int(tid), name, label, key, w, ids, shadow, metric)
