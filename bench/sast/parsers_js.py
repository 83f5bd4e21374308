"""Choose the JavaScript parser by measurement: tree-sitter against esprima-python.

Parses every file of the generated Express suite (``cases_js``) and a set of modern syntax
snippets with each parser, and prints parse throughput (CPU time, one core) and which
snippets each accepts. esprima is not a Bastion dependency: install it somewhere and put it on
``PYTHONPATH`` (``pip install --target build/esp esprima==4.0.1``); without it its rows say so.

Usage: ``PYTHONPATH=build/esp python bench/sast/parsers_js.py``
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path

from bastion.scan.sast.taint.js.parse import JsParseError, parse

HERE = Path(__file__).resolve().parent

SNIPPETS = {
    "optional chaining (ES2020)": "const a = req?.query?.q;",
    "nullish coalescing (ES2020)": "const a = x ?? 'd';",
    "class private fields (ES2022)": "class A { #x = 1; get x() { return this.#x; } }",
    "top-level await (ES2022)": "const r = await fetch(u);",
    "logical assignment (ES2021)": "a ||= b; c ??= d;",
    "numeric separators (ES2021)": "const n = 1_000_000;",
    "ES module import/export": "import x, { y as z } from 'm'; export default x;",
    "TypeScript annotations": "function f(a: string, b?: number): void {}",
    "TypeScript generics/as": "const m = new Map<string, number>(); const v = x as unknown as string;",
}


def _tree_sitter(name: str, text: str) -> bool:
    try:
        parse(name, text.encode())
    except JsParseError:
        return False
    return True


def _esprima() -> Callable[[str, str], bool] | None:
    try:
        esprima = importlib.import_module("esprima")
    except ImportError:
        return None

    def run(_name: str, text: str) -> bool:
        try:
            if "import " in text or "export " in text:
                esprima.parseModule(text)
            else:
                esprima.parseScript(text)
        except Exception:  # esprima raises its own Error class and sometimes others
            return False
        return True

    return run


def main() -> None:
    """Command line."""
    files = sorted((HERE / "cases_js").glob("*/*/app.*"))
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in files]
    lines = sum(t.count("\n") for _, t in texts)
    parsers: dict[str, Callable[[str, str], bool] | None] = {
        "tree-sitter": _tree_sitter,
        "esprima": _esprima(),
    }
    for label, parser in parsers.items():
        if parser is None:
            print(f"{label}: not installed (skipped)")
            continue
        start = time.process_time()
        ok = sum(parser(name, text) for name, text in texts)
        spent = time.process_time() - start
        print(f"{label}: {ok}/{len(texts)} suite files parsed, {lines / spent:,.0f} lines/s")
        for snippet, code in SNIPPETS.items():
            name = "s.ts" if snippet.startswith("TypeScript") else "s.js"
            print(f"  {snippet:32} {'yes' if parser(name, code) else 'NO'}")


if __name__ == "__main__":
    main()
