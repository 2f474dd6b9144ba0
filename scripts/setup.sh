#!/usr/bin/env bash
# Create .venv and install evolve with everything its tests and shipped problems need.
# CPU machines get the CPU build of torch (torch==2.13.0); set EVOLVE_TORCH to choose
# another spec, e.g. EVOLVE_TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128".
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
say() { echo "setup: $*"; }
marker=.venv/.evolve-installed
stamp=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$stamp" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
torch_spec=${EVOLVE_TORCH:-torch==2.13.0}
say "installing into .venv (once; later runs skip this). Two steps, quiet while pip works:"
say "  1/2 ${torch_spec}, triton==3.9.0, numpy: the big one, a few hundred MB for a CPU build"
say "      of torch and several GB for a CUDA build; about 1-3 minutes on a fast connection"
say "  2/2 evolve and its dependencies, with test tools (pytest, psycopg, ray, litellm, ruff, mypy):"
say "      about a minute"
# torch first, pinned, so nothing later pulls a CUDA build on a CPU machine.
# shellcheck disable=SC2086
"${PIP[@]}" install ${torch_spec} "triton==3.9.0" "numpy>=1.26,<3"
say "  1/2 done after ${SECONDS}s"
# (setuptools prints a generic note on every editable install; it is not about this project)
PYTHONWARNINGS=ignore "${PIP[@]}" install -e ".[test,litellm,dev]"
say "  2/2 done: .venv is ready after ${SECONDS}s"
echo "$stamp" > "$marker"
