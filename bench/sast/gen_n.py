"""Families ``n`` (tuning) and ``o`` (held out): FastAPI dependencies declared once at module
level (``DB = Depends(get_db)``, ``CurrentUser = Annotated[User, Depends(current_user)]``) are
server-side values like an inline ``Depends(...)``; the request's own parameters beside them
(``Query``, ``Annotated[str, Query()]``) stay untrusted.

Written together, before the engine knew the class. Each case is one handler with both kinds
of parameter; the sink uses one of them.

Usage: ``python bench/sast/gen_n.py [--out build/sast/cases] [--family n] [--family o]``
"""

# ruff: noqa: E501 - tables of code snippets read better unwrapped

from __future__ import annotations

from itertools import product

from families import run_families

HEAD = 'import os\nimport subprocess\nfrom typing import Annotated\n\nfrom fastapi import Depends, FastAPI, Query, Security\nfrom sqlalchemy import text\n\napp = FastAPI()\n\n\nclass User:\n    name = "admin"\n\n\ndef get_db():\n    yield object()\n\n\ndef current_user():\n    return User()\n'
# (family, module-level declarations, handler parameters, {name: value under test})
PARAMS = (
    (
        "n",
        "DB = Depends(get_db)\nAuth = Depends(current_user)",
        'term: str = Query(""), db=DB, who: User = Auth',
        {"db": "str(db)", "who": "who.name", "term": "term"},
    ),
    (
        "n",
        "SESSION = Depends(get_db)",
        'q: str = Query(default=""), session=SESSION',
        {"session": "repr(session)", "q": "q"},
    ),
    (
        "o",
        "Principal = Security(current_user)",
        "item: Annotated[str, Query()], who: User = Principal",
        {"who": "who.name", "item": "item"},
    ),
    (
        "o",
        "CurrentUser = Annotated[User, Depends(current_user)]\nDb = Annotated[object, Depends(get_db)]",
        'who: CurrentUser, db: Db, name: str = ""',
        {"who": "who.name", "db": "str(db)", "name": "name"},
    ),
)
SINKS = {
    "n": ('os.system("ls " + {v})', 'db_conn.execute(text("SELECT 1 FROM t WHERE n = \'" + {v} + "\'"))'),
    "o": (
        'subprocess.run("id " + {v}, shell=True)',
        "db_conn.execute(text(f\"DELETE FROM t WHERE n = '{{{v}}}'\"))",
    ),
}
CWES = {"os.system": 78, "subprocess": 78, "execute": 89}
UNTRUSTED = {"term", "q", "item", "name"}


def generate(fam: str) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, object]]]:
    """Cases and labels of one family (every combination once, no randomness)."""
    cases: dict[str, dict[str, str]] = {}
    labels: dict[str, dict[str, object]] = {}
    n = 0
    for (pfam, decls, params, values), sink in product(PARAMS, SINKS[fam]):
        if pfam != fam:
            continue
        for name, value in values.items():
            real = name in UNTRUSTED
            cwe = next(c for word, c in CWES.items() if word in sink)
            body = "    " + sink.format(v=value) + '\n    return {"ok": True}\n'
            handler = f'@app.get("/x")\ndef handler({params}):\n{body}'
            code = f"{HEAD}\n\n{decls}\ndb_conn = object()\n\n\n{handler}"
            case_id = f"{cwe}-depends-{n:03d}-{'real' if real else 'false'}"
            n += 1
            cases[case_id] = {"app.py": code}
            labels[case_id] = {
                "category": "depends",
                "cwe": cwe,
                "real": real,
                "kind": "tainted" if real else "flow-clean",
                "propagation": name,
                "framework": "fastapi",
                "sink": sink[:60],
            }
    return cases, labels


def main() -> None:
    """Command line."""
    run_families(generate, ["n", "o"])


if __name__ == "__main__":
    main()
