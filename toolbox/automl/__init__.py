"""``toolbox.fit``: one call from raw data to a tuned model, within a time budget, where the data lives.

>>> import toolbox as tb
>>> model = tb.fit(X, y, time_budget=30)      # pandas, NumPy, torch, JAX or CuPy
>>> model.task_, model.task_reason_
('multiclass', 'y has 3 distinct integer values out of 1,500 rows')
>>> print(model.leaderboard_)
>>> model.predict(X_new)                      # same library and device as X_new
>>> model.save("model")                       # safetensors + JSON, no pickle

Optuna (``pip install 'toolbox[automl]'``) drives the search after the fixed
portfolio; without it only the portfolio is searched, with a warning. See
``docs/fit.md``.
"""

from __future__ import annotations

from ._automodel import AutoModel, fit
from ._candidates import CANDIDATES, Candidate, ConstantModel, Param, register
from ._columns import TableEncoder
from ._leaderboard import Leaderboard
from ._metrics import metric_names
from ._preprocess import FeaturePrep

__all__ = [
    "CANDIDATES",
    "AutoModel",
    "Candidate",
    "ConstantModel",
    "FeaturePrep",
    "Leaderboard",
    "Param",
    "TableEncoder",
    "fit",
    "metric_names",
    "register",
]
