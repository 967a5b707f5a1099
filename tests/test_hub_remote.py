"""huggingface_hub's real download, upload and listing code against a fake Hub on 127.0.0.1, with faults."""

from __future__ import annotations

import numpy as np
import pytest
from hub_fixtures.fake_hub import FakeHub
from hub_fixtures.plugin import *  # noqa: F403  (fixtures; autouse no_network)

pytest.importorskip("torch")

from toolbox import hub

TEXTS = ["The striker scored twice.", "The laptop crashed after the update."]


@pytest.fixture
def fake_hub(tiny_src, hf_cache, monkeypatch):
    with FakeHub() as server:
        server.add_repo("org/tiny", tiny_src)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)  # after import: toolbox reads it per call
        yield server


def _folder(cache, repo_id):
    return cache / ("models--" + repo_id.replace("/", "--"))


def test_download_on_miss_then_cached_with_no_network_call(fake_hub, hf_cache):
    with pytest.raises(hub.ModelNotFoundError, match="allow_network=True"):
        hub.load("org/tiny")  # the network is opt-in
    assert fake_hub.requests == []
    emb = hub.load("org/tiny", allow_network=True)
    assert emb.source_["source"] == "download"
    commit = fake_hub.repos["org/tiny"].commit
    folder = _folder(hf_cache, "org/tiny")
    assert (folder / "refs" / "main").read_bytes() == commit.encode()  # no trailing newline
    assert (folder / ".no_exist" / commit / "generation_config.json").exists()
    assert (folder / ".toolbox" / f"{commit}.json").exists()
    n = len(fake_hub.requests)
    again = hub.load("org/tiny", allow_network=True)
    assert again.source_["source"] == "cache" and len(fake_hub.requests) == n  # no network call at all
    np.testing.assert_array_equal(again.transform(TEXTS), emb.transform(TEXTS))
    (report,) = hub.cache.verify("org/tiny")
    assert report.ok and not report.unverified


def test_transformers_finds_toolbox_downloads_offline(fake_hub, hf_cache, monkeypatch):
    hub.load("org/tiny", allow_network=True)
    from transformers import AutoModel, AutoTokenizer

    fake_hub.stop()
    model = AutoModel.from_pretrained("org/tiny", cache_dir=str(hf_cache), local_files_only=True)
    tok = AutoTokenizer.from_pretrained("org/tiny", cache_dir=str(hf_cache), local_files_only=True)
    assert model.config.hidden_size == 32 and tok("hello")["input_ids"][0] == tok.cls_token_id


def test_corrupt_download_is_quarantined(fake_hub, hf_cache):
    fake_hub.faults[("org/tiny", "model.safetensors")] = ["corrupt"]
    with pytest.raises(hub.CacheError, match=r"does not match its hash.*quarantined"):
        hub.load("org/tiny", allow_network=True)
    commit = fake_hub.repos["org/tiny"].commit
    assert not (_folder(hf_cache, "org/tiny") / "snapshots" / commit / "model.safetensors").exists()
    assert hub.load("org/tiny", allow_network=True).transform(TEXTS).shape == (2, 32)  # healed by a re-download


def test_truncated_file_is_detected(fake_hub, hf_cache):
    fake_hub.faults[("org/tiny", "model.safetensors")] = ["truncate", "truncate"]
    with pytest.raises(hub.CacheError, match="truncated"):
        hub.load("org/tiny", allow_network=True)


def test_dropped_connection_resumes(fake_hub, hf_cache, monkeypatch):
    import time

    monkeypatch.setattr(time, "sleep", lambda s: None)  # huggingface_hub waits 1 s between retries
    fake_hub.faults[("org/tiny", "model.safetensors")] = ["drop"]
    emb = hub.load("org/tiny", allow_network=True)
    assert emb.transform(TEXTS).shape == (2, 32)
    assert fake_hub.count("GET", "model.safetensors") == 2  # the second one resumed with Range


def test_server_gone_mid_download_fails_cleanly(fake_hub, hf_cache, monkeypatch):
    import time

    monkeypatch.setattr(time, "sleep", lambda s: None)
    fake_hub.faults[("org/tiny", "model.safetensors")] = ["gone"]
    with pytest.raises(hub.ModelNotFoundError, match=r"model\.safetensors"):
        hub.load("org/tiny", allow_network=True)
    with pytest.raises(hub.ModelNotFoundError, match=r"not in the hub cache|incomplete"):
        hub.load("org/tiny")


def test_pickle_only_repo_is_refused_before_download(fake_hub, hf_cache):
    fake_hub.add_repo("org/pickled", files={"config.json": b"{}", "pytorch_model.bin": b"\x80\x04junk"})
    with pytest.raises(hub.UnsafeModelError, match=r"pytorch_model\.bin.*trust_pickle"):
        hub.load("org/pickled", allow_network=True)
    assert fake_hub.count("GET", "pytorch_model.bin") == 0


def test_push_and_pull_a_fine_tuned_classifier(fake_hub, hf_cache, tmp_path):
    s = hub.load_suite()
    clf = hub.load("org/tiny", allow_network=True, task="text-classification", epochs=2, learning_rate=2e-3)
    clf.fit(s.X_train[:64], s.y_train[:64])
    hub.evaluate(clf, s.X_test[:20], s.y_test[:20], dataset="topics")
    url = hub.push(clf, "me/tiny-topics")
    repo = fake_hub.repos["me/tiny-topics"]
    assert repo.private and repo.commit in url
    assert {"config.json", "model.safetensors", "README.md", "toolbox_hub.json"} <= set(repo.files)
    card = repo.files["README.md"].decode()
    assert "model-index" in card and "accuracy" in card and clf.data_fingerprint_ in card
    pulled = hub.load("hf://me/tiny-topics", allow_network=True)
    assert isinstance(pulled, hub.TextClassifier)
    np.testing.assert_array_equal(pulled.predict_proba(s.X_test[:10]), clf.predict_proba(s.X_test[:10]))


def test_push_and_pull_any_toolbox_estimator(fake_hub, hf_cache):
    from toolbox.linear_model import Ridge

    X = np.arange(20.0).reshape(10, 2)
    ridge = Ridge(alpha=0.5).fit(X, X @ np.array([1.0, -2.0]))
    hub.push(ridge, "me/ridge", endpoint=fake_hub.endpoint)
    assert "model.json" in fake_hub.repos["me/ridge"].files
    pulled = hub.load("toolbox://me/ridge", allow_network=True)
    assert isinstance(pulled, Ridge) and pulled.alpha == 0.5
    np.testing.assert_allclose(pulled.predict(X), ridge.predict(X))


def test_remote_search_uses_list_models(fake_hub, hf_cache):
    rows = hub.search("tiny", where="remote", allow_network=True)
    assert [r["repo_id"] for r in rows] == ["org/tiny"] and rows[0]["source"] == "hub"
    both = hub.search("minilm", where="all")  # network off: the remote half is skipped
    assert both and all(r["source"] != "hub" for r in both)
