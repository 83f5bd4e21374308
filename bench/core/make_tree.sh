#!/usr/bin/env bash
# Build the benchmark trees under bench/core/.tree/ (git-ignored):
#   .tree/big/copy-N/  copies of the venv's site-packages until >= MIN_FILES files (50000)
#   .tree/sast/        a few pure-Python packages (~700 .py files) for the bandit-bound bench
# Idempotent: a copy is only (re)made when its ".complete" stamp is missing.
#
#   bash bench/core/make_tree.sh            # from anywhere
#   MIN_FILES=60000 bash bench/core/make_tree.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
src="${SRC:-$repo/.venv/lib/python3.11/site-packages}"
tree="$here/.tree"
min_files="${MIN_FILES:-50000}"

[ -d "$src" ] || { echo "no source tree at $src" >&2; exit 1; }
per_copy="$(find "$src" -type f | wc -l)"
copies=$(( (min_files + per_copy - 1) / per_copy ))

copy() {  # copy SRC DEST unless DEST/.complete exists
    if [ ! -f "$2/.complete" ]; then
        rm -rf "$2"
        mkdir -p "$(dirname "$2")"
        echo "copying $1 -> $2" >&2
        cp -a "$1" "$2"
        : > "$2/.complete"
    fi
}

for i in $(seq 0 $((copies - 1))); do
    copy "$src" "$tree/big/copy-$i"
done
# bandit runs at ~10-70 files/s here, so the SAST tree stays small: ~700 .py files.
copy "$src/opentelemetry" "$tree/sast/opentelemetry-a"
copy "$src/opentelemetry" "$tree/sast/opentelemetry-b"
copy "$src/setuptools" "$tree/sast/setuptools"

for t in big sast; do
    files="$(find "$tree/$t" -type f | wc -l)"
    py="$(find "$tree/$t" -type f -name '*.py' | wc -l)"
    bytes="$(du -sb "$tree/$t" | cut -f1)"
    echo "$tree/$t: $files files ($py .py), $bytes bytes ($(( bytes / 1000000 )) MB)"
done
echo "(big = $copies copies x $per_copy files of $src)"
