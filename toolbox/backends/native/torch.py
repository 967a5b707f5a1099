"""PyTorch fast paths."""

from __future__ import annotations

from typing import Any

import torch


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    out = torch.zeros((num_segments, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add_(0, ids.to(torch.int64), values)


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
