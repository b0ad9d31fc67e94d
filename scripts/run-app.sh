#!/usr/bin/env bash
# Set up (the first run installs into .venv) and start the Terrain app on the shipped demo data.
# Settings (static serving for the offline map) are in .streamlit/config.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/streamlit run app.py "$@"
