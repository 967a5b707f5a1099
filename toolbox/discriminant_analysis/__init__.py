"""Discriminant analysis (layer 3), named as in scikit-learn."""

from ._lda import LinearDiscriminantAnalysis

__all__ = ["LinearDiscriminantAnalysis"]
