"""How long one large SARIF upload holds the store's write lock (issue 13, item 8).

Builds a SARIF log of N results from another tool, parses it and ingests it twice (new, then
seen again) into an empty SQLite project, and reports the time of each step, the number of write
transactions (``BEGIN IMMEDIATE``) and the longest one: the longest any other writer (a triage,
another project's upload) has to wait. Runs against whatever ``bastion`` is importable, so an
older checkout can be timed with ``PYTHONPATH=<old>/src`` (``--chunk`` is ignored there).

    .venv/bin/python bench/server/bench_ingest_locks.py 50000 --chunk 500
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import tempfile
import time
from typing import Any

from sqlalchemy import event

from bastion.store.accounts import create_project
from bastion.store.db import Store
from bastion.store.ingest import ingest
from bastion.store.parse import parse_upload


def _sarif(count: int) -> bytes:
    results = [
        {
            "ruleId": f"rule{i % 50}",
            "message": {"text": f"problem {i} in function f{i}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f"src/m{i % 997}/file{i}.py"},
                        "region": {"startLine": i % 400 + 1},
                    }
                }
            ],
        }
        for i in range(count)
    ]
    document = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "othertool"}}, "results": results}]}
    return json.dumps(document).encode()


def main() -> None:
    """Parse the arguments, run the two ingests, print one line per step."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=int)
    parser.add_argument("--chunk", type=int, default=500)
    args = parser.parse_args()
    data = _sarif(args.results)
    print(f"{args.results} results, {len(data) / 1e6:.1f} MB")
    store = Store.open(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    store.migrate()
    with store.write() as session:
        project = create_project(session, "bench", "bench", "bench").id
    spans: list[float] = []
    opened: dict[int, float] = {}

    @event.listens_for(store.engine, "begin")
    def _begin(connection: Any) -> None:
        opened[id(connection)] = time.perf_counter()

    @event.listens_for(store.engine, "commit")
    def _commit(connection: Any) -> None:
        start = opened.pop(id(connection), time.perf_counter())
        if connection.get_execution_options().get("immediate"):
            spans.append(time.perf_counter() - start)

    kwargs: dict[str, Any] = {}
    if "max_results" in inspect.signature(parse_upload).parameters:
        kwargs["max_results"] = 10**8
    started = time.perf_counter()
    parsed = parse_upload(data, "bench.sarif", **kwargs)
    print(f"parse {time.perf_counter() - started:.1f} s")
    chunked = {"chunk": args.chunk} if "chunk" in inspect.signature(ingest).parameters else {}
    for label in ("new", "seen again"):
        spans.clear()
        started = time.perf_counter()
        ingest(store, project, parsed, "bench", **chunked)
        print(
            f"ingest ({label}) {time.perf_counter() - started:.1f} s, {len(spans)} write transactions, "
            f"longest {max(spans):.2f} s"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    store.close()


if __name__ == "__main__":
    main()
