"""Compiling histogram gradient boosting's numba kernels ahead of a timed fit.

In a new environment the first fit on the numba path compiles its kernels
(about 22 s on a 2-core machine; later processes load them from numba's cache
in about 1 s). :func:`warm_up` does that work on purpose, on small synthetic
data, so that a caller with a deadline (``toolbox.fit``) can run it on a helper
thread and start timed fits only once it is done.
"""

from __future__ import annotations

import numpy as np

__all__ = ["warm_up"]


def warm_up(task: str = "binary") -> None:
    """Compile (or load from numba's cache) every kernel a fit for ``task`` and its predictions use.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression"}

    Small fits on float64 and float32 data (the binning and prediction kernels
    are compiled per dtype) with missing values, a categorical column, early
    stopping and per-row hessians, with ``predict`` (and ``predict_proba``), then
    the grower's pool-side kernels, which only large nodes reach. Without numba
    (or off the NumPy path) it just fits the small models.
    """
    from ...backends._dispatch import numba_active
    from ._gradient_boosting import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    rng = np.random.default_rng(0)
    n = 600
    X = rng.normal(size=(n, 4))
    X[::9, 1] = np.nan
    X[:, 3] = rng.integers(0, 5, size=n)
    z = X[:, 0] + (X[:, 3] == 2) + rng.normal(scale=0.5, size=n)
    if task == "regression":
        model = HistGradientBoostingRegressor(max_iter=4, early_stopping=True, n_iter_no_change=2,
                                              categorical_features=[3], random_state=0)
        y = z
    else:
        model = HistGradientBoostingClassifier(max_iter=4, early_stopping=True, n_iter_no_change=2,
                                               categorical_features=[3], random_state=0)
        y = (z > 0).astype(np.int64) + (z > 1.0) * (task == "multiclass")
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        model.fit(Xd, y)
        model.predict(Xd)
        if task != "regression":
            model.predict_proba(Xd)
    if numba_active():
        from ._grower_numba import compile_kernels

        compile_kernels()
