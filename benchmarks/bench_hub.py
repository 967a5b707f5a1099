"""toolbox.hub figures: cached load("minilm") time (no network), embedding throughput against
sentence-transformers' encode (same model, batch size, device), and the tiny BERT's fine-tune time and
held-out accuracy on the shipped suite. Writes benchmarks/results/hub.json.

    .venv/bin/python benchmarks/bench_hub.py [--repeats 3] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tiny BERT builder lives with the tests


_REFUSE_NETWORK = (
    "import socket, time\n"
    "def refuse(*a, **k):\n    raise OSError('network attempt')\n"
    "socket.socket.connect = refuse\n"
    "t = time.perf_counter()\n"
)
_COLD = {
    # toolbox: import, resolve the alias offline, load tokenizer + encoder (strict, safetensors)
    "toolbox": "import toolbox as tb\ne = tb.hub.load('minilm')\nprint(time.perf_counter() - t, e.source_['source'])\n",
    # the floor: importing what any transformers-based loader needs, before reading a single file
    "imports_only": ("import torch, transformers\nfrom transformers import AutoModel, AutoTokenizer\n"
                     "print(time.perf_counter() - t, 'none')\n"),
    # the peer: sentence-transformers loading the same folder
    "sentence_transformers": ("from sentence_transformers import SentenceTransformer\n"
                              "m = SentenceTransformer({path!r}, device='cpu', local_files_only=True)\n"
                              "print(time.perf_counter() - t, 'folder')\n"),
}


def _cold_load_seconds(path: str, repeats: int = 3) -> dict:
    """``import toolbox; tb.hub.load("minilm")`` in fresh processes, with every socket connect refused,
    interleaved with the bare imports of torch + transformers and with sentence-transformers' own load."""
    times: dict[str, list[float]] = {k: [] for k in _COLD}
    source = ""
    for _ in range(repeats):
        for name, body in _COLD.items():
            code = _REFUSE_NETWORK + body.format(path=path)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                                 env={**os.environ, "HF_HUB_OFFLINE": "1"})
            if out.returncode != 0:
                raise RuntimeError(out.stderr)
            seconds, src = out.stdout.split()[-2:]
            times[name].append(float(seconds))
            if name == "toolbox":
                source = src
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"seconds_with_imports": med["toolbox"], "source": source, "network_attempts": 0,
            "imports_only_s": med["imports_only"], "sentence_transformers_s": med["sentence_transformers"],
            "toolbox_over_sentence_transformers": med["toolbox"] / med["sentence_transformers"],
            "runs": times}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()


    import torch

    import toolbox as tb

    suite = tb.hub.load_suite()
    texts = suite.X_train + suite.X_test
    results: dict = {"machine": {"cpus": os.cpu_count(), "torch": torch.__version__,
                                 "cuda": torch.cuda.is_available()}}

    loaded = tb.hub.load("minilm")
    results["cached_load_minilm"] = _cold_load_seconds(str(loaded.source_["path"]))
    t = time.perf_counter()
    tb.hub.load("minilm")
    results["cached_load_minilm"]["seconds_warm_process"] = time.perf_counter() - t

    from sentence_transformers import SentenceTransformer

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results["embedding"] = []
    for device in devices:
        ours = tb.hub.load("minilm", device=device, batch_size=args.batch_size)
        st = SentenceTransformer(str(Path(ours.source_["path"])), device=device)
        ours.transform(texts[:8])
        st.encode(texts[:8], batch_size=args.batch_size)
        t_ours, t_st = [], []
        for _ in range(args.repeats):  # interleaved, so both see the same machine load
            t = time.perf_counter()
            ours.transform(texts)
            if device == "cuda":
                torch.cuda.synchronize()
            t_ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            st.encode(texts, batch_size=args.batch_size)
            t_st.append(time.perf_counter() - t)
        a, b = min(t_ours), min(t_st)
        results["embedding"].append({"device": device, "n": len(texts), "batch_size": args.batch_size,
                                     "toolbox_s": a, "sentence_transformers_s": b, "ratio": a / b,
                                     "toolbox_sentences_per_s": len(texts) / a,
                                     "sentence_transformers_sentences_per_s": len(texts) / b})

    from hub_fixtures.tiny import build_tiny_bert

    with tempfile.TemporaryDirectory() as d:
        src = build_tiny_bert(Path(d) / "tiny")
        clf = tb.hub.TextClassifier(src, epochs=20, learning_rate=2e-3, batch_size=16, device="cpu")
        clf._ensure_source()  # loading is not part of the fine-tune time
        t = time.perf_counter()
        clf.fit(suite.X_train, suite.y_train)
        fit_s = time.perf_counter() - t
        results["tiny_finetune"] = {"fit_s": fit_s, "held_out_accuracy": clf.score(suite.X_test, suite.y_test),
                                    "n_train": len(suite.X_train), "n_test": len(suite.X_test), "epochs": 20}

    rows = tb.hub.benchmark(["minilm"], suite="topics", device="cpu")
    results["benchmark_topics"] = rows
    out = ROOT / "benchmarks" / "results" / "hub.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=float))
    print(json.dumps(results, indent=2, default=float))



if __name__ == "__main__":
    main()
