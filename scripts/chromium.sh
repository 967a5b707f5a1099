#!/usr/bin/env bash
# Make sure Debian's chromium is at /usr/bin/chromium for the dashboard's browser tests (Playwright drives it
# with executable_path; a test tool's own browser download does not work on these machines).
# Installs it with apt-get when missing and running as root; otherwise says why the browser tests will skip.
# Never fails: the browser tests skip with a reason when chromium is absent.
set -uo pipefail
log() { echo "chromium.sh: $*" >&2; }
if [ -x /usr/bin/chromium ]; then
  log "$(/usr/bin/chromium --version 2>/dev/null | head -n1) is installed"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  log "no /usr/bin/chromium and cannot install it (needs root and apt-get): the dashboard's browser tests will skip"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1 || true
  apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || true
fi
if [ -x /usr/bin/chromium ]; then
  log "installed $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
else
  log "apt-get could not install chromium: the dashboard's browser tests will skip"
fi
exit 0
