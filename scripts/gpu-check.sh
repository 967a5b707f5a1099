#!/usr/bin/env bash
# GPU verification in one command (docs/gpu-check.md). On a CUDA machine that has torch, CuPy and JAX:
# the tests marked `gpu`, then the GPU rows of the benchmark (quick sizes, then 10^6 x 100 float32 for the
# BLAS-bound estimators) against scikit-learn on the machine's CPUs and scikit-learn's Array API mode on
# torch-cuda, in at most 8 minutes; writes OUTDIR/gpu-check.log, OUTDIR/gpu-check.json (the summary), the
# benchmark results files and a report. Each step runs under a time cap, so partial results still land.
#
#   bash scripts/gpu-check.sh --fetch-wheels   # here, once: the wheels the GPU machine lacks, into .whl/
#   bash scripts/gpu-check.sh --dry-run        # here (CPU only): check the wheels, print the commands
#   bash scripts/gpu-check.sh OUTDIR           # on the GPU machine (device call: ... "$OUT", carry .whl)
#
# Environment: GPU_CHECK_WHEELS (wheel folder, default .whl), GPU_CHECK_PYTHON (default python3),
# GPU_CHECK_SITE (where the wheels are installed, default /tmp/site), GPU_CHECK_BUDGET_S (total, default 480;
# the step caps scale with it), GPU_CHECK_WORKERS (pytest-xdist workers for the tests, default 6; 0: none),
# GPU_CHECK_BENCH_BACKENDS (default torch-cuda,jax-gpu,cupy), GPU_CHECK_BLAS_CASES (the 10^6-row cases,
# default LinearRegression,Ridge,PCA,TruncatedSVD), GPU_CHECK_COMMIT (recorded in the summary),
# GPU_CHECK_COLLECT (dry run: 1, the default, also collects the three selections with this machine's pytest).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

mode=run
outdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) mode=dry ;;
    --fetch-wheels) mode=fetch ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "gpu-check: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) outdir="$1" ;;
  esac
  shift
done

WHEELS="${GPU_CHECK_WHEELS:-$ROOT/.whl}"
PY="${GPU_CHECK_PYTHON:-python3}"
SITE="${GPU_CHECK_SITE:-/tmp/site}"
BUDGET="${GPU_CHECK_BUDGET_S:-480}"
WORKERS="${GPU_CHECK_WORKERS:-6}"
BENCH_BACKENDS="${GPU_CHECK_BENCH_BACKENDS:-torch-cuda,jax-gpu,cupy}"
BLAS_CASES="${GPU_CHECK_BLAS_CASES:-LinearRegression,Ridge,PCA,TruncatedSVD}"
if [ -x .venv/bin/python ]; then HOSTPY=.venv/bin/python; else HOSTPY=python3; fi

if [ "$mode" = fetch ]; then
  exec "$HOSTPY" scripts/gpu_check.py fetch "$WHEELS"
fi
if [ "$mode" = run ] && [ -z "$outdir" ]; then
  echo "gpu-check: give the output folder (bash scripts/gpu-check.sh OUTDIR), or --dry-run" >&2
  exit 2
fi
[ -n "$outdir" ] || outdir=OUTDIR

# ---------------------------------------------------------------- the steps and their caps
# Nominal caps for a budget of 480 s (scaled to GPU_CHECK_BUDGET_S); a step finishing early hands its
# time on. pytest steps get a soft stop MARGIN seconds before their cap (the session ends after the current
# test and still writes its files), then SIGINT at the cap and SIGKILL GRACE seconds later.
STEPS=(env tests bench-quick bench-blas report)
declare -A CAP=([env]=30 [tests]=170 [bench-quick]=80 [bench-blas]=150 [report]=15)
declare -A MARGIN=([env]=0 [tests]=10 [bench-quick]=15 [bench-blas]=40 [report]=0)
declare -A GRACE=([env]=0 [tests]=10 [bench-quick]=10 [bench-blas]=10 [report]=0)
for s in "${STEPS[@]}"; do CAP[$s]=$(( CAP[$s] * BUDGET / 480 )); done

blas_k=""
IFS=',' read -r -a _cases <<< "$BLAS_CASES"
for c in "${_cases[@]}"; do blas_k="${blas_k:+$blas_k or }$c"; done
QUICK_JSON=bench-gpu-quick.json
BLAS_JSON=bench-gpu-1e6.json

