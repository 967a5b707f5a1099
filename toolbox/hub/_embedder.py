"""``Embedder``: a pretrained text encoder as a scikit-learn transformer (texts -> (n, d) embeddings)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..base import BaseEstimator, TransformerMixin

__all__ = ["Embedder"]

_POOLING = ("auto", "mean", "cls", "max", "mean_sqrt_len")


# --------------------------------------------------------------------------- #
# Shared helpers (also used by the classifier)
# --------------------------------------------------------------------------- #


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"toolbox.hub needs {module}: pip install 'toolbox[hub]'") from None


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load reports and progress bars for the duration (restored after)."""
    from transformers.utils import logging as tlog

    level = tlog.get_verbosity()
    bars = tlog.is_progress_bar_enabled()
    tlog.set_verbosity_error()
    tlog.disable_progress_bar()
    try:
        yield
    finally:
        tlog.set_verbosity(level)
        if bars:
            tlog.enable_progress_bar()


def torch_device(device: Any) -> Any:
    """``"auto"`` -> CUDA when available, else CPU; anything else as torch understands it."""
    torch = _require("torch")
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


#: models with fewer parameters than this run single-threaded on the CPU: their kernels are too small
#: for intra-op threads to pay, and on a busy machine the threads' spin-waits cost 10-100x
SMALL_MODEL = 5_000_000


@contextlib.contextmanager
def cpu_threads(model: Any) -> Iterator[None]:
    """Run a small model on one CPU thread (restored after); larger ones and GPUs as configured."""
    import torch

    try:
        first = next(model.parameters())
    except StopIteration:
        yield
        return
    small = first.device.type == "cpu" and sum(p.numel() for p in model.parameters()) < SMALL_MODEL
    before = torch.get_num_threads()
    if small and before > 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if small and before > 1:
            torch.set_num_threads(before)


def torch_dtype(dtype: Any) -> Any:
    torch = _require("torch")
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    names = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
             "half": torch.float16, "float": torch.float32}
    if str(dtype) not in names:
        raise ValueError(f"dtype {dtype!r} is not one of {sorted(names)}")
    return names[str(dtype)]


def as_texts(X: Any, name: str = "X") -> list[str]:
    """A list of strings from a list / tuple / 1-D array / pandas Series; a clear error otherwise."""
    if isinstance(X, str):
        raise TypeError(f"{name} must be a sequence of strings, not a single string; wrap it in a list")
    if hasattr(X, "tolist") and not isinstance(X, (list, tuple)):
        arr = np.asarray(X, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one text per sample), got shape {arr.shape}")
        X = arr.tolist()
    try:
        texts = list(X)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of strings, got {type(X).__name__}") from None
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}] is {type(t).__name__} ({t!r:.40}), not a string")
    if not texts:
        raise ValueError(f"{name} is empty: at least one text is needed")
    return texts


def emit(tensor: Any, X: Any, output: str | None) -> Any:
    """Return ``tensor`` (torch) where the caller expects it.

    ``output=`` wins; an array input is mirrored (its framework and device);
    otherwise the active backend, and with ``"auto"`` torch stays torch on a
    GPU and becomes NumPy (zero copy, DLPack) on the CPU.
    """
    from .._config import get_backend, get_config
    from ..backends import framework_of, to_backend

    if output is not None:
        return to_backend(tensor, output)
    mode = get_config()["output_type"]
    if mode not in ("input", "backend"):
        return to_backend(tensor, mode)
    fw = framework_of(X) if not isinstance(X, (list, tuple, str)) else None
    if fw is not None and fw.name != "numpy":
        return to_backend(tensor, fw.name, fw.device_of(X))
    backend, device = get_backend()
    if backend not in ("auto", None):
        return to_backend(tensor, backend, device)
    if tensor.device.type == "cpu":
        return to_backend(tensor, "numpy")
    return tensor


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def st_settings(path: Path) -> dict[str, Any]:
    """pooling / normalize / max_length from a sentence-transformers layout, where there is one."""
    out: dict[str, Any] = {}
    modules = read_json(path / "modules.json") or []
    for mod in modules:
        kind = str(mod.get("type", ""))
        if kind.endswith("Pooling"):
            cfg = read_json(path / mod.get("path", "1_Pooling") / "config.json") or {}
            for key, mode in (("pooling_mode_cls_token", "cls"), ("pooling_mode_mean_tokens", "mean"),
                              ("pooling_mode_max_tokens", "max"),
                              ("pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len")):
                if cfg.get(key):
                    out["pooling"] = mode
                    break
        if kind.endswith("Normalize"):
            out["normalize"] = True
    if modules and "normalize" not in out:
        out["normalize"] = False
    sbert = read_json(path / "sentence_bert_config.json") or {}
    if sbert.get("max_seq_length"):
        out["max_length"] = int(sbert["max_seq_length"])
    return out


