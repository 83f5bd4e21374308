#!/usr/bin/env sh
# Refresh the locked dependency sets from pyproject.toml's ranges: `make lock`.
#   requirements/dev.txt  what `make test` and CI install (extras dev + the installers), with hashes
#   requirements/run.txt  what `make run` installs (extra semgrep), held to the same versions
# Pass --upgrade to take the newest releases the ranges allow (otherwise pinned versions are kept).
# LOCK_DIR writes the two files elsewhere (scripts/deps-upgrade.sh uses it; the inputs stay here).
set -eu
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
TOOLS=build/lock-tools
if [ ! -x "$TOOLS/bin/uv" ]; then
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
UV="$TOOLS/bin/uv"
OUT="${LOCK_DIR:-requirements}"
mkdir -p "$OUT"
# uv reads no pip configuration: hand it the wheel directory pip is configured with (torch's CPU
# build lies there on this machine kind), if any.
WHEELS="$(python3 -m pip config get global.find-links 2>/dev/null || true)"
COMMON="--quiet --generate-hashes --python-version 3.11 --no-emit-find-links ${WHEELS:+--find-links $WHEELS}"
# shellcheck disable=SC2086
"$UV" pip compile $COMMON "$@" --custom-compile-command "make lock" \
    pyproject.toml requirements/dev.in --extra dev -c requirements/constraints.in -o "$OUT/dev.txt"
# shellcheck disable=SC2086
"$UV" pip compile $COMMON "$@" --custom-compile-command "make lock" \
    pyproject.toml requirements/dev.in --extra semgrep -c "$OUT/dev.txt" -o "$OUT/run.txt"
echo "locked: $OUT/dev.txt ($(grep -c '^[a-z0-9]' "$OUT/dev.txt") packages)," \
    "$OUT/run.txt ($(grep -c '^[a-z0-9]' "$OUT/run.txt") packages)"
