#!/usr/bin/env bash
# Install toolbox with the CPU backends, then run the demo on every installed backend.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python examples/demo.py "$@"