def load_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer

    with quiet_transformers():
        return AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)


def load_encoder(path: Path, *, device: Any, dtype: Any) -> tuple[Any, list[str]]:
    """The base model from ``path`` (safetensors, strict), on ``device``; and the head weights it dropped."""
    from transformers import AutoModel

    from ._safety import check_config, check_loading_info

    config = read_json(path / "config.json") or {}
    check_config(config, where=str(path))
    use_st = any(f.endswith(".safetensors") for f in os.listdir(path))
    with quiet_transformers():
        model, info = AutoModel.from_pretrained(str(path), local_files_only=True, trust_remote_code=False,
                                                use_safetensors=use_st, output_loading_info=True, dtype=dtype)
    dropped = check_loading_info(info, model=model, where=str(path), new_head=False)
    model.eval()
    return model.to(device), dropped


def model_max_length(tokenizer: Any, model: Any) -> int:
    limit = getattr(model.config, "max_position_embeddings", None) or 512
    tok = getattr(tokenizer, "model_max_length", None)
    if tok is None or tok > 100_000:
        tok = limit
    return int(min(tok, limit))


def pool(hidden: Any, mask: Any, mode: str) -> Any:
    """Pool token states ``hidden`` (b, t, d) under attention ``mask`` (b, t) into (b, d)."""
    if mode == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    if mode == "max":
        return hidden.masked_fill(m == 0, float("-inf")).amax(dim=1)
    summed = (hidden * m).sum(dim=1)
    counts = m.sum(dim=1).clamp(min=1e-9)
    if mode == "mean_sqrt_len":
        return summed / counts.sqrt()
    return summed / counts


# --------------------------------------------------------------------------- #
# The estimator
# --------------------------------------------------------------------------- #


