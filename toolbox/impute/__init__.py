"""Imputation of missing values (layer 3), named as in scikit-learn."""

from ._base import MissingIndicator, SimpleImputer

__all__ = ["MissingIndicator", "SimpleImputer"]
