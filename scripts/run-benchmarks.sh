#!/usr/bin/env bash
# Set up (with the baseline libraries) and run every benchmark; tables go to stdout and benchmarks/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh bench,postgres
if [ -z "${TERRAIN_TEST_POSTGRES_URL:-}" ] && url="$(bash scripts/start-postgres.sh)"; then
  export TERRAIN_TEST_POSTGRES_URL="$url"  # the store benchmark adds PostgreSQL rows
fi
exec .venv/bin/python -m benchmarks "$@"
