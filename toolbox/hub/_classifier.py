"""``TextClassifier``: fine-tune a pretrained encoder (or fit a logistic head on its frozen embeddings)."""

from __future__ import annotations

import hashlib
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..base import BaseEstimator, ClassifierMixin, check_is_fitted
from ._embedder import (
    Embedder,
    as_texts,
    cpu_threads,
    emit,
    load_tokenizer,
    model_max_length,
    quiet_transformers,
    read_json,
    torch_device,
    torch_dtype,
)

__all__ = ["TextClassifier"]

_HEADS = ("finetune", "logreg")


def _labels(y: Any, n: int) -> np.ndarray:
    from ..backends import framework_of, to_backend

    if framework_of(y) is not None and not isinstance(y, np.ndarray):
        y = to_backend(y, "numpy")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per text), got shape {y.shape}")
    if y.shape[0] != n:
        raise ValueError(f"X has {n} texts but y has {y.shape[0]} labels")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError(f"y has NaN at position {int(np.flatnonzero(np.isnan(y))[0])}")
    return y


def fingerprint(texts: list[str], y: np.ndarray | None = None) -> str:
    """A short content hash of the training data (texts and labels), for the model card."""
    h = hashlib.blake2b(digest_size=16)
    for t in texts:
        b = t.encode("utf-8")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    if y is not None:
        h.update(np.asarray(y).astype(str).astype("U").tobytes())
    return h.hexdigest()


def _active_run() -> Any:
    if "toolbox.tracking" not in sys.modules:  # nothing can be active if tracking was never imported
        return None
    return sys.modules["toolbox.tracking"].active_run()


