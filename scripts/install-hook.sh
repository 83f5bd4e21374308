#!/usr/bin/env bash
# A light Bastion for secrets-only pipelines and pre-commit hooks: bastion itself without its
# dependencies, plus only what `bastion-hook scan --scanners secrets` (and `bastion scan
# --scanners secrets`) import. Tens of MB instead of the full install's hundreds; the other
# scanners and command groups are not usable in it (they say which package is missing).
#
# Usage: scripts/install-hook.sh [VENV_DIR] [SOURCE]
#   VENV_DIR  where to create the virtual environment (default: .bastion-hook)
#   SOURCE    what to install bastion from: a path to a source tree or wheel, or a requirement
#             such as bastion==0.1.0 (default: the repository this script is in)
# Then: VENV_DIR/bin/bastion-hook scan . --scanners secrets --fail-on medium
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-.bastion-hook}"
source="${2:-$here}"
python="${PYTHON:-python3}"

# The secrets path's imports (tests/ci/test_light_install.py runs the scan with everything else
# blocked, so this list cannot fall behind the code).
LIGHT=(
  "typer>=0.12"
  "rich>=13"
  "pydantic>=2.6"
  "pathspec>=1.0"
  "pyyaml>=6"
  "pyahocorasick>=2.1"
  "platformdirs>=4"
)

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${LIGHT[@]}"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$source"
echo "installed: $venv/bin/bastion-hook ($(du -sh "$venv" | cut -f1))"
