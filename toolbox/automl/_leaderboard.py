"""The leaderboard: every trial of a :func:`toolbox.fit` call, as plain rows."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

__all__ = ["COLUMNS", "Leaderboard"]

#: Row keys, in display order.
COLUMNS = ("rank", "trial", "model", "params", "score_mean", "score_std", "fold_scores", "fit_time",
           "predict_time_per_1k", "backend", "device", "status", "message", "source")


def _fmt(v: Any, key: str) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if key in ("fit_time", "predict_time_per_1k"):
            return f"{v:.3f}s"
        return f"{v:.4f}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x, k) if isinstance(x, float) else x}" for k, x in v.items())
    return str(v)


class Leaderboard:
    """Rows (dicts) of every trial, best first: finished trials by score, then pruned, then failed.

    Each row holds ``rank``, ``trial``, ``model``, ``params``, ``score_mean``
    and ``score_std`` (cross-validated, in the metric's units), ``fold_scores``,
    ``fit_time`` (seconds, all folds), ``predict_time_per_1k`` (seconds per
    1,000 rows), ``backend``, ``device``, ``status`` (``ok``, ``pruned``,
    ``failed``), ``message`` (why pruned or failed) and ``source``
    (``baseline``, ``portfolio`` or ``tpe``).
    """

    def __init__(self, rows: list[dict], metric: str = "", greater_is_better: bool = True) -> None:
        self.rows = rows
        self.metric = metric
        self.greater_is_better = greater_is_better

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` with one row per trial (the columns of :data:`COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame([{k: r.get(k) for k in COLUMNS} for r in self.rows], columns=list(COLUMNS))

    def to_string(self, max_rows: int = 20, max_params: int = 60) -> str:
        """A plain-text table (``max_rows`` rows)."""
        keys = ("rank", "trial", "model", "score_mean", "score_std", "fit_time", "predict_time_per_1k", "status",
                "params")
        head = {"score_mean": f"{self.metric or 'score'}", "score_std": "std", "predict_time_per_1k": "pred/1k",
                "fit_time": "fit"}
        table = [[head.get(k, k) for k in keys]]
        for r in self.rows[:max_rows]:
            cells = []
            for k in keys:
                s = _fmt(r.get(k), k)
                if k == "status" and r.get("message") and r.get("status") != "ok":
                    s = f"{s} ({r['message'][:40]})"
                cells.append(s[:max_params] if k == "params" else s)
            table.append(cells)
        widths = [max(len(row[i]) for row in table) for i in range(len(keys))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
        if len(self.rows) > max_rows:
            lines.append(f"... {len(self.rows) - max_rows} more trials")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_string()

    def __repr__(self) -> str:
        return f"<Leaderboard: {len(self.rows)} trials, metric {self.metric!r}>\n{self.to_string(10)}"
