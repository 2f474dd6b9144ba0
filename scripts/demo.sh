#!/usr/bin/env bash
# Set up .venv and run an evolution on the EPLB problem with the offline engine (no API key).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f .venv/.evolve-installed ]; then
  echo "demo: first run: setting up .venv (PyTorch, Triton, evolve; a few minutes), then the run"
fi
bash scripts/setup.sh
echo "demo: evolving problems/eplb for ${ITERATIONS:-40} iterations with the offline engine"
exec .venv/bin/evolve run problems/eplb --iterations "${ITERATIONS:-40}" "$@"
