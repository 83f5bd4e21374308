#!/usr/bin/env bash
# Diff coverage of `bastion coverage` beside diff-cover (the peer), on this repository's own code:
# the coverage gate's, fix's and ci's tests measured by coverage.py, compared against BASE.
# Usage: bench/coverage/compare.sh BASE_REF   (diff-cover in build/tools: pip install diff-cover)
set -euo pipefail
cd "$(dirname "$0")/../.."
base="${1:?base ref}"
out=build/covbench
mkdir -p "$out"
py=.venv/bin/python
$py -m coverage run --data-file="$out/.coverage" \
    --source=src/bastion/coverage,src/bastion/fix,src/bastion/ci,src/bastion/cli \
    -m pytest -q -p no:cacheprovider tests/coverage tests/fix tests/ci/test_stages.py tests/ci/test_ci_render.py
for kind in xml lcov json; do
    $py -m coverage "$kind" --data-file="$out/.coverage" -o "$out/coverage.$kind" -q
done
$py -m coverage report --data-file="$out/.coverage" --format=total
for kind in xml lcov json; do
    .venv/bin/bastion coverage "$out/coverage.$kind" --min-new 0 --base "$base" -f json -o "$out/bastion-$kind.json" || true
done
dc="${DIFF_COVER:-build/tools/bin/diff-cover}"
"$dc" "$out/coverage.xml" --compare-branch "$base" --format "json:$out/diff-cover-xml.json" >/dev/null
"$dc" "$out/coverage.lcov" --compare-branch "$base" --format "json:$out/diff-cover-lcov.json" >/dev/null
$py - "$out" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
for kind in ("xml", "lcov"):
    d = json.loads((out / f"diff-cover-{kind}.json").read_text())
    print(f"diff-cover {kind}: {d['total_num_lines'] - d['total_num_violations']}/{d['total_num_lines']} changed lines covered")
PY
