"""Nearest neighbors (layer 3), named as in scikit-learn: brute-force k-NN on any backend."""

from ._classification import KNeighborsClassifier
from ._regression import KNeighborsRegressor

__all__ = ["KNeighborsClassifier", "KNeighborsRegressor"]
