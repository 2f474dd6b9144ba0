#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh), check the code (ruff with the rule set pinned in
# pyproject.toml, mypy --strict on evolve/), then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "test: ruff check"
.venv/bin/ruff check evolve tests bench evaluators simulators
echo "test: mypy (strict) on evolve/"
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
