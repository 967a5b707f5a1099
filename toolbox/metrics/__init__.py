"""Metrics (layer 3), named as in scikit-learn: computed on the device of their inputs.

Each function resolves the namespace once; NumPy labels and weights may
accompany arrays of one other library (strings can only live in NumPy).
Scores come back as Python floats; arrays (``confusion_matrix``,
``average=None``, ``multioutput="raw_values"``) in the inputs' library.
"""

from ._classification import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    fbeta_score,
    log_loss,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from ._ranking import roc_auc_score
from ._regression import mean_absolute_error, mean_squared_error, r2_score

__all__ = [
    "accuracy_score",
    "confusion_matrix",
    "f1_score",
    "fbeta_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_recall_fscore_support",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
]
