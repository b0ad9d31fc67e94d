#!/usr/bin/env bash
# Set up and run the whole test suite: lint, unit/property tests, AppTest, real-browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
if [ ! -x /usr/bin/chromium ]; then
  # The browser test drives Debian's Chromium (no browser download needed).
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ -z "${TERRAIN_TEST_POSTGRES_URL:-}" ]; then
  # The plan store's tests also run against a real PostgreSQL server (Debian package).
  if url="$(bash scripts/start-postgres.sh)"; then
    export TERRAIN_TEST_POSTGRES_URL="$url"
  elif [ "${CI:-}" = "true" ]; then
    exit 1
  else
    echo "PostgreSQL could not be started: its store tests will be skipped" >&2
  fi
fi
export PATH="$PWD/.venv/bin:$PATH"  # notebooks' kernels and subprocesses use the venv's python
ruff check .
ruff format --check .
python -m pytest "$@"
