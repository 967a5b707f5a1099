#!/usr/bin/env bash
# Conformance runner: scikit-learn's own test modules with toolbox's classes and functions swapped in.
# Writes docs/compatibility.md and docs/compatibility.json (see scripts/upstream/run.py).
#   scripts/upstream-tests.sh                                   # every module (slow: not part of test.sh)
#   scripts/upstream-tests.sh metrics/tests/test_regression.py  # a subset; replaces those modules' rows
#   scripts/upstream-tests.sh -n 1 --timeout 60 linear_model/tests/test_ridge.py -- -k alpha
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/upstream/run.py "$@"
