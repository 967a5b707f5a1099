#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the store tests, on 127.0.0.1 only, and print its URL.
#
#   export TOOLBOX_TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"
#
# Installs Debian's `postgresql` package when no server binaries are found (needs root and apt),
# creates a cluster in $TOOLBOX_PG_DIR (default /tmp/toolbox-pg) owned by the `postgres` user,
# listening on 127.0.0.1:$TOOLBOX_PG_PORT (default 54329), with a `toolbox` role and database.
# Safe to run again: a server already answering on that port is reused. Logs go to stderr; only
# the URL goes to stdout. `bash scripts/postgres.sh stop` stops the server.
set -euo pipefail

PORT="${TOOLBOX_PG_PORT:-54329}"
DIR="${TOOLBOX_PG_DIR:-/tmp/toolbox-pg}"
URL="postgresql://toolbox:toolbox@127.0.0.1:${PORT}/toolbox"
log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "no PostgreSQL server binaries, and cannot install them (needs root and apt-get)"; exit 1
  fi
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  BINDIR="$(find_bindir)"
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

if [ "${1:-}" = stop ]; then
  as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true
  exit 0
fi

if as_pg "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
  log "reusing the server on 127.0.0.1:$PORT"
else
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; fi
  if [ ! -s "$DIR/data/PG_VERSION" ]; then
    log "creating a cluster in $DIR/data"
    as_pg "$BINDIR/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  fi
  # loopback only; fsync off: the data is thrown away (the crash tests run on SQLite)
  as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c max_connections=200" \
    start >&2
fi

PSQL="$BINDIR/psql"; [ -x "$PSQL" ] || PSQL="$(command -v psql)"
psql_pg() { as_pg "$PSQL" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'toolbox'")" != 1 ]; then
  psql_pg -c "CREATE ROLE toolbox LOGIN PASSWORD 'toolbox' CREATEDB" >&2
fi
if [ "$(psql_pg -tAc "SELECT 1 FROM pg_database WHERE datname = 'toolbox'")" != 1 ]; then
  psql_pg -c "CREATE DATABASE toolbox OWNER toolbox" >&2
fi
log "PostgreSQL ready at postgresql://toolbox:***@127.0.0.1:${PORT}/toolbox"
echo "$URL"
