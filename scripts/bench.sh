#!/usr/bin/env bash
# The backend-matrix benchmark: toolbox against scikit-learn, every estimator x backend x size.
#
#   bash scripts/bench.sh                 # full mode (the targets table's sizes, 10^4..10^6 sweep)
#   bash scripts/bench.sh --quick         # quick mode (1/20 of the sizes; a minute or two)
#   bash scripts/bench.sh --backends numpy,torch-cpu   # some backends only
#   bash scripts/bench.sh --no-setup      # skip scripts/setup.sh (environment already installed)
#   bash scripts/bench.sh --quick -- -k KMeans          # anything after -- (or unknown) goes to pytest
#
# Writes benchmarks/results/<mode>.json and regenerates docs/performance.md and docs/img/perf-*.png.
# BLAS/OpenMP threads default to the number of cores for both libraries (set OMP_NUM_THREADS,
# OPENBLAS_NUM_THREADS, MKL_NUM_THREADS yourself to override). Figures are not assertions: a slow
# result never fails the run; an error in an estimator does (after the report is written).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
setup=1
backends=""
pytest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --no-setup) setup=0 ;;
    --backends) backends="$2"; shift ;;
    --backends=*) backends="${1#--backends=}" ;;
    --) shift; pytest_args+=("$@"); break ;;
    *) pytest_args+=("$1") ;;
  esac
  shift
done

if [ "$setup" = 1 ]; then
  bash scripts/setup.sh
fi

cores="$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$cores}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-$cores}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-$cores}"

# On a CUDA machine, also time scikit-learn's Array API mode on torch-cuda (SciPy reads this at import).
if [ -z "${SCIPY_ARRAY_API:-}" ] && .venv/bin/python -c \
    "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  export SCIPY_ARRAY_API=1
fi

args=(benchmarks -p no:cacheprovider --bench-mode="$mode"
      --benchmark-columns=min,median,max,rounds --benchmark-sort=name)
if [ -n "$backends" ]; then
  args+=(--bench-backends="$backends")
fi

echo "benchmark: mode=$mode threads=$OMP_NUM_THREADS backends=${backends:-all present}"
status=0
.venv/bin/python -m pytest "${args[@]}" ${pytest_args[@]+"${pytest_args[@]}"} || status=$?
if [ -f "benchmarks/results/$mode.json" ]; then
  .venv/bin/python benchmarks/report.py
fi
exit "$status"
