#!/usr/bin/env bash
# Create .venv (if needed) and install Terrain with the given extras, e.g. `scripts/setup.sh test`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
extras="${1:-}"
target="."
[ -n "$extras" ] && target=".[$extras]"
.venv/bin/python -m pip install --quiet -e "$target"
# The demo's map polygons, written once so the first visit does not wait for them.
.venv/bin/python -m ui.territory_map
