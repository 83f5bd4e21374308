"""Is ingest's syslog reader fast enough to replace the identity auth.log header regex? Measured, per line.

    python bench/identity/syslog_header.py build/identity/idA/auth.log

``bastion.detect.ingest.records.SyslogFormat.parse`` builds a ``Record`` and searches every message for
an address and a user name (what ``bastion watch`` needs); ``AuthLogParser`` only needs the stamp, the
program and the message, then its own sshd/sudo/su grammar. Best of five runs, CPU time.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from bastion.detect.identity.authlog import _LINE, AuthLogParser
from bastion.detect.ingest.records import SyslogFormat


def _best(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(5):
        began = time.process_time()
        work()
        best = min(best, time.process_time() - began)
    return best


def main() -> None:
    """Print microseconds per line for each way of reading the header, and the whole identity parse."""
    lines = Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()
    ingest = SyslogFormat(2026)
    parser = AuthLogParser(2026)

    def own_header() -> list[object]:
        out: list[object] = []
        for line in lines:
            m = _LINE.match(line)
            out.append(m and parser._time(m))
        return out

    per_line = 1e6 / len(lines)
    ingest_s = _best(lambda: [ingest.parse(line) for line in lines])
    own_s = _best(own_header)
    full_s = _best(lambda: [parser.parse(line) for line in lines])
    print(f"lines: {len(lines)}")
    print(f"ingest SyslogFormat.parse (header + entities): {ingest_s * per_line:.2f} us/line")
    print(f"identity header regex + time:                  {own_s * per_line:.2f} us/line")
    print(f"identity whole parse (header + sshd/sudo/su):  {full_s * per_line:.2f} us/line")
    print(f"ingest header / identity header: {ingest_s / own_s:.2f}x")


if __name__ == "__main__":
    main()
