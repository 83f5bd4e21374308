"""Start-up cost: `bastion scan` and `bastion --help` must not pay for every command group.

Each command group (watch, serve, dast, comply, ...) imports its heavy libraries inside its
commands, so a pre-commit hook running `bastion scan --staged` starts in a fraction of a
second instead of loading scikit-learn, SQLAlchemy and FastAPI it never uses.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sklearn",
    "numpy",
    "scipy",
    "torch",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "jinja2",
    "drain3",
    "hcl2",
    "cyclonedx",
    "univers",
    "zapv2",
    "playwright",
)


def test_cli_import_leaves_heavy_libraries_unloaded() -> None:
    probe = (
        "import json, sys\n"
        "import bastion.cli.main\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
    )
    out = subprocess.run(  # bastion: ignore[sast.bandit.B603] this interpreter, a constant probe
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []
