"""Preprocessing: scalers and encoders (layer 3), named as in scikit-learn."""

from ._data import StandardScaler

__all__ = ["StandardScaler"]
