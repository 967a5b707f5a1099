"""toolbox.hub on a tiny BERT built by the tests: names, offline loading, embedding, fine-tuning, saving, safety."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hub_fixtures.plugin import *  # noqa: F403  (fixtures; autouse no_network: non-loopback connections fail)
from hub_fixtures.tiny import COMMIT, REPO_ID

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import toolbox as tb  # noqa: E402
from toolbox import hub  # noqa: E402


def test_alias_table_is_pinned_and_filterable():
    names = {a.name: a for a in hub.aliases()}
    for short in ("bert-base", "distilbert", "roberta-base", "minilm", "gpt2", "vit-base", "resnet-50"):
        assert short in names
    minilm = names["minilm"]
    assert minilm.repo_id == "sentence-transformers/all-MiniLM-L6-v2" and len(minilm.revision) == 40
    assert "all-MiniLM-L6-v2" in minilm.names and len(minilm.sha256["model.safetensors"]) == 64
    assert names["bert-base"].repo_id == "google-bert/bert-base-uncased"
    assert {a.task for a in hub.aliases(task="text-classification")} == {"text-classification"}
    with pytest.raises(ValueError, match="already exists"):
        hub.register_alias("minilm", "a/b")
    with pytest.raises(ValueError, match="org/name"):
        hub.register_alias("x", "not-a-repo")


def test_load_by_alias_repo_id_and_address_offline(tiny_cached):
    texts = ["The striker scored twice.", "Heavy rain flooded the streets.", "The chef baked bread."]
    by_alias = hub.load("tiny-bert")
    assert isinstance(by_alias, hub.Embedder)
    assert by_alias.source_["source"] == "cache" and by_alias.source_["commit"] == COMMIT
    Z = by_alias.transform(texts)
    assert isinstance(Z, np.ndarray) and Z.shape == (3, 32) and Z.dtype == np.float32
    for name in (REPO_ID, f"hf://{REPO_ID}@{COMMIT}", f"hf://{REPO_ID}@{COMMIT[:10]}", f"hf://{REPO_ID}@main"):
        np.testing.assert_array_equal(hub.load(name).transform(texts), Z)
    # the same model loaded directly from its folder embeds identically
    np.testing.assert_array_equal(hub.load(Path(tiny_cached)).transform(texts), Z)


def test_embedder_options_and_outputs(tiny_cached):
    texts = ["Light snow covered the valley.", "The laptop crashed."]
    plain = hub.load("tiny-bert", normalize=True, pooling="cls").transform(texts)
    np.testing.assert_allclose(np.linalg.norm(plain, axis=1), 1.0, rtol=1e-5)
    emb = hub.load("tiny-bert", output="torch")
    out = emb.transform(texts)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 32)
    emb.set_params(output=None)
    with tb.use_backend("torch"):
        assert isinstance(emb.transform(texts), torch.Tensor)
    assert isinstance(emb.transform(np.asarray(texts, dtype=object)), np.ndarray)
    with pytest.raises(TypeError, match="single string"):
        emb.transform("one text")
    with pytest.raises(TypeError, match=r"X\[1\] is int"):
        emb.transform(["ok", 3])
    with pytest.raises(ValueError, match="pooling"):
        hub.load("tiny-bert", pooling="median")


def test_cache_miss_offline_is_a_clear_error_and_never_touches_the_network(hf_cache):
    with pytest.raises(hub.ModelNotFoundError, match=r"bert-base.*allow_network=True.*import_"):
        hub.load("bert-base")
    with pytest.raises(ValueError, match="not a known alias"):
        hub.load("no-such-model")


def test_offline_state_is_decided_per_call(monkeypatch, hf_cache):
    assert hub.network_allowed() is False  # opt-in
    monkeypatch.setenv("TOOLBOX_HUB_ALLOW_NETWORK", "1")
    assert hub.network_allowed() is True
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # set after import: still honoured
    assert hub.network_allowed() is False
    with pytest.raises(hub.ModelNotFoundError, match="HF_HUB_OFFLINE"):
        hub.network_allowed(allow_network=True)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert hub.network_allowed(local_files_only=True) is False
    with pytest.raises(ValueError, match="contradict"):
        hub.network_allowed(allow_network=True, local_files_only=True)


def test_ambiguous_name_names_both(tiny_cached, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "toolbox-test" / "tiny-bert").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"ambiguous.*local folder.*toolbox-test/tiny-bert.*repo id"):
        hub.load(REPO_ID)
    assert hub.load(f"hf://{REPO_ID}").source_["source"] == "cache"


def test_unsupported_task_is_an_error(tiny_cached):
    with pytest.raises(ValueError, match="text-generation"):
        hub.load("tiny-bert", task="text-generation")


def test_embedder_is_a_scikit_learn_estimator(tiny_cached):
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline

    from toolbox.linear_model import LogisticRegression

    s = hub.load_suite()
    emb = hub.load("tiny-bert", batch_size=64)
    twin = clone(emb)
    assert twin.get_params() == emb.get_params() and not hasattr(twin, "model_")
    pipe = make_pipeline(twin, LogisticRegression(max_iter=500)).fit(s.X_train[:80], s.y_train[:80])
    assert pipe.predict(s.X_test[:10]).shape == (10,)
    np.testing.assert_array_equal(twin.transform(s.X_test[:4]), emb.transform(s.X_test[:4]))


def test_finetune_reaches_accuracy_then_saves_and_reloads_bit_identically(tiny_cached, tmp_path):
    s = hub.load_suite()
    clf = hub.load("tiny-bert", task="text-classification", epochs=20, learning_rate=2e-3, batch_size=16,
                   warmup=0.1, random_state=0)
    assert isinstance(clf, hub.TextClassifier)
    clf.fit(s.X_train, s.y_train)
    acc = clf.score(s.X_test, s.y_test)
    assert acc >= 0.9, clf.history_
    assert len(clf.history_) == 20 and clf.history_[-1]["train_loss"] < clf.history_[0]["train_loss"]
    proba = clf.predict_proba(s.X_test)
    assert proba.shape == (80, 4) and list(clf.classes_) == sorted(set(s.y_train))

    folder = clf.save_pretrained(tmp_path / "clf")
    assert (folder / "model.safetensors").is_file() and (folder / "README.md").is_file()
    assert not [p for p in folder.rglob("*") if p.suffix in (".bin", ".pkl", ".pt", ".joblib")]
    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {str(i): c for i, c in enumerate(clf.classes_)}
    card = (folder / "README.md").read_text()
    assert clf.data_fingerprint_ in card and "learning_rate" in card

    again = hub.load(folder)
    assert isinstance(again, hub.TextClassifier)
    assert torch.equal(torch.as_tensor(again.predict_proba(s.X_test)), torch.as_tensor(proba))
    np.testing.assert_array_equal(again.predict(s.X_test), clf.predict(s.X_test))

    # plain transformers loads the same folder and computes the same logits
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    tok = AutoTokenizer.from_pretrained(str(folder))
    with torch.inference_mode():
        logits = model(**tok(s.X_test[:5], padding=True, return_tensors="pt")).logits
    np.testing.assert_allclose(torch.softmax(logits, -1).numpy(), proba[:5], atol=1e-5)
    assert model.config.id2label[0] == clf.classes_[0]


def test_finetune_with_early_stopping_and_tracking(tiny_cached, tmp_path):
    s = hub.load_suite()
    tracking = pytest.importorskip("toolbox.tracking")
    pytest.importorskip("sqlalchemy")
    tracking.set_store(f"sqlite:///{tmp_path / 'runs.db'}", artifact_root=str(tmp_path / "art"))
    try:
        clf = hub.TextClassifier("tiny-bert", epochs=3, learning_rate=3e-3, early_stopping=True,
                                 validation_fraction=0.25, n_iter_no_change=1, random_state=1)
        with tracking.start_run("hub-test") as run:
            clf.fit(s.X_train[:120], s.y_train[:120])
        assert all("val_accuracy" in row for row in clf.history_)
        record = run.record()
        assert "hub.train_loss" in record.metrics
    finally:
        tracking.set_store(None)


def test_logreg_head_is_stored_without_pickle(tiny_cached, tmp_path):
    s = hub.load_suite()
    clf = hub.TextClassifier("tiny-bert", head="logreg", C=10.0).fit(s.X_train, s.y_train)
    assert clf.score(s.X_test, s.y_test) > 0.5
    folder = clf.save_pretrained(tmp_path / "fewshot")
    assert (folder / "head" / "model.json").is_file() and (folder / "head" / "arrays.safetensors").is_file()
    again = hub.load(folder)
    assert again.head == "logreg"
    np.testing.assert_array_equal(again.predict_proba(s.X_test), clf.predict_proba(s.X_test))


def test_classifier_input_errors(tiny_cached):
    clf = hub.TextClassifier("tiny-bert", epochs=1)
    with pytest.raises(ValueError, match="3 texts but y has 2"):
        clf.fit(["a", "b", "c"], [0, 1])
    with pytest.raises(ValueError, match="single class"):
        clf.fit(["a", "b"], [1, 1])
    with pytest.raises(ValueError, match="head="):
        hub.TextClassifier("tiny-bert", head="svm").fit(["a", "b"], [0, 1])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        hub.TextClassifier("tiny-bert").predict(["a"])


def _copy_folder(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for p in src.iterdir():
        (dst / p.name).write_bytes(p.read_bytes())
    return dst


def test_pickle_weights_are_refused_without_trust(tiny_src, tmp_path, hf_cache):
    folder = _copy_folder(tiny_src, tmp_path / "pickled")
    os.replace(folder / "model.safetensors", folder / "pytorch_model.bin")
    with pytest.raises(hub.UnsafeModelError, match=r"pytorch_model\.bin.*trust_pickle=True"):
        hub.load(folder)


def test_strict_loading_names_missing_and_unexpected_weights(tiny_src, tmp_path, hf_cache):
    from safetensors.torch import load_file, save_file

    weights = load_file(str(tiny_src / "model.safetensors"))
    missing = _copy_folder(tiny_src, tmp_path / "missing")
    key = "encoder.layer.1.output.dense.weight"
    save_file({k: v for k, v in weights.items() if k != key}, str(missing / "model.safetensors"),
              metadata={"format": "pt"})
    with pytest.raises(hub.UnsafeModelError, match=r"missing weights: encoder\.layer\.1\.output\.dense\.weight"):
        hub.load(missing)
    extra = _copy_folder(tiny_src, tmp_path / "extra")
    save_file({**weights, "encoder.layer.0.surprise.weight": torch.zeros(2)}, str(extra / "model.safetensors"),
              metadata={"format": "pt"})
    with pytest.raises(hub.UnsafeModelError, match=r"unexpected weights: encoder\.layer\.0\.surprise\.weight"):
        hub.load(extra)


def test_remote_code_is_never_run(tiny_src, tmp_path, hf_cache):
    folder = _copy_folder(tiny_src, tmp_path / "custom")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="evil-bert", auto_map={"AutoModel": "modeling_evil.EvilModel"})
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling_evil.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises(hub.UnsafeModelError, match="never runs remote code"):
        hub.load(folder)


def test_toolbox_model_folders_load_as_the_estimator_they_are(tmp_path, hf_cache):
    from toolbox.linear_model import Ridge

    X = np.arange(12.0).reshape(6, 2)
    ridge = Ridge().fit(X, X[:, 0] * 2)
    tb.save(ridge, tmp_path / "ridge")
    again = hub.load(tmp_path / "ridge")
    assert isinstance(again, Ridge)
    np.testing.assert_allclose(again.predict(X), ridge.predict(X))


def test_search_local(tiny_cached):
    rows = hub.search("minilm")
    assert rows[0]["name"] == "minilm" and rows[0]["source"] == "alias"
    assert any(r["repo_id"] == REPO_ID for r in hub.search("tiny"))
    assert all(r["task"] == "text-classification" for r in hub.search("", task="text-classification"))
    with pytest.raises(hub.ModelNotFoundError, match="network"):
        hub.search("bert", where="remote")
    with pytest.raises(ValueError, match="where="):
        hub.search("bert", where="moon")
