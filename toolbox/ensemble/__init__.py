"""Ensemble methods (layer 3): histogram gradient boosting, written once for every backend."""

from ._hist_gradient_boosting._gradient_boosting import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)

__all__ = ["HistGradientBoostingClassifier", "HistGradientBoostingRegressor"]
