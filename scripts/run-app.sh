#!/usr/bin/env bash
# Set up (the first run installs into .venv) and start the Terrain app on the shipped demo data.
# Settings (static serving for the offline map) are in .streamlit/config.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Demo mode (anyone may act as anyone) on the demo store, unless an identity provider is configured.
export TERRAIN_DEMO_MODE="${TERRAIN_DEMO_MODE:-1}"
exec .venv/bin/streamlit run app.py "$@"
