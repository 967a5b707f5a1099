"""``AutoModel.report()``: what toolbox.fit decided, tried and returned, in a few readable lines."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["report"]


def _params(p: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in p.items() if k != "model")


def report(model: Any) -> str:
    """The summary of a fitted :class:`~toolbox.automl.AutoModel`."""
    lines = []
    lines.append(f"Task: {model.task_} — {model.task_reason_}")
    direction = "higher" if model.greater_is_better_ else "lower"
    lines.append(f"Metric: {model.metric_} ({direction} is better), {model.cv_folds_}-fold cross-validation")
    enc = model.encoder_
    kinds: dict[str, int] = {}
    for c in enc.columns_:
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
    lines.append(f"Data: {model.n_features_in_} columns (" + ", ".join(f"{v} {k}" for k, v in kinds.items())
                 + f") on {model.backend_} {model.device_}")
    for d in model.dropped_columns_:
        lines.append(f"  dropped {d['name']!r}: {d['reason']}")
    rows = model._leaderboard
    status: dict[str, int] = {}
    for r in rows:
        status[r["status"]] = status.get(r["status"], 0) + 1
    b = model.budget_
    lines.append(f"Search: {len(rows)} trials (" + ", ".join(f"{v} {k}" for k, v in status.items())
                 + f"); stopped: {b.get('stopped_because') or 'done'}")
    lines.append(f"Best: {model.best_params_['model']} ({_params(model.best_params_)}) — "
                 f"{model.metric_} {model.best_score_:.4f}")
    if model.ensemble_ is not None:
        e = model.ensemble_
        lines.append(f"Ensemble ({e['kind']}): trials {e['members']} weights "
                     f"{[round(w, 3) for w in e['weights']]} — {model.metric_} {e['score']:.4f}")
    ranked = [r for r in rows if r["status"] == "ok"][:5]
    if ranked:
        lines.append("Top trials:")
        for r in ranked:
            lines.append(f"  #{r['trial']:<3} {r['model']:<12} {r['score_mean']:.4f} ± {r['score_std']:.4f}  "
                         f"fit {r['fit_time']:.2f}s  {_params(r['params'])}")
    if model.feature_importances_ is not None:
        imp = np.asarray(model.feature_importances_)
        order = np.argsort(-imp)[:5]
        lines.append("Permutation importance (held-out rows): "
                     + ", ".join(f"{model.feature_names_[i]} {imp[i]:.4f}" for i in order))
    total = b.get("total_s")
    budget = b.get("time_budget")
    lines.append(f"Time: {total:.2f}s" + (f" of a {budget:g}s budget" if budget else "")
                 + f" (prepare {b['prepare_s']:.2f}s, search {b['search_s']:.2f}s, final {b['final_s']:.2f}s)")
    for note in model.notes_:
        lines.append(f"Note: {note}")
    if model.run_id_:
        lines.append(f"Tracking run: {model.run_id_}")
    return "\n".join(lines)
