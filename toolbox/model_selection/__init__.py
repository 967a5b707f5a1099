"""Model selection (layer 3): splitters, cross-validation and hyper-parameter search.

Folds are index arrays on the data's own device: the data never leaves it.
"""

from ._scoring import check_scoring, get_scorer, get_scorer_names, make_scorer
from ._search import GridSearchCV, RandomizedSearchCV
from ._split import KFold, StratifiedKFold, check_cv, train_test_split
from ._validation import cross_val_score, cross_validate

__all__ = [
    "GridSearchCV",
    "KFold",
    "RandomizedSearchCV",
    "StratifiedKFold",
    "check_cv",
    "check_scoring",
    "cross_val_score",
    "cross_validate",
    "get_scorer",
    "get_scorer_names",
    "make_scorer",
    "train_test_split",
]
