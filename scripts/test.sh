#!/usr/bin/env bash
# Install everything the tests need, lint, and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check toolbox tests examples scripts benchmarks
.venv/bin/python -m pytest -n 2 "$@"