class Embedder(TransformerMixin, BaseEstimator):
    """A pretrained text encoder: ``transform(texts)`` -> (n_samples, dim) embeddings.

    Parameters
    ----------
    model : str or path
        An alias (``"minilm"``), a repo id, ``hf://org/name@rev``, or a folder.
    pooling : {"auto", "mean", "cls", "max", "mean_sqrt_len"}
        How token states become one vector; ``"auto"`` follows the model's
        sentence-transformers config, else mean pooling.
    normalize : {"auto", True, False}
        L2-normalise the embeddings; ``"auto"`` follows the model's config.
    batch_size : int
        Texts per forward pass (texts are sorted by length first, as
        sentence-transformers does, to pad less).
    max_length : int, optional
        Tokens kept per text; default: the model's own limit.
    device : {"auto", "cpu", "cuda", ...}
        ``"auto"``: CUDA when available.
    dtype : {None, "float32", "float16", "bfloat16"}
        Weights and compute dtype (default float32).
    output : str, optional
        Force the output framework (``"numpy"``, ``"torch"``...); by default an
        array input is mirrored, else NumPy on the CPU and torch on a GPU.
    revision, allow_network, local_files_only, trust_pickle
        As in :func:`toolbox.hub.load`.

    Attributes
    ----------
    model_, tokenizer_ : the loaded transformers model and tokenizer
    embedding_dim_ : int
    source_ : dict
        Where the weights came from (path, repo id, commit).
    """

    def __init__(self, model: Any = "minilm", *, pooling: str = "auto", normalize: Any = "auto",
                 batch_size: int = 32, max_length: int | None = None, device: Any = "auto", dtype: Any = None,
                 output: str | None = None, revision: str | None = None, allow_network: bool | None = None,
                 local_files_only: bool | None = None, trust_pickle: bool = False) -> None:
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.dtype = dtype
        self.output = output
        self.revision = revision
        self.allow_network = allow_network
        self.local_files_only = local_files_only
        self.trust_pickle = trust_pickle

    # -- loading ----------------------------------------------------------- #

    def _check_params(self) -> None:
        if self.pooling not in _POOLING:
            raise ValueError(f"pooling={self.pooling!r} is not one of {_POOLING}")
        if self.normalize not in ("auto", True, False):
            raise ValueError(f"normalize={self.normalize!r} must be 'auto', True or False")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size!r} must be a positive int")
        if self.max_length is not None and (not isinstance(self.max_length, int) or self.max_length < 1):
            raise ValueError(f"max_length={self.max_length!r} must be a positive int or None")

    def _load_key(self) -> tuple:
        return (str(self.model), self.revision, str(self.device), str(self.dtype), self.trust_pickle)

    def _ensure_loaded(self) -> None:
        self._check_params()
        if getattr(self, "_loaded_key", None) == self._load_key() and hasattr(self, "model_"):
            self._settle()
            return
        from ._resolve import resolve

        resolved = resolve(self.model, revision=self.revision, allow_network=self.allow_network,
                           local_files_only=self.local_files_only, trust_pickle=self.trust_pickle)
        self._load_from(resolved.path, resolved.describe())

    def _load_from(self, path: Path, source: dict[str, Any]) -> None:
        device = torch_device(self.device)
        self.model_, self.dropped_weights_ = load_encoder(path, device=device, dtype=torch_dtype(self.dtype))
        self.tokenizer_ = load_tokenizer(path)
        self.source_ = source
        self._st = st_settings(path)
        self.device_ = str(device)
        self.embedding_dim_ = int(self.model_.config.hidden_size)
        self._loaded_key = self._load_key()
        self._settle()

    def _settle(self) -> None:
        st = self._st
        self.pooling_ = st.get("pooling", "mean") if self.pooling == "auto" else self.pooling
        self.normalize_ = bool(st.get("normalize", False)) if self.normalize == "auto" else bool(self.normalize)
        limit = model_max_length(self.tokenizer_, self.model_)
        self.max_length_ = min(self.max_length or st.get("max_length") or limit, limit)

    # -- scikit-learn API --------------------------------------------------- #

    def fit(self, X: Any = None, y: Any = None) -> Embedder:
        """Load the pretrained weights (no training; an already loaded model is kept). Returns self."""
        self._ensure_loaded()
        return self

    def transform(self, X: Any) -> Any:
        """Embed texts.

        Parameters
        ----------
        X : sequence of str, shape (n_samples,)

        Returns
        -------
        array, shape (n_samples, embedding_dim_)
            NumPy on the CPU, torch on a GPU, unless ``output`` or the input says otherwise.
        """
        self._ensure_loaded()
        texts = as_texts(X)
        return emit(self._embed(texts), X, self.output)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X).transform(X)``."""
        return self.fit(X, y).transform(X)

    def _embed(self, texts: list[str], *, grad: bool = False) -> Any:
        import torch

        model, tok = self.model_, self.tokenizer_
        device = next(model.parameters()).device
        n = len(texts)
        order = np.argsort(np.fromiter((-len(t) for t in texts), dtype=np.int64, count=n), kind="stable")
        out = torch.empty((n, self.embedding_dim_), dtype=next(model.parameters()).dtype, device=device)
        ctx = torch.enable_grad() if grad else torch.inference_mode()
        with ctx, cpu_threads(model):
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=self.max_length_,
                          return_tensors="pt")
                enc = {k: v.to(device) for k, v in enc.items()}
                hidden = model(**enc).last_hidden_state
                vec = pool(hidden, enc["attention_mask"], self.pooling_)
                if self.normalize_:
                    vec = torch.nn.functional.normalize(vec, p=2, dim=1)
                out[torch.from_numpy(idx).to(device)] = vec
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``embedding0 ... embedding{d-1}``."""
        self._ensure_loaded()
        return np.asarray([f"embedding{i}" for i in range(self.embedding_dim_)], dtype=object)

    def save_pretrained(self, path: str | os.PathLike) -> Path:
        """Write a folder transformers and sentence-transformers load (safetensors, tokenizer, card)."""
        from ._share import save_pretrained

        return save_pretrained(self, path)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags
