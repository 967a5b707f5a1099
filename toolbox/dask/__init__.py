"""Dask: estimators fitted blockwise on a row-chunked ``dask.array``, on a ``dask.distributed`` cluster.

Pass a ``dask.array`` (chunked by rows) to ``fit`` of one of the estimators in
:func:`supported_estimators`, or set ``toolbox.set_backend("dask")`` to have NumPy input
converted. Each fit reduces per-block statistics on the workers (sums, ``X.T @ X``,
per-class moments; one pass per Lloyd or Newton iteration for KMeans and
LogisticRegression), so ``X`` is never gathered on the client; fitted attributes are
NumPy arrays, and ``predict`` / ``transform`` return lazy dask arrays (``map_blocks``).
With a ``distributed.Client`` active the work runs on its cluster. See ``docs/scaling.md``.

Needs ``pip install 'toolbox[dask]'``.
"""

from __future__ import annotations

from .._config import _check_installed

_check_installed("dask")

from ._dispatch import lazy_method, supported_estimators  # noqa: E402
from ._graph import DaskClusterLostError  # noqa: E402

__all__ = ["DaskClusterLostError", "lazy_method", "supported_estimators"]
