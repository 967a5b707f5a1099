"""What toolbox.hub reads: safetensors, JSON and tokenizer files; never pickle, never remote code."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

__all__ = ["PICKLE_PATTERNS", "UnsafeModelError", "check_config", "select_files"]

#: files fetched from a repo: weights in safetensors, JSON configs, tokenizer vocabularies, the card
SAFE_PATTERNS = ("*.safetensors", "*.json", "*.txt", "*.model", "*.jinja", "*.md", "*.tiktoken",
                 "merges.txt", "vocab.*", ".gitattributes")
#: pickle-based formats: refused unless ``trust_pickle=True``
PICKLE_PATTERNS = ("*.bin", "*.pkl", "*.pickle", "*.joblib", "*.pt", "*.pth", "*.ckpt", "*.npy", "*.npz")
#: never fetched: code (never executed), other frameworks' weights toolbox does not load
NEVER_PATTERNS = ("*.py", "*.h5", "*.msgpack", "*.onnx", "*.ot", "*.tflite", "*.mlmodel", "*.gguf",
                  "onnx/*", "openvino/*", "coreml/*", "*.so", "*.dll")


class UnsafeModelError(RuntimeError):
    """A model would need pickle or remote code to load."""


def _any(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(name, p) for p in patterns)


def select_files(files: list[str], *, trust_pickle: bool = False, repo: str = "") -> list[str]:
    """The files of a repo toolbox downloads; raises :class:`UnsafeModelError` when only pickle weights exist.

    Parameters
    ----------
    files : list of str
        Every file in the repo at the revision.
    trust_pickle : bool
        Also take pickle-based weights (``pytorch_model.bin``...), when there
        are no safetensors weights. There is never a silent fallback: without
        it such a repo is refused, naming the files.
    """
    chosen = [f for f in files if _any(f, SAFE_PATTERNS) and not _any(f, NEVER_PATTERNS)]
    has_safetensors = any(f.endswith(".safetensors") for f in chosen)
    pickled = [f for f in files if _any(f, PICKLE_PATTERNS) and not _any(f, NEVER_PATTERNS)]
    if not has_safetensors and pickled:
        if not trust_pickle:
            raise UnsafeModelError(
                f"{repo or 'the model'} has weights only in pickle formats ({', '.join(sorted(pickled))}); "
                "loading pickle can run arbitrary code. Pass trust_pickle=True if you trust the repo's "
                "authors, or use a revision with model.safetensors.")
        chosen += [f for f in pickled if f.endswith((".bin", ".pt", ".pth"))]
    return sorted(set(chosen))


def check_folder(files: list[str], *, trust_pickle: bool, where: str) -> None:
    """Refuse a local model folder whose weights are pickle only (unless ``trust_pickle``)."""
    if any(f.endswith(".safetensors") for f in files):
        return
    pickled = [f for f in files if _any(f, PICKLE_PATTERNS)]
    if pickled and not trust_pickle:
        raise UnsafeModelError(
            f"{where} has weights only in pickle formats ({', '.join(sorted(pickled))}); pass "
            "trust_pickle=True to load them anyway (toolbox never falls back to pickle silently)")


def check_config(config: dict[str, Any], *, where: str) -> None:
    """Refuse a config that needs remote code (``auto_map`` with no model type transformers knows)."""
    if "auto_map" in config:
        from transformers import CONFIG_MAPPING

        if config.get("model_type") not in CONFIG_MAPPING:
            raise UnsafeModelError(
                f"{where} needs custom code from the repo (config.json has auto_map, model_type "
                f"{config.get('model_type')!r} is not built into transformers); toolbox never runs remote code")


def check_loading_info(info: dict[str, Any], *, model: Any, where: str, new_head: bool) -> list[str]:
    """Strict weight loading: raise on missing or unexpected weights; return dropped head weights.

    Weights outside the base model (a pre-training head such as ``cls.*`` when
    only the encoder is wanted) may be dropped, and are returned; a missing
    weight inside the base model, or any missing head weight unless a new head
    is being made, is an error naming them; so is a size mismatch.
    """
    prefix = getattr(model, "base_model_prefix", "") or ""
    has_prefix = bool(prefix) and hasattr(model, prefix)
    children = {n for n, _ in model.named_children()}

    def in_base(key: str) -> bool:
        if has_prefix:
            return key.startswith(prefix + ".")
        return key.split(".", 1)[0] in children

    missing = sorted(info.get("missing_keys") or ())
    unexpected = sorted(info.get("unexpected_keys") or ())
    mismatched = sorted(str(m) for m in (info.get("mismatched_keys") or ()))
    errors = list(info.get("error_msgs") or ())
    bad_missing = [k for k in missing if in_base(k) or not new_head]
    bad_unexpected = [k for k in unexpected if in_base(k) and has_prefix]
    if not has_prefix:  # a bare base model: keys of its own modules must all match
        bad_unexpected = [k for k in unexpected if k.split(".", 1)[0] in children]
    if not new_head:
        mismatched_bad = mismatched
    else:
        mismatched_bad = [m for m in mismatched if in_base(m.strip("('").split("'")[0])]
    problems = []
    if bad_missing:
        problems.append(f"missing weights: {', '.join(bad_missing)}")
    if bad_unexpected:
        problems.append(f"unexpected weights: {', '.join(bad_unexpected)}")
    if mismatched_bad:
        problems.append(f"weights of the wrong shape: {', '.join(mismatched_bad)}")
    if errors:
        problems.append("; ".join(map(str, errors)))
    if problems:
        raise UnsafeModelError(f"strict loading of {where} failed: " + "; ".join(problems))
    return [k for k in unexpected if k not in bad_unexpected]
