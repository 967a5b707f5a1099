#!/usr/bin/env bash
# Install everything the tests need, lint, and run the whole suite.
# The store tests also run against PostgreSQL when TOOLBOX_TEST_POSTGRES_URL names a server; when it is
# unset and this runs as root with apt-get (or PostgreSQL is installed), scripts/postgres.sh starts one
# on 127.0.0.1. Otherwise the PostgreSQL half skips with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/chromium.sh  # the dashboard's browser tests use /usr/bin/chromium; they skip without it
if [ -z "${TOOLBOX_TEST_POSTGRES_URL:-}" ]; then
  if { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; } || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if url="$(bash scripts/postgres.sh)"; then
      export TOOLBOX_TEST_POSTGRES_URL="$url"
    else
      echo "test.sh: could not start PostgreSQL; its store tests will be skipped" >&2
    fi
  fi
fi
.venv/bin/ruff check toolbox tests examples scripts benchmarks
.venv/bin/python -m pytest -n 2 "$@"
