"""``toolbox.hub.load``: a name -> the estimator its task calls for."""

from __future__ import annotations

import os
from typing import Any

from ._aliases import TASK_ESTIMATORS
from ._embedder import read_json
from ._resolve import Resolved, resolve

__all__ = ["load"]


def _task_of(resolved: Resolved) -> str:
    if resolved.task:
        return resolved.task
    path = resolved.path
    config = read_json(path / "config.json") or {}
    if any(str(a).endswith("ForSequenceClassification") for a in config.get("architectures") or ()):
        return "text-classification"
    if (path / "modules.json").is_file():
        return "sentence-similarity"
    return "feature-extraction"


def load(name: str | os.PathLike, *, task: str | None = None, device: Any = "auto", revision: str | None = None,
         local_files_only: bool | None = None, allow_network: bool | None = None, dtype: Any = None,
         trust_pickle: bool = False, **params: Any) -> Any:
    """Load a pretrained model as a scikit-learn estimator, offline-first.

    Parameters
    ----------
    name : str or path
        An alias (``"minilm"``, ``"bert-base"``; see :func:`aliases`), a repo id
        ``"org/name"``, an address ``"hf://org/name@rev"`` or ``"toolbox://org/name"``
        (a toolbox model file on the Hub), or a local folder (transformers layout,
        a folder written by ``save_pretrained``, or a ``toolbox.save`` folder).
    task : str, optional
        ``"feature-extraction"`` / ``"sentence-similarity"`` -> :class:`Embedder`;
        ``"text-classification"`` -> :class:`TextClassifier`. Default: the alias's
        task, else what the folder holds.
    device : {"auto", "cpu", "cuda", ...}
        Where the model runs; ``"auto"``: CUDA when available.
    revision : str, optional
        A commit, branch or tag; default the alias's pinned commit, else ``"main"``.
    local_files_only, allow_network : bool, optional
        The network is off by default and used only on a cache miss: pass
        ``allow_network=True`` (or set ``TOOLBOX_HUB_ALLOW_NETWORK=1``) to allow it.
        ``HF_HUB_OFFLINE=1`` forbids it. Both are read at each call.
    dtype : {None, "float32", "float16", "bfloat16"}
    trust_pickle : bool
        Allow pickle-based weights when a repo has no safetensors (never silently).
    **params
        Estimator parameters (``batch_size``, ``epochs``, ``head``...).

    Returns
    -------
    Embedder, TextClassifier, or the toolbox estimator stored in the folder.

    Raises
    ------
    ModelNotFoundError
        Not cached and the network may not be used; the message says how to get it.
    UnsafeModelError
        Pickle-only weights, remote code, missing or unexpected weights.
    """
    resolved = resolve(name, revision=revision, allow_network=allow_network, local_files_only=local_files_only,
                       trust_pickle=trust_pickle)
    if resolved.toolbox_format or ((resolved.path / "model.json").is_file()
                                   and not (resolved.path / "config.json").is_file()):
        from ..io import load as tb_load

        return tb_load(resolved.path)
    common = dict(device=device, dtype=dtype, revision=revision, allow_network=allow_network,
                  local_files_only=local_files_only, trust_pickle=trust_pickle)
    if (resolved.path / "toolbox_hub.json").is_file():
        from ._share import load_saved

        return load_saved(resolved, name=name, common=common, params=params)
    task = task or _task_of(resolved)
    kind = TASK_ESTIMATORS.get(task)
    if kind is None:
        raise ValueError(f"task {task!r} of {name!r} has no toolbox.hub estimator yet; supported tasks: "
                         f"{sorted(TASK_ESTIMATORS)} (pass task=... to load it as one of them)")
    if kind == "Embedder":
        from ._embedder import Embedder

        est = Embedder(model=name, **common, **params)
    else:
        from ._classifier import TextClassifier

        est = TextClassifier(model=name, **common, **params)
    est._check_params()
    est._load_from(resolved.path, resolved.describe())
    return est
