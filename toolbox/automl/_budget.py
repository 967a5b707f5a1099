"""The time budget of one :func:`toolbox.fit` call: a clock started at the call, and what is left.

Everything counts: reading the column types, preprocessing, the search, the
refit, ensembling, importances and the tracking record. The search stops at
a deadline that leaves room for what follows it (:meth:`Budget.reserve`,
estimated from the fold fits the search has timed); within a trial the
deadline is checked between folds, and iterative models (gradient boosting,
logistic regression) are stopped inside their fit when they pass it.
"""

from __future__ import annotations

import math
import time

__all__ = ["Budget", "OutOfTime"]


class OutOfTime(Exception):
    """Raised inside a fit (through the metric listener) when its deadline has passed."""


class Budget:
    """``seconds`` from ``start`` (``time.perf_counter()``); ``None`` means no time limit."""

    #: what writing the run record and the report cost beyond the estimates, seconds
    FIXED_TAIL = 0.03

    def __init__(self, seconds: float | None, start: float | None = None) -> None:
        self.seconds = seconds
        self.start = time.perf_counter() if start is None else start
        self.end = math.inf if seconds is None else self.start + float(seconds)

    @property
    def limited(self) -> bool:
        return self.seconds is not None

    def now(self) -> float:
        return time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        return self.end - time.perf_counter()

    def fits(self, seconds: float, reserve: float = 0.0) -> bool:
        """Whether work of ``seconds`` finishes before the end, ``reserve`` seconds kept free."""
        return time.perf_counter() + seconds + reserve <= self.end
