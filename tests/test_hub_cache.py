"""The offline-first cache: corrupted caches detected and repaired or refused, export / import, prune."""

from __future__ import annotations

import os
import tarfile

import numpy as np
import pytest
from hub_fixtures.plugin import *  # noqa: F403  (fixtures; autouse no_network)
from hub_fixtures.tiny import COMMIT, REPO_ID

pytest.importorskip("torch")

from toolbox import hub

TEXTS = ["The storm knocked down trees.", "The chef grilled fish."]


def _repo(cache):
    return cache / ("models--" + REPO_ID.replace("/", "--"))


def test_newline_in_refs_is_read_and_repaired(tiny_cached, hf_cache):
    ref = _repo(hf_cache) / "refs" / "main"
    ref.write_text(COMMIT + "\n")
    emb = hub.load(REPO_ID)
    assert emb.source_["commit"] == COMMIT
    assert ref.read_bytes() == COMMIT.encode()  # rewritten without the newline
    listed = hub.cache.ls()
    assert [r.repo_id for r in listed] == [REPO_ID] and listed[0].refs == {"main": COMMIT}


def test_garbage_ref_is_refused_clearly(tiny_cached, hf_cache):
    (_repo(hf_cache) / "refs" / "main").write_text("not a commit")
    with pytest.raises(hub.CacheError, match="does not hold a commit sha"):
        hub.load(REPO_ID)


def test_clean_cache_verifies(tiny_cached, hf_cache):
    (report,) = hub.cache.verify("tiny-bert")
    assert report.ok and "model.safetensors" in report.checked and "config.json" in report.checked


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupted_blob_is_quarantined_and_then_refused_offline(tiny_cached, hf_cache, damage):
    blob = (tiny_cached / "model.safetensors").resolve()
    data = blob.read_bytes()
    blob.write_bytes(data[: len(data) // 2] if damage == "truncate" else data[:-8] + bytes(8))
    (report,) = hub.cache.verify(REPO_ID)
    assert not report.ok and report.corrupted == ["model.safetensors"]
    assert "quarantined" in str(report)
    assert not blob.exists() and any((_repo(hf_cache) / ".quarantine").iterdir())
    with pytest.raises(hub.ModelNotFoundError, match=r"incomplete \(missing: model\.safetensors\)"):
        hub.load(REPO_ID)
    freed = hub.cache.prune()
    assert freed.freed >= len(data) // 2 and not (_repo(hf_cache) / ".quarantine").exists()


def test_missing_snapshot_file_is_refused_with_its_name(tiny_cached, hf_cache):
    os.unlink(tiny_cached / "tokenizer.json")
    os.unlink(tiny_cached / "vocab.txt") if (tiny_cached / "vocab.txt").exists() else None
    with pytest.raises(hub.ModelNotFoundError, match=r"missing: tokenizer\.json"):
        hub.load(REPO_ID)


def test_export_import_round_trip_for_air_gapped_machines(tiny_cached, hf_cache, tmp_path, monkeypatch):
    before = hub.load("tiny-bert").transform(TEXTS)
    archive = hub.cache.export("tiny-bert", tmp_path / "out")
    assert archive.suffix == ".tar" and archive.stat().st_size > 0
    other = tmp_path / "other-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(other))
    with pytest.raises(hub.ModelNotFoundError):
        hub.load("tiny-bert")
    assert hub.cache.import_(archive) == f"{REPO_ID}@{COMMIT}"
    np.testing.assert_array_equal(hub.load("tiny-bert").transform(TEXTS), before)
    (report,) = hub.cache.verify("tiny-bert")
    assert report.ok and not report.unverified  # the import wrote a manifest: every file is checked


def test_tampered_archive_is_refused(tiny_cached, hf_cache, tmp_path, monkeypatch):
    archive = hub.cache.export(REPO_ID, tmp_path / "a.tar")
    bad = tmp_path / "bad.tar"
    with tarfile.open(archive) as src, tarfile.open(bad, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name == "files/config.json":
                data = data.replace(b"32", b"64")
            import io

            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "c2"))
    with pytest.raises(hub.CacheError, match=r"config\.json: sha256 .* does not match"):
        hub.cache.import_(bad)


def test_prune_removes_detached_snapshots_and_orphan_blobs(tiny_cached, hf_cache):
    repo = _repo(hf_cache)
    orphan = repo / "blobs" / ("f" * 64)
    orphan.write_bytes(b"x" * 100)
    detached = repo / "snapshots" / ("a" * 40)
    detached.mkdir()
    dry = hub.cache.prune(dry_run=True)
    assert str(orphan) in dry.blobs and orphan.exists()
    report = hub.cache.prune()
    assert str(orphan) in report.blobs and str(detached) in report.snapshots
    assert not orphan.exists() and not detached.exists()
    assert hub.load(REPO_ID).transform(TEXTS).shape == (2, 32)  # the live snapshot is untouched