tests_cmd=("$PY" -m pytest tests -m gpu -p no:cacheprovider -p gpu_check --tb=short
           --junitxml=WORK/pytest-gpu.xml)
bench_cmd=("$PY" -m pytest benchmarks -p no:cacheprovider -p gpu_check -q --bench-backends="$BENCH_BACKENDS"
           --benchmark-columns=min,median,max,rounds --benchmark-sort=name)
quick_cmd=("${bench_cmd[@]}" --bench-mode=quick --bench-json="$outdir/$QUICK_JSON")
blas_cmd=("${bench_cmd[@]}" --bench-mode=full -k "$blas_k" --bench-json="$outdir/$BLAS_JSON")
pip_cmd=("$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE")
report_cmd=("$PY" benchmarks/report.py "$outdir/$QUICK_JSON" "$outdir/$BLAS_JSON" --out "$outdir/gpu-report.md"
            --img-dir "$outdir/img")
# Threads: scikit-learn gets all cores in the benchmark (benchmarks/conftest.py); the tests' workers share them.
tests_env=(OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2)
bench_env=(SCIPY_ARRAY_API=1)

later_reserve() {  # seconds that the steps after $1 need (caps and kill graces)
  local after=0 total=0 s
  for s in "${STEPS[@]}"; do
    if [ "$after" = 1 ]; then total=$(( total + CAP[$s] + GRACE[$s] )); fi
    [ "$s" = "$1" ] && after=1
  done
  echo "$total"
}

q() { printf '%q ' "$@"; }

