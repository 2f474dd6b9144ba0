#!/usr/bin/env bash
# Create .venv and install evolve with everything its tests and shipped problems need.
# CPU machines get the CPU build of torch (torch==2.13.0); set EVOLVE_TORCH to choose
# another spec, e.g. EVOLVE_TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128".
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
marker=.venv/.evolve-installed
stamp=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$stamp" ]; then
  exit 0
fi
# torch first, pinned, so nothing later pulls a CUDA build on a CPU machine.
# shellcheck disable=SC2086
"${PIP[@]}" install ${EVOLVE_TORCH:-torch==2.13.0} "triton==3.9.0" "numpy>=1.26,<3"
# (setuptools prints a generic note on every editable install; it is not about this project)
PYTHONWARNINGS=ignore "${PIP[@]}" install -e ".[test,litellm]"
echo "$stamp" > "$marker"