class TextClassifier(ClassifierMixin, BaseEstimator):
    """A pretrained encoder with a classification head: ``fit(texts, y)``, ``predict``, ``predict_proba``.

    Parameters
    ----------
    model : str or path
        Alias, repo id, ``hf://`` address or folder of the pretrained encoder
        (or of a classifier, whose head is kept when ``y`` has the same classes).
    head : {"finetune", "logreg"}
        ``"finetune"``: train encoder and a linear head end to end.
        ``"logreg"``: keep the encoder frozen and fit a toolbox
        ``LogisticRegression`` on its embeddings (the SetFit-style few-shot baseline).
    epochs, learning_rate, batch_size, weight_decay : training settings (``"finetune"``)
    warmup : float or int
        Linear warm-up of the learning rate: a fraction of all steps (< 1) or a step count.
    max_length : int
        Tokens kept per text.
    early_stopping : bool
        Hold out ``validation_fraction`` of the data, keep the epoch with the
        best validation accuracy, stop after ``n_iter_no_change`` epochs without progress.
    mixed_precision : {"auto", True, False}
        bfloat16 (or float16 with loss scaling) autocast on CUDA; ``"auto"``: on a GPU only.
    lora : dict or bool, optional
        Train LoRA adapters through ``peft`` (``{"r": 8, "alpha": 16, "dropout": 0.05}``);
        merged into the weights after training.
    C : float
        Inverse regularisation of the ``"logreg"`` head.
    pooling, normalize : embedding settings of the ``"logreg"`` head (see :class:`Embedder`).
    device, dtype, output, revision, allow_network, local_files_only, trust_pickle
        As in :class:`Embedder`.
    random_state : int
        Seeds head initialisation, dropout, shuffling and the validation split.
    verbose : bool
        Print one line per epoch.

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
    model_, tokenizer_ : the fine-tuned transformers model and its tokenizer (``"finetune"``)
    embedder_, head_ : the frozen :class:`Embedder` and the fitted ``LogisticRegression`` (``"logreg"``)
    history_ : list of dict
        Per epoch: ``train_loss`` and, with early stopping, ``val_accuracy``.
    data_fingerprint_ : str
        Content hash of the training texts and labels.
    """

    def __init__(self, model: Any = "bert-base", *, head: str = "finetune", epochs: int = 3,
                 learning_rate: float = 5e-5, batch_size: int = 16, warmup: float = 0.1,
                 weight_decay: float = 0.01, max_length: int = 128, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 2, mixed_precision: Any = "auto",
                 lora: Any = None, C: float = 1.0, pooling: str = "auto", normalize: Any = "auto",
                 device: Any = "auto", dtype: Any = None, random_state: int = 0, output: str | None = None,
                 revision: str | None = None, allow_network: bool | None = None,
                 local_files_only: bool | None = None, trust_pickle: bool = False, verbose: bool = False) -> None:
        self.model = model
        self.head = head
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.max_length = max_length
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.mixed_precision = mixed_precision
        self.lora = lora
        self.C = C
        self.pooling = pooling
        self.normalize = normalize
        self.device = device
        self.dtype = dtype
        self.random_state = random_state
        self.output = output
        self.revision = revision
        self.allow_network = allow_network
        self.local_files_only = local_files_only
        self.trust_pickle = trust_pickle
        self.verbose = verbose

    # -- checks and loading ------------------------------------------------ #

    def _check_params(self) -> None:
        if self.head not in _HEADS:
            raise ValueError(f"head={self.head!r} is not one of {_HEADS}")
        for name in ("epochs", "batch_size", "max_length", "n_iter_no_change"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name}={v!r} must be a positive int")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate={self.learning_rate!r} must be a positive number")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction={self.validation_fraction!r} must be in (0, 1)")
        if not (isinstance(self.warmup, (int, float)) and self.warmup >= 0):
            raise ValueError(f"warmup={self.warmup!r} must be >= 0 (a fraction of the steps, or a count)")
        if self.mixed_precision not in ("auto", True, False, "bf16", "fp16"):
            raise ValueError(f"mixed_precision={self.mixed_precision!r} must be 'auto', True, False, 'bf16' or 'fp16'")

    def _load_key(self) -> tuple:
        return (str(self.model), self.revision, str(self.device), str(self.dtype), self.trust_pickle, self.head)

    def _ensure_source(self) -> None:
        if getattr(self, "_loaded_key", None) == self._load_key() and hasattr(self, "_path"):
            return
        from ._resolve import resolve

        resolved = resolve(self.model, revision=self.revision, allow_network=self.allow_network,
                           local_files_only=self.local_files_only, trust_pickle=self.trust_pickle)
        self._load_from(resolved.path, resolved.describe())

    def _load_from(self, path: Path, source: dict[str, Any], *, classes: np.ndarray | None = None) -> None:
        """Point at a pretrained folder; a classifier checkpoint there is loaded ready to predict."""
        self._path = Path(path)
        self.source_ = source
        self._loaded_key = self._load_key()
        if self.head == "logreg":
            return
        config = read_json(self._path / "config.json") or {}
        is_classifier = any(str(a).endswith("ForSequenceClassification") for a in config.get("architectures") or ())
        if is_classifier:
            self.tokenizer_ = load_tokenizer(self._path)
            self.model_ = self._build(None, None)
            if classes is None:
                id2label = self.model_.config.id2label
                classes = np.asarray([id2label[i] for i in range(len(id2label))])
            self.classes_ = np.asarray(classes)

    def _build(self, classes: np.ndarray | None, base: Path | None) -> Any:
        """The sequence-classification model from ``self._path``: the head kept, or a new one for ``classes``."""
        from transformers import AutoConfig, AutoModelForSequenceClassification

        from ._safety import check_config, check_loading_info

        path = base or self._path
        raw = read_json(path / "config.json") or {}
        check_config(raw, where=str(path))
        use_st = any(f.endswith(".safetensors") for f in os.listdir(path))
        kw: dict[str, Any] = dict(local_files_only=True, trust_remote_code=False, use_safetensors=use_st,
                                  output_loading_info=True, dtype=torch_dtype(self.dtype))
        new_head = False
        if classes is not None:
            cfg = AutoConfig.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
            old = [cfg.id2label[i] for i in range(len(cfg.id2label))] if cfg.id2label else []
            is_clf = any(str(a).endswith("ForSequenceClassification") for a in raw.get("architectures") or ())
            labels = [str(c) for c in classes]
            if not (is_clf and old == labels):
                new_head = True
                kw.update(num_labels=len(labels), id2label=dict(enumerate(labels)),
                          label2id={c: i for i, c in enumerate(labels)}, ignore_mismatched_sizes=is_clf)
        with quiet_transformers():
            model, info = AutoModelForSequenceClassification.from_pretrained(str(path), **kw)
        if getattr(model.config, "pad_token_id", None) is None and getattr(self, "tokenizer_", None) is not None:
            model.config.pad_token_id = self.tokenizer_.pad_token_id
        self.dropped_weights_ = check_loading_info(info, model=model, where=str(path), new_head=new_head)
        return model.to(torch_device(self.device))

    # -- fit ------------------------------------------------------------------ #

    def fit(self, X: Any, y: Any) -> TextClassifier:
        """Fine-tune on texts ``X`` with labels ``y`` (or fit the ``"logreg"`` head). Returns self.

        Parameters
        ----------
        X : sequence of str, shape (n_samples,)
        y : array-like, shape (n_samples,)
            Any labels (strings, ints); at least two classes.
        """
        self._check_params()
        texts = as_texts(X)
        y = _labels(y, len(texts))
        classes, y_idx = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(f"y has a single class ({classes[0]!r}); a classifier needs at least two")
        self._ensure_source()
        self.data_fingerprint_ = fingerprint(texts, y)
        self.n_train_ = len(texts)
        if self.head == "logreg":
            return self._fit_logreg(texts, y)
        return self._fit_finetune(texts, classes, y_idx)

    def _embedder(self) -> Embedder:
        return Embedder(self.model, pooling=self.pooling, normalize=self.normalize,
                        batch_size=max(self.batch_size, 32), max_length=self.max_length, device=self.device,
                        dtype=self.dtype, revision=self.revision, allow_network=self.allow_network,
                        local_files_only=self.local_files_only, trust_pickle=self.trust_pickle)

    def _features(self, texts: list[str]) -> Any:
        from ..backends import to_backend

        z = self.embedder_._embed(texts)
        return to_backend(z, "numpy") if z.device.type == "cpu" else z

    def _fit_logreg(self, texts: list[str], y: np.ndarray) -> TextClassifier:
        from ..backends import to_backend
        from ..linear_model import LogisticRegression

        emb = self._embedder()
        emb._check_params()
        emb._load_from(self._path, self.source_)
        self.embedder_ = emb
        self.head_ = LogisticRegression(C=self.C, max_iter=1000).fit(self._features(texts), y)
        classes = self.head_.classes_
        self.classes_ = classes if isinstance(classes, np.ndarray) else to_backend(classes, "numpy")
        self.history_ = []
        return self

    def _amp(self, device: Any) -> tuple[Any, bool]:
        import torch

        want = self.mixed_precision
        if want is False or device.type != "cuda" or (want == "auto" and device.type != "cuda"):
            return None, False
        if want == "fp16" or (want in ("auto", True) and not torch.cuda.is_bf16_supported()):
            return torch.float16, True
        return torch.bfloat16, False

    def _fit_finetune(self, texts: list[str], classes: np.ndarray, y_idx: np.ndarray) -> TextClassifier:
        import torch

        device = torch_device(self.device)
        rng = np.random.default_rng(self.random_state)
        n = len(texts)
        train_idx = np.arange(n)
        val_idx = np.empty(0, dtype=np.int64)
        if self.early_stopping:
            perm = rng.permutation(n)
            n_val = max(1, round(self.validation_fraction * n))
            if n - n_val < 2:
                raise ValueError(f"{n} texts are too few to hold out a validation split")
            val_idx, train_idx = perm[:n_val], perm[n_val:]
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.random_state)
            if device.type == "cuda":
                torch.cuda.manual_seed_all(self.random_state)
            self.tokenizer_ = load_tokenizer(self._path)
            model = self._build(classes, None)
            if self.lora:
                model = self._with_lora(model)
            self.max_length_ = min(self.max_length, model_max_length(self.tokenizer_, model))
            enc = self.tokenizer_([texts[i] for i in range(n)], truncation=True, max_length=self.max_length_)
            labels = torch.as_tensor(y_idx, dtype=torch.long)
            with cpu_threads(model):
                self.history_ = self._train(model, enc, labels, train_idx, val_idx, rng, device)
            if self.lora:
                model = model.merge_and_unload()
        model.eval()
        self.model_ = model
        self.classes_ = classes
        return self

    def _with_lora(self, model: Any) -> Any:
        try:
            import peft
        except ImportError:
            raise ImportError("lora=... needs peft: pip install peft") from None
        opts = dict(self.lora) if isinstance(self.lora, dict) else {}
        cfg = peft.LoraConfig(task_type=peft.TaskType.SEQ_CLS, r=opts.get("r", 8),
                              lora_alpha=opts.get("alpha", 16), lora_dropout=opts.get("dropout", 0.05),
                              target_modules=opts.get("target_modules"))
        return peft.get_peft_model(model, cfg)

    def _batch(self, enc: Any, idx: np.ndarray, device: Any) -> dict[str, Any]:
        feats = [{k: enc[k][i] for k in enc.keys()} for i in idx]
        batch = self.tokenizer_.pad(feats, return_tensors="pt")
        return {k: v.to(device) for k, v in batch.items()}

    def _train(self, model: Any, enc: Any, labels: Any, train_idx: np.ndarray, val_idx: np.ndarray,
               rng: np.random.Generator, device: Any) -> list[dict[str, float]]:
        import torch

        decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": self.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=self.learning_rate)
        steps_per_epoch = math.ceil(len(train_idx) / self.batch_size)
        total = self.epochs * steps_per_epoch
        warm = int(self.warmup * total) if self.warmup < 1 else int(self.warmup)

        def schedule(step: int) -> float:
            if step < warm:
                return (step + 1) / (warm + 1)
            return max(0.0, (total - step) / max(1, total - warm))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
        amp_dtype, scale = self._amp(device)
        scaler = torch.amp.GradScaler("cuda") if scale else None
        run = _active_run()
        history: list[dict[str, float]] = []
        best, best_state, stale = -1.0, None, 0
        for epoch in range(self.epochs):
            model.train()
            order = train_idx[rng.permutation(len(train_idx))]
            losses = []
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = self._batch(enc, idx, device)
                target = labels[idx].to(device)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    loss = model(**batch, labels=target).loss
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.unscale_(opt)
                else:
                    loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                if scaler is not None:
                    scaler.step(opt)
                    scaler.update()
                else:
                    opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                losses.append(float(loss.detach()))
            row = {"epoch": epoch + 1, "train_loss": float(np.mean(losses))}
            if len(val_idx):
                probs = self._proba_batches(model, enc, val_idx, device, amp_dtype)
                acc = float((probs.argmax(1).cpu() == labels[val_idx]).float().mean())
                row["val_accuracy"] = acc
                if acc > best:
                    best, stale = acc, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    stale += 1
            history.append(row)
            if run is not None:
                run.log_metrics({f"hub.{k}": v for k, v in row.items() if k != "epoch"}, step=epoch + 1)
            if self.verbose:
                print(f"epoch {epoch + 1}/{self.epochs}: " + ", ".join(f"{k}={v:.4f}" for k, v in row.items()
                                                                        if k != "epoch"))
            if len(val_idx) and stale >= self.n_iter_no_change:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        return history

    def _proba_batches(self, model: Any, enc: Any, idx: np.ndarray, device: Any, amp_dtype: Any = None) -> Any:
        import torch

        model.eval()
        lengths = np.asarray([len(enc["input_ids"][i]) for i in idx])
        order = idx[np.argsort(-lengths, kind="stable")]
        out = torch.empty((len(idx), model.config.num_labels), dtype=torch.float32, device=device)
        where = {int(j): k for k, j in enumerate(idx)}
        bs = max(self.batch_size, 32)
        with torch.inference_mode():
            for start in range(0, len(order), bs):
                chunk = order[start:start + bs]
                batch = self._batch(enc, chunk, device)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    logits = model(**batch).logits
                pos = torch.as_tensor([where[int(j)] for j in chunk], device=device)
                out[pos] = torch.softmax(logits.float(), dim=-1)
        return out

    # -- predict ---------------------------------------------------------- #

    def _proba_tensor(self, texts: list[str]) -> Any:
        import torch

        if self.head == "logreg":
            check_is_fitted(self, "head_")
            p = self.head_.predict_proba(self._features(texts))
            return p if isinstance(p, torch.Tensor) else torch.from_numpy(np.asarray(p))
        check_is_fitted(self, "model_")
        device = next(self.model_.parameters()).device
        limit = getattr(self, "max_length_", None) or min(self.max_length,
                                                          model_max_length(self.tokenizer_, self.model_))
        enc = self.tokenizer_(texts, truncation=True, max_length=limit)
        with cpu_threads(self.model_):
            return self._proba_batches(self.model_, enc, np.arange(len(texts)), device)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self, "classes_")
        return emit(self._proba_tensor(as_texts(X)), X, self.output)

    def predict(self, X: Any) -> Any:
        """Predicted labels, shape (n_samples,): the caller's label type (strings stay NumPy)."""
        import torch

        check_is_fitted(self, "classes_")
        idx = self._proba_tensor(as_texts(X)).argmax(dim=1).cpu().numpy()
        labels = self.classes_[idx]
        if labels.dtype.kind not in "biuf":
            return labels
        return emit(torch.from_numpy(labels), X, self.output)

    def save_pretrained(self, path: str | os.PathLike) -> Path:
        """Write a folder plain transformers loads (config with ``id2label``, safetensors, tokenizer, card)."""
        from ._share import save_pretrained

        return save_pretrained(self, path)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
