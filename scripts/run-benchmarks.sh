#!/usr/bin/env bash
# Set up (with the baseline libraries) and run every benchmark; tables go to stdout and benchmarks/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh bench
exec .venv/bin/python -m benchmarks "$@"
