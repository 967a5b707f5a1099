"""Sharing: ``save_pretrained`` folders plain transformers loads, model cards, ``push`` to a Hub."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_saved", "model_card", "push", "save_pretrained"]

TOOLBOX_FILE = "toolbox_hub.json"
_LOAD_PARAMS = ("device", "dtype", "revision", "allow_network", "local_files_only", "trust_pickle")


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _params(est: Any) -> dict[str, Any]:
    return {k: v for k, v in est.get_params(deep=False).items()
            if k != "model" and k not in _LOAD_PARAMS and _jsonable(v)}


def _st_files(emb: Any, folder: Path) -> None:
    """sentence-transformers' module files, so that ``SentenceTransformer(folder)`` embeds as toolbox does."""
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if emb.normalize_:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
        (folder / "2_Normalize").mkdir(exist_ok=True)
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "1_Pooling").mkdir(exist_ok=True)
    pooling = {f"pooling_mode_{m}": emb.pooling_ == key for key, m in
               (("cls", "cls_token"), ("mean", "mean_tokens"), ("max", "max_tokens"),
                ("mean_sqrt_len", "mean_sqrt_len_tokens"))}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": emb.embedding_dim_, **pooling}, indent=2))
    (folder / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": emb.max_length_, "do_lower_case": False}, indent=2))


def _save_transformers(model: Any, tokenizer: Any, folder: Path) -> None:
    from ._embedder import quiet_transformers

    with quiet_transformers():
        model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
    if not any(f.endswith(".safetensors") for f in os.listdir(folder)):
        raise RuntimeError(f"transformers wrote no safetensors weights to {folder}")


def save_pretrained(model: Any, path: str | os.PathLike, *, metrics: dict[str, Any] | None = None) -> Path:
    """Save ``model`` to the folder ``path``, replacing it in one step.

    An :class:`Embedder` or :class:`TextClassifier` becomes a folder plain
    transformers loads (``config.json`` with ``id2label``, ``model.safetensors``,
    the tokenizer), plus ``toolbox_hub.json`` (toolbox's own settings and
    classes) and a ``README.md`` model card; a ``"logreg"`` head is stored with
    ``toolbox.save`` in ``head/``. Any other toolbox estimator is written in
    toolbox's model-file format with a model card. Nothing is pickled.

    Parameters
    ----------
    model : estimator
    path : str or path-like
        A new folder, or one written by ``save_pretrained`` before.
    metrics : dict, optional
        Extra figures for the model card.

    Returns
    -------
    Path
    """
    from ._classifier import TextClassifier
    from ._embedder import Embedder

    path = Path(path)
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not (
            (path / TOOLBOX_FILE).is_file() or (path / "model.json").is_file()))):
        raise FileExistsError(f"{path} exists and was not written by save_pretrained; choose another path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        meta: dict[str, Any] = {"format": "toolbox-hub", "version": 1, "estimator": type(model).__name__}
        if isinstance(model, Embedder):
            model._ensure_loaded()
            _save_transformers(model.model_, model.tokenizer_, tmp)
            _st_files(model, tmp)
        elif isinstance(model, TextClassifier):
            from ..base import check_is_fitted

            check_is_fitted(model, "classes_")
            classes = np.asarray(model.classes_)
            meta["classes"] = classes.tolist()
            meta["classes_dtype"] = classes.dtype.str
            if model.head == "logreg":
                from ..io import save as tb_save

                _save_transformers(model.embedder_.model_, model.embedder_.tokenizer_, tmp)
                _st_files(model.embedder_, tmp)
                tb_save(model.head_, tmp / "head")
            else:
                _save_transformers(model.model_, model.tokenizer_, tmp)
        else:
            from ..io import save as tb_save

            os.rmdir(tmp)
            tb_save(model, tmp)
            meta = None  # the model file says what it is
        if meta is not None:
            meta["params"] = _params(model)
            meta["source"] = getattr(model, "source_", None)
            meta["data_fingerprint"] = getattr(model, "data_fingerprint_", None)
            meta["evaluation"] = getattr(model, "evaluation_results_", [])
            (tmp / TOOLBOX_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        (tmp / "README.md").write_text(model_card(model, metrics=metrics), encoding="utf-8")
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def load_saved(resolved: Any, *, name: Any, common: dict[str, Any], params: dict[str, Any]) -> Any:
    """Rebuild the estimator a ``save_pretrained`` folder holds."""
    from ._classifier import TextClassifier
    from ._embedder import Embedder

    folder = Path(resolved.path)
    meta = json.loads((folder / TOOLBOX_FILE).read_text())
    if meta.get("format") != "toolbox-hub":
        raise ValueError(f"{folder / TOOLBOX_FILE} is not a toolbox hub file")
    kinds = {"Embedder": Embedder, "TextClassifier": TextClassifier}
    cls = kinds.get(meta.get("estimator"))
    if cls is None:
        raise ValueError(f"{folder}: unknown estimator {meta.get('estimator')!r} (expected {sorted(kinds)})")
    stored = {k: v for k, v in (meta.get("params") or {}).items() if k in cls().get_params()}
    est = cls(model=name, **{**stored, **common, **params})
    est._check_params()
    source = {**resolved.describe(), "trained_from": meta.get("source")}
    if meta.get("data_fingerprint"):
        est.data_fingerprint_ = meta["data_fingerprint"]
    if meta.get("evaluation"):
        est.evaluation_results_ = list(meta["evaluation"])
    if cls is Embedder:
        est._load_from(folder, source)
        return est
    classes = np.asarray(meta["classes"], dtype=np.dtype(meta["classes_dtype"]))
    if est.head == "logreg":
        from ..io import load as tb_load

        est._load_from(folder, source)
        emb = est._embedder()
        emb._check_params()
        emb._load_from(folder, source)
        est.embedder_ = emb
        est.head_ = tb_load(folder / "head")
        est.classes_ = classes
        est.history_ = []
        return est
    est._load_from(folder, source, classes=classes)
    return est


# --------------------------------------------------------------------------- #
# Model cards
# --------------------------------------------------------------------------- #


def _model_index(name: str, results: list[dict[str, Any]], task: str) -> list[dict[str, Any]]:
    entries = []
    for r in results:
        metrics = [{"type": k, "value": r[k], "name": k} for k in ("accuracy", "f1") if r.get(k) is not None]
        if metrics:
            entries.append({"task": {"type": task}, "dataset": {"name": r.get("dataset") or "unnamed",
                                                                 "type": r.get("dataset") or "unnamed"},
                            "metrics": metrics})
    return [{"name": name, "results": entries}] if entries else []


def model_card(model: Any, *, metrics: dict[str, Any] | None = None, name: str | None = None) -> str:
    """A README.md model card: YAML metadata (with ``model-index`` evaluation results) and a summary.

    Lists the parameters, the training data fingerprint, metrics, evaluation
    results (as recorded by :func:`toolbox.hub.evaluate`) and where the base
    weights came from.
    """
    from .. import __version__
    from ._classifier import TextClassifier
    from ._embedder import Embedder

    source = getattr(model, "source_", None) or {}
    base = source.get("repo_id") or (source.get("trained_from") or {}).get("repo_id")
    results = list(getattr(model, "evaluation_results_", []) or [])
    is_hub = isinstance(model, (Embedder, TextClassifier))
    task = "text-classification" if isinstance(model, TextClassifier) else (
        "feature-extraction" if isinstance(model, Embedder) else "tabular-classification"
        if hasattr(model, "classes_") else "tabular-regression")
    title = name or type(model).__name__
    header: dict[str, Any] = {"library_name": "transformers" if is_hub else "toolbox",
                              "tags": ["toolbox", task], "pipeline_tag": task}
    if base:
        header["base_model"] = base
    index = _model_index(title, results, task)
    if index:
        header["model-index"] = index
    lines = ["---"] + [f"{k}: {json.dumps(v)}" for k, v in header.items()] + ["---", "", f"# {title}", ""]
    lines.append(f"A `{type(model).__name__}` saved by toolbox {__version__}"
                 + (f", fine-tuned from `{base}`." if base and isinstance(model, TextClassifier) else "."))
    lines.append("")
    if is_hub:
        lines += ["Load it with toolbox (`tb.hub.load(path_or_repo)`) or with plain transformers "
                  "(`AutoModel.from_pretrained` / `AutoModelForSequenceClassification.from_pretrained`).", ""]
    else:
        lines += ["Load it with `tb.hub.load(\"toolbox://<repo id>\")` or `toolbox.load(folder)`; "
                  "safetensors and JSON, no pickle.", ""]
    if hasattr(model, "classes_"):
        lines += [f"Classes: {', '.join(map(str, np.asarray(model.classes_).tolist()))}", ""]
    lines += ["## Parameters", "", "| parameter | value |", "|---|---|"]
    for k, v in sorted(model.get_params(deep=False).items()):
        lines.append(f"| `{k}` | `{v!r}` |")
    lines.append("")
    fp = getattr(model, "data_fingerprint_", None)
    if fp:
        lines += ["## Training data", "", f"Fingerprint (blake2b of the texts and labels): `{fp}`"
                  + (f", {model.n_train_} samples" if hasattr(model, "n_train_") else ""), ""]
    if metrics:
        lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in metrics.items()]
        lines.append("")
    if results:
        lines += ["## Evaluation results", "", "| dataset | n | accuracy | f1 | latency (ms) | throughput (/s) | device |",
                  "|---|---|---|---|---|---|---|"]
        for r in results:
            lines.append(f"| {r.get('dataset') or '-'} | {r.get('n')} | {_fmt(r.get('accuracy'))} | "
                         f"{_fmt(r.get('f1'))} | {_fmt(r.get('latency_ms'))} | {_fmt(r.get('throughput'))} | "
                         f"{r.get('device')} |")
        lines.append("")
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)


