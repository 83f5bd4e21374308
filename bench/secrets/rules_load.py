"""Start-up cost of the built-in secrets rules: TOML parsed by tomllib vs the JSON cache (tomlcache.py).

    .venv/bin/python bench/secrets/rules_load.py --rounds 5

Both are timed in the same process, interleaved, on the same file texts; the cache is filled first.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tomllib

from bastion.scan.secrets.rules import BUILTIN_RULES
from bastion.scan.secrets.tomlcache import loads_cached


def main() -> None:
    """Print the median seconds of each way over ``--rounds`` rounds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = [path.read_text(encoding="utf-8") for path in sorted(BUILTIN_RULES.glob("*.toml"))]
    for text in texts:
        loads_cached(text)  # fill the cache
    plain: list[float] = []
    cached: list[float] = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for text in texts:
            tomllib.loads(text)
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        for text in texts:
            loads_cached(text)
        cached.append(time.perf_counter() - started)
    size = sum(len(t) for t in texts)
    print(f"{len(texts)} rule files, {size / 1000:.0f} kB")
    print(
        f"tomllib: {statistics.median(plain):.3f} s; cache: {statistics.median(cached):.3f} s; "
        f"ratio {statistics.median(plain) / statistics.median(cached):.1f}x"
    )


if __name__ == "__main__":
    main()
