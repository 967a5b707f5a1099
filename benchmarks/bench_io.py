"""Model files: what ``toolbox.save`` + ``toolbox.load`` cost against writing the same arrays with ``numpy.save``.

    .venv/bin/python benchmarks/bench_io.py [--repeats 7] [--json benchmarks/results/io.json]

For each model, the arrays its model file holds are also written with
``numpy.save`` (one ``.npy`` per array, the baseline of issue 9's target
"save + load <= 2x numpy.save") and read back with ``numpy.load``; timings
alternate between toolbox and NumPy, and the medians are reported. Both write
into the page cache of the same folder; toolbox's save also fsyncs (durability
``numpy.save`` does not give) and both of its sides hash every byte (sha256).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import toolbox as tb
import toolbox.io
from toolbox.io._encode import Encoder


def _models() -> dict:
    from toolbox.ensemble import HistGradientBoostingClassifier
    from toolbox.linear_model import LogisticRegression
    from toolbox.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 50))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    Xh = rng.normal(size=(100_000, 28))
    yh = (Xh[:, 0] * Xh[:, 1] > 0).astype(np.int64)
    return {
        "KNeighborsClassifier 200,000x50 (the training set: 80 MB)": KNeighborsClassifier().fit(X, y),
        "HistGradientBoostingClassifier 100 trees, 100,000x28": HistGradientBoostingClassifier(
            max_iter=100, early_stopping=False, random_state=0).fit(Xh, yh),
        "LogisticRegression 200,000x50 (51 coefficients)": LogisticRegression().fit(X, y),
    }


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(name: str, est, repeats: int, root: Path) -> dict:
    enc = Encoder()
    enc.encode(est, type(est).__name__)
    arrays = enc.arrays
    nbytes = sum(a.nbytes for a in arrays.values())

    def np_save():
        d = root / "npy"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir()
        for i, a in enumerate(arrays.values()):
            np.save(d / f"{i}.npy", a)

    def np_load():
        d = root / "npy"
        return [np.load(d / f"{i}.npy") for i in range(len(arrays))]

    t = {"np_save": [], "np_load": [], "tb_save": [], "tb_load": []}
    for _ in range(repeats):
        t["np_save"].append(_time(np_save))
        t["np_load"].append(_time(np_load))
        t["tb_save"].append(_time(lambda: tb.save(est, root / "model")))
        t["tb_load"].append(_time(lambda: tb.load(root / "model")))
    med = {k: statistics.median(v) for k, v in t.items()}
    files = {p.name: p.stat().st_size for p in (root / "model").iterdir()}
    return {
        "model": name, "n_arrays": len(arrays), "array_bytes": nbytes, "files": files,
        **{f"{k}_s": v for k, v in med.items()},
        "save_plus_load_vs_np_save": (med["tb_save"] + med["tb_load"]) / med["np_save"],
        "save_plus_load_vs_np_save_plus_load": (med["tb_save"] + med["tb_load"]) / (med["np_save"] + med["np_load"]),
        "save_vs_np_save": med["tb_save"] / med["np_save"],
        "load_vs_np_load": med["tb_load"] / med["np_load"],
        "repeats": repeats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", default=str(Path(__file__).parent / "results" / "io.json"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as tmp:  # the disk the results live on
        for name, est in _models().items():
            row = measure(name, est, args.repeats, Path(tmp))
            rows.append(row)
            print(f"{name}: {row['array_bytes'] / 1e6:.2f} MB in {row['n_arrays']} arrays | numpy.save "
                  f"{row['np_save_s'] * 1e3:.1f} ms, numpy.load {row['np_load_s'] * 1e3:.1f} ms | toolbox.save "
                  f"{row['tb_save_s'] * 1e3:.1f} ms, toolbox.load {row['tb_load_s'] * 1e3:.1f} ms | (save+load)/"
                  f"numpy.save {row['save_plus_load_vs_np_save']:.2f}x, /(numpy.save+numpy.load) "
                  f"{row['save_plus_load_vs_np_save_plus_load']:.2f}x")
    import os

    out = {"benchmark": "io", "toolbox": tb.__version__, "format_version": toolbox.io.FORMAT_VERSION,
           "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                       "load_average": os.getloadavg()},
           "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows}
    if args.json != "none":
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
