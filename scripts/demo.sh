#!/usr/bin/env bash
# Set up .venv and run an evolution on the EPLB problem with the offline engine (no API key).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/evolve run problems/eplb --iterations "${ITERATIONS:-40}" "$@"
