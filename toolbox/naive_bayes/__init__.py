"""Naive Bayes (layer 3), named as in scikit-learn."""

from ._gaussian import GaussianNB

__all__ = ["GaussianNB"]
