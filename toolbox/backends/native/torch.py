"""PyTorch fast paths."""

from __future__ import annotations

from typing import Any

import torch


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    out = torch.zeros((num_segments, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add_(0, ids.to(torch.int64), values)


def histogram(codes: Any, weights: Any, n_bins: int, *, xp: Any) -> Any:
    from ..primitives import _histogram_chunks

    d, c = codes.shape[1], weights.shape[1]
    out = torch.zeros((d * n_bins, c), dtype=weights.dtype, device=weights.device)
    for ids, vals in _histogram_chunks(codes, weights, n_bins, xp=xp):
        out.index_add_(0, ids, vals)
    return out.reshape(d, n_bins, c)


def smallest_k(x: Any, k: int, *, xp: Any) -> tuple[Any, Any]:
    res = torch.topk(x, k, dim=-1, largest=False, sorted=True)
    return res.values, res.indices


def logsumexp(x: Any, axis: int | None, keepdims: bool, *, xp: Any) -> Any:
    if axis is None:
        out = torch.logsumexp(x.reshape(-1), dim=0)
        return out.reshape((1,) * x.ndim) if keepdims else out
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def cholesky(A: Any, *, xp: Any) -> Any | None:
    L, info = torch.linalg.cholesky_ex(A)
    return None if int(info) != 0 else L


def cho_solve(L: Any, B: Any, *, xp: Any) -> Any:
    return torch.cholesky_solve(B if B.ndim == 2 else B[:, None], L)


# ---------------------------------------------------------------- CPU tensors: the NumPy path's kernels, in place


def _cpu(*arrays: Any) -> bool:
    return all(a is None or (a.device.type == "cpu" and not a.requires_grad) for a in arrays)


def _view(t: Any) -> Any:
    return t.numpy()


def _on_host(name: str, *args: Any, **kwargs: Any) -> Any:
    from ._host import on_host

    return on_host(name, args, _view, torch.from_numpy, **kwargs)


def gram(X: Any, *, xp: Any) -> Any:
    return _on_host("gram", X) if _cpu(X) else X.T @ X


def _host_or_generic(name: str, *args: Any, xp: Any) -> Any:
    from ._host import host_or_generic

    return host_or_generic(name, _cpu(*(a for a in args if not isinstance(a, int))), args, _view, torch.from_numpy, xp=xp)


def column_mean_var(X: Any, *, xp: Any) -> Any:
    return _host_or_generic("column_mean_var", X, xp=xp)


def column_min_max(X: Any, *, xp: Any) -> Any:
    return _on_host("column_min_max", X) if _cpu(X) else (torch.amin(X, dim=0), torch.amax(X, dim=0))


def columnwise_affine(X: Any, sub: Any, div: Any, mul: Any, add: Any, *, xp: Any) -> Any:
    return _host_or_generic("columnwise_affine", X, sub, div, mul, add, xp=xp)


def segment_mean_var(X: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    return _host_or_generic("segment_mean_var", X, ids, num_segments, xp=xp)
