"""toolbox demo: the same estimator on every installed backend, on a bundled dataset.

Run with ``bash scripts/demo.sh`` (or ``python examples/demo.py`` in an
environment with toolbox installed). For each backend it prints the device,
the result, its largest difference from scikit-learn, and the median time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler as SkStandardScaler

import toolbox as tb
from toolbox.backends import get_framework
from toolbox.preprocessing import StandardScaler


def _gpu_device(name: str) -> str | None:
    """A GPU device string for ``name`` if one is present, else None."""
    try:
        if name == "torch":
            import torch

            return "cuda" if torch.cuda.is_available() else None
        if name == "jax":
            import jax

            return "gpu" if jax.devices("gpu") else None
    except Exception:
        return None
    return None


def _targets() -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for name in tb.available_backends():
        if name == "cupy":
            try:
                import cupy

                if cupy.cuda.runtime.getDeviceCount() > 0:
                    out.append(("cupy", "cuda"))
            except Exception:
                pass
            continue
        out.append((name, "cpu"))
        gpu = _gpu_device(name)
        if gpu:
            out.append((name, gpu))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per backend (median reported)")
    args = parser.parse_args()

    digits = load_digits()
    X = np.repeat(digits.data, 50, axis=0)  # 89,850 x 64, from scikit-learn's bundled digits
    reference = SkStandardScaler().fit_transform(X)
    print(f"toolbox {tb.__version__}: StandardScaler().fit_transform on digits x50, shape {X.shape}")
    print(f"{'backend':<18} {'device':<10} {'dtype':<9} {'mean|z|':>9} {'max |diff| vs sklearn':>22} {'median time':>12}")
    t0 = time.perf_counter()
    SkStandardScaler().fit_transform(X)
    for _ in range(args.repeat - 1):
        SkStandardScaler().fit_transform(X)
    sk_time = (time.perf_counter() - t0) / args.repeat
    print(f"{'scikit-learn':<18} {'cpu':<10} {'float64':<9} {np.abs(reference).mean():>9.4f} {0.0:>22.2e} {sk_time * 1e3:>10.2f}ms")
    for name, device in _targets():
        with tb.use_backend(name, device):
            fw = get_framework(name)
            Xb = tb.to_backend(X, name, device)
            Z = StandardScaler().fit_transform(Xb)  # warm-up (compilation, first allocation)
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                Z = StandardScaler().fit_transform(Xb)
                np.asarray(tb.to_backend(Z[:1, :1], "numpy"))  # wait for asynchronous backends
                times.append(time.perf_counter() - start)
            Zn = np.asarray(tb.to_backend(Z, "numpy"), dtype=np.float64)
            diff = float(np.max(np.abs(Zn - reference)))
            dev = fw.describe_device(fw.device_of(Z))
            dtype = str(Z.dtype).rsplit(".", 1)[-1]
            print(f"{name:<18} {dev:<10} {dtype:<9} {np.abs(Zn).mean():>9.4f} {diff:>22.2e} "
                  f"{statistics.median(times) * 1e3:>10.2f}ms")
    print(f"host<->device copies during the demo: {tb.transfer_stats()}")


if __name__ == "__main__":
    main()
