"""Preprocessing: scalers, encoders and feature generation (layer 3), named as in scikit-learn."""

from ._data import MaxAbsScaler, MinMaxScaler, Normalizer, RobustScaler, StandardScaler
from ._encoders import OneHotEncoder
from ._label import LabelEncoder
from ._polynomial import PolynomialFeatures

__all__ = [
    "LabelEncoder",
    "MaxAbsScaler",
    "MinMaxScaler",
    "Normalizer",
    "OneHotEncoder",
    "PolynomialFeatures",
    "RobustScaler",
    "StandardScaler",
]