# --------------------------------------------------------------------------- #
# Push
# --------------------------------------------------------------------------- #


def push(model: Any, repo_id: str, *, private: bool = True, endpoint: str | None = None,
         token: str | bool | None = None, commit_message: str | None = None,
         metrics: dict[str, Any] | None = None) -> str:
    """Upload ``model`` to the Hub repo ``repo_id`` (``create_repo`` + ``upload_folder``).

    Parameters
    ----------
    model : estimator, or a folder written by ``save_pretrained``
    repo_id : str
        ``"org/name"``; created (private by default) if it does not exist.
    endpoint : str, optional
        The Hub's URL; default ``HF_ENDPOINT`` (read now) or huggingface.co.
    token : str, optional
        Default: huggingface_hub's own lookup (``HF_TOKEN``, the saved login).

    Returns
    -------
    str
        The commit URL.
    """
    from huggingface_hub import HfApi

    from ._aliases import is_repo_id
    from ._resolve import network_allowed

    if not is_repo_id(repo_id):
        raise ValueError(f"repo_id {repo_id!r} is not of the form 'org/name'")
    network_allowed(allow_network=True)  # raises if offline mode is set in the environment
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    api = HfApi(endpoint=endpoint, token=token)
    with tempfile.TemporaryDirectory(prefix="toolbox-push-") as tmp:
        if isinstance(model, (str, os.PathLike)):
            folder = Path(model)
            if not folder.is_dir():
                raise FileNotFoundError(f"{folder} is not a folder to push")
        else:
            folder = save_pretrained(model, Path(tmp) / "model", metrics=metrics)
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo_id, folder_path=str(folder),
                                 commit_message=commit_message or f"Upload {type(model).__name__} with toolbox")
    return str(info.commit_url if hasattr(info, "commit_url") else info)
