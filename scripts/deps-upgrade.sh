#!/usr/bin/env sh
# Try the newest releases that pyproject.toml's ranges allow, on our schedule: `make deps-upgrade`.
# Locks them into build/deps-upgrade/ (the committed lock is not touched), installs them into a
# venv of their own, runs lint, type check and the test suite there, and writes
# build/deps-upgrade/REPORT.md: which packages moved, and what broke.
# Exit 0: the newest set passes (take it with `make lock UPGRADE=1`); 1: something broke;
# 2: the newest set could not be resolved or installed.
set -u
cd "$(dirname "$0")/.."
WORK=build/deps-upgrade
VENV="$WORK/venv"
REPORT="$WORK/REPORT.md"
rm -rf "$WORK" && mkdir -p "$WORK"
if ! LOCK_DIR="$WORK" sh scripts/lock.sh --upgrade; then
    echo "deps-upgrade: the newest releases could not be resolved (see above)" >&2
    exit 2
fi
python3 -m venv "$VENV"
PIP="$VENV/bin/python -m pip --disable-pip-version-check --quiet"
if ! $PIP install --require-hashes -r "$WORK/dev.txt" || ! $PIP install --no-deps --no-build-isolation -e .; then
    echo "deps-upgrade: the newest set did not install (see above)" >&2
    exit 2
fi
pins() { grep -E '^[A-Za-z0-9_.-]+==' "$1" | sed 's/ .*//' | sort; }
{
    echo "# Newest releases tried on $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "## Packages that moved (locked -> newest)"
    echo
    pins requirements/dev.txt > "$WORK/old.pins"
    pins "$WORK/dev.txt" > "$WORK/new.pins"
    join -t= -j1 -a2 -e '(new)' -o 0,1.3,2.3 "$WORK/old.pins" "$WORK/new.pins" 2>/dev/null \
        | awk -F= '$2 != $3 { printf "- %s: %s -> %s\n", $1, $2, $3 }' || true
    echo
} > "$REPORT"
status=0
for step in "ruff check src tests bench" "mypy" "pytest -q -p no:cacheprovider"; do
    log="$WORK/$(echo "$step" | cut -d' ' -f1).log"
    # shellcheck disable=SC2086
    if "$VENV/bin/"$step > "$log" 2>&1; then
        echo "- $step: passed" >> "$REPORT"
    else
        status=1
        echo "- $step: FAILED (log: $log)" >> "$REPORT"
        grep -E '^(FAILED|ERROR)|error:' "$log" | head -n 40 | sed 's/^/    /' >> "$REPORT"
    fi
done
cat "$REPORT"
exit $status