# ---------------------------------------------------------------- dry run
if [ "$mode" = dry ]; then
  status=0
  echo "== gpu-check dry run (nothing is run on a GPU; budget ${BUDGET} s)"
  echo "== wheels"
  "$HOSTPY" scripts/gpu_check.py verify "$WHEELS" --tree "$ROOT" || status=1
  if [ "${GPU_CHECK_COLLECT:-1}" = 1 ]; then
    echo "== collection with $HOSTPY (what each step selects; here every GPU cell would skip)"
    collect() {  # collect LABEL pytest-args...
      local label=$1 out rc; shift
      out=$(PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}" "$HOSTPY" -m pytest --collect-only -q "$@" 2>&1)
      rc=$?
      if [ $rc -ne 0 ]; then
        echo "PROBLEM: collecting $label failed (rc $rc):" >&2; echo "$out" | tail -15 >&2; return 1
      fi
      echo "  $label: $(echo "$out" | grep -E 'collected|tests? ' | tail -1)"
    }
    collect "tests -m gpu" tests -m gpu -p no:cacheprovider -p gpu_check || status=1
    collect "benchmark, quick GPU rows" benchmarks -p no:cacheprovider -p gpu_check --bench-mode=quick \
      --bench-backends="$BENCH_BACKENDS" || status=1
    collect "benchmark, 10^6-row GPU rows" benchmarks -p no:cacheprovider -p gpu_check --bench-mode=full \
      --bench-backends="$BENCH_BACKENDS" -k "$blas_k" || status=1
  fi
  echo "== commands on the GPU machine (OUTDIR=$outdir; WORK is a temporary folder)"
  echo "[env] $(q "$PY" scripts/gpu_check.py verify .whl)  (a problem is reported, not fatal)"
  echo "[env] timeout 60 $(q "${pip_cmd[@]}") .whl/*.whl"
  echo "[env] export PYTHONPATH=$ROOT:$SITE:$ROOT/scripts XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1"
  echo "[env] timeout 20 nvidia-smi; timeout 120 $(q "$PY" scripts/gpu_check.py env WORK/env.json)"
  t=0
  for s in tests bench-quick bench-blas; do
    case $s in
      tests) cmd=("${tests_cmd[@]}" -n "$WORKERS"); envs=("${tests_env[@]}") ;;
      bench-quick) cmd=("${quick_cmd[@]}"); envs=("${bench_env[@]}") ;;
      bench-blas) cmd=("${blas_cmd[@]}"); envs=("${bench_env[@]}") ;;
    esac
    echo "[$s] cap ${CAP[$s]} s (plus time left by earlier steps), soft stop $((MARGIN[$s])) s before it:"
    echo "    ${envs[*]} GPU_CHECK_STOP_AT=<start+cap-${MARGIN[$s]}> timeout -s INT -k ${GRACE[$s]} <cap> $(q "${cmd[@]}")"
  done
  echo "    (tests: -n $WORKERS only when pytest-xdist imports there; GPU_CHECK_WORKERS=0 runs them serially)"
  echo "[report] cap ${CAP[report]} s, when matplotlib imports: timeout <cap> $(q "${report_cmd[@]}")"
  echo "[summary] $(q "$PY" scripts/gpu_check.py summary "$outdir" WORK ...) -> $outdir/gpu-check.json"
  total=0
  for s in "${STEPS[@]}"; do total=$(( total + CAP[$s] + GRACE[$s] )); done
  echo "== worst case: ${total} s of caps and kill graces (budget ${BUDGET} s)"
  [ "$total" -le "$BUDGET" ] || { echo "PROBLEM: the caps exceed the budget" >&2; status=1; }
  commit="$(git rev-parse --short=12 HEAD 2>/dev/null || true)"
  if [ -n "$commit" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null | head -1)" ]; then
    commit="$commit+dirty"
  fi
  device_cmd="GPU_CHECK_COMMIT=${commit:-unknown} bash scripts/gpu-check.sh \"\$OUT\""
  case "$WHEELS" in
    "$ROOT"/*) carry="${WHEELS#"$ROOT"/}" ;;
    *) carry=".whl"; echo "note: $WHEELS is outside the repo; the device call carries .whl from the repo root" ;;
  esac
  echo "== the device call (${#device_cmd} characters; the limit is 2000)"
  echo "run(command='$device_cmd', carry=[\"$carry\"], timeout_s=600)"
  [ "${#device_cmd}" -le 2000 ] || { echo "PROBLEM: the device command is too long" >&2; status=1; }
  if [ "$status" = 0 ]; then echo "gpu-check dry run: OK"; else echo "gpu-check dry run: FAILED" >&2; fi
  exit "$status"
fi

# ---------------------------------------------------------------- the run (on the GPU machine)
mkdir -p "$outdir" || exit 2
outdir="$(cd "$outdir" && pwd)"
quick_cmd=("${bench_cmd[@]}" --bench-mode=quick --bench-json="$outdir/$QUICK_JSON")
blas_cmd=("${bench_cmd[@]}" --bench-mode=full -k "$blas_k" --bench-json="$outdir/$BLAS_JSON")
report_cmd=("$PY" benchmarks/report.py --out "$outdir/gpu-report.md" --img-dir "$outdir/img")
LOG="$outdir/gpu-check.log"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")"
tests_cmd=("${tests_cmd[@]/#--junitxml=WORK/--junitxml=$WORK}")
start=$(date +%s)
started="$(date -u +%Y-%m-%dT%H:%M:%S+00:00)"
deadline=$(( start + BUDGET ))
report_note="not run"
: > "$LOG"
exec > >(tee -a "$LOG") 2>&1
tee_pid=$!
export PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE="${XLA_PYTHON_CLIENT_PREALLOCATE:-false}"  # torch, CuPy, JAX share the GPU

record() {  # record NAME CAP SECONDS RC STATUS COMMAND
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >> "$WORK/steps.tsv"
}

summarized=0
finish() {
  [ "$summarized" = 1 ] && return
  summarized=1
  local files=() rc
  for f in "$QUICK_JSON" "$BLAS_JSON"; do files+=("$f"); done
  echo "== summary ($(( $(date +%s) - start )) s elapsed)"
  "$PY" scripts/gpu_check.py summary "$outdir" "$WORK" --started "$started" --start-epoch "$start" \
    --budget "$BUDGET" --commit "${GPU_CHECK_COMMIT:-}" --report "$report_note" \
    --bench-files "$(IFS=,; echo "${files[*]}")" --bench-backends "$BENCH_BACKENDS"
  rc=$?
  exec >&- 2>&-
  wait "$tee_pid" 2>/dev/null
  rm -rf "$WORK"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# run_step NAME [ENV=VALUE...] -- COMMAND...: under the step's cap (plus what earlier steps left over)
run_step() {
  local name=$1 envs=() cap t0 rc status stop; shift
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  t0=$(date +%s)
  cap=$(( deadline - t0 - $(later_reserve "$name") - GRACE[$name] ))
  if [ "$cap" -lt 15 ]; then
    echo "== [$name] skipped: ${cap} s left in the budget"
    record "$name" "$cap" 0 "" "no-time" "$(q "$@")"
    return
  fi
  stop=$(( t0 + cap - MARGIN[$name] ))
  echo "== [$name] cap ${cap} s: ${envs[*]} $(q "$@")"
  env "${envs[@]}" GPU_CHECK_STOP_AT="$stop" GPU_CHECK_STOP_FILE="$WORK/$name.stopped" \
    timeout -s INT -k "${GRACE[$name]}" "$cap" "$@" 2>&1 | tee "$WORK/$name.out"
  rc=${PIPESTATUS[0]}
  if [ -f "$WORK/$name.stopped" ]; then status=stopped-at-cap
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=timed-out
  elif [ "$rc" = 0 ]; then status=ok
  else status=failed
  fi
  echo "== [$name] $status (rc $rc, $(( $(date +%s) - t0 )) s)"
  record "$name" "$cap" "$(( $(date +%s) - t0 ))" "$rc" "$status" "${envs[*]} $(q "$@")"
}

echo "== gpu-check $(date -u +%FT%TZ) on $(hostname), budget ${BUDGET} s, commit ${GPU_CHECK_COMMIT:-unknown}"

# env: the carried wheels, the versions, the GPUs
t0=$(date +%s)
env_status=ok
"$PY" scripts/gpu_check.py verify "$WHEELS" || echo "gpu-check: wheel problems (above); going on with what is installed"
shopt -s nullglob
wheels=("$WHEELS"/*.whl)
shopt -u nullglob
if [ "${#wheels[@]}" -gt 0 ]; then
  echo "+ $(q "${pip_cmd[@]}") ${#wheels[@]} wheels"
  timeout 60 "${pip_cmd[@]}" "${wheels[@]}" || env_status=failed
fi
export PYTHONPATH="$ROOT:$SITE:$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
timeout 20 nvidia-smi || echo "gpu-check: nvidia-smi failed"
timeout 120 "$PY" scripts/gpu_check.py env "$WORK/env.json" || env_status=failed
record env "${CAP[env]}" "$(( $(date +%s) - t0 ))" "" "$env_status" "pip install --target $SITE; gpu_check.py env"

# tests marked gpu
workers=()
if [ "$WORKERS" -gt 0 ] && "$PY" -c "import xdist" 2>/dev/null; then workers=(-n "$WORKERS"); fi
run_step tests "${tests_env[@]}" -- "${tests_cmd[@]}" "${workers[@]}"

# the benchmark's GPU rows: quick sizes, then 10^6 rows for the BLAS-bound estimators
if "$PY" -c "import pytest_benchmark" 2>/dev/null; then
  run_step bench-quick "${bench_env[@]}" -- "${quick_cmd[@]}"
  run_step bench-blas "${bench_env[@]}" -- "${blas_cmd[@]}"
else
  echo "gpu-check: pytest-benchmark is not importable: the benchmark steps are skipped"
  record bench-quick 0 0 "" failed "pytest-benchmark missing"
  record bench-blas 0 0 "" failed "pytest-benchmark missing"
fi

# the report (markdown + plots) of the GPU results, when matplotlib is there
results=()
for f in "$QUICK_JSON" "$BLAS_JSON"; do [ -f "$outdir/$f" ] && results+=("$outdir/$f"); done
if [ "${#results[@]}" = 0 ]; then
  report_note="none: no benchmark results"
elif ! "$PY" -c "import matplotlib" 2>/dev/null; then
  report_note="none: matplotlib is not importable (the results files hold every figure)"
else
  marker="$(sed -n 's/^MARKER = "\(.*\)"$/\1/p' benchmarks/report.py)"
  printf '# GPU check: benchmark report\n\nWritten by `scripts/gpu-check.sh` on %s, %s (see docs/gpu-check.md).\n\n%s\n' \
    "$(hostname)" "$started" "$marker" > "$outdir/gpu-report.md"
  t0=$(date +%s)
  if timeout "${CAP[report]}" "$PY" benchmarks/report.py "${results[@]}" --out "$outdir/gpu-report.md" \
      --img-dir "$outdir/img"; then
    report_note="gpu-report.md"
    record report "${CAP[report]}" "$(( $(date +%s) - t0 ))" 0 ok "$(q "${report_cmd[@]}")"
  else
    report_note="none: report.py failed (see the log)"
    record report "${CAP[report]}" "$(( $(date +%s) - t0 ))" 1 skipped-optional "$(q "${report_cmd[@]}")"
  fi
fi
finish
