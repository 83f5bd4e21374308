"""The JavaScript/TypeScript taint analysis over a project: parse, index, analyse, collect.

:func:`analyze_js` parses every file (a syntax error is a problem naming the file and line),
indexes each file's functions, constants and ``require``/``import`` names once, then runs
:class:`~.analyzer.FileAnalysis` over each; calls into the project's own modules use the
callee file's summaries. Hits, sink calls proven safe and dead lines come back in a
:class:`~bastion.scan.sast.taint.TaintResult`.
"""

from __future__ import annotations

from collections.abc import Iterable

from tree_sitter import Node

from bastion.scan.sast.taint import TaintResult
from bastion.scan.sast.taint.js.analyzer import _FUNCTIONS, FileAnalysis
from bastion.scan.sast.taint.js.classes import class_declarations
from bastion.scan.sast.taint.js.constants import UNKNOWN, literal
from bastion.scan.sast.taint.js.expressions import Expressions
from bastion.scan.sast.taint.js.parse import (
    JsParseError,
    access_path,
    children,
    module_aliases,
    parse,
    text_of,
    walk,
)
from bastion.scan.sast.taint.js.spec import JsRuleBook, js_rule_book
from bastion.scan.sast.taint.js.state import Frame
from bastion.scan.sast.taint.summary import TaintHit

__all__ = ["analyze_js", "prepare", "run_file"]

_INDEXED = frozenset(
    {
        "variable_declarator",
        "import_statement",
        "assignment_expression",
        "function_declaration",
        "generator_function_declaration",
        "arrow_function",
        "function_expression",
        "method_definition",
    }
)


def _collect(nodes: list[Node], analysis: FileAnalysis) -> None:
    """Named functions and module constants (``const DEBUG = false``) of the file."""
    for node in nodes:
        if node.type in ("function_declaration", "generator_function_declaration"):
            name = node.child_by_field_name("name")
            if name is not None:
                analysis.functions.setdefault(text_of(name), node)
        elif node.type == "assignment_expression":
            target, value = node.child_by_field_name("left"), node.child_by_field_name("right")
            path = access_path(target) or ""
            if (
                value is not None
                and value.type in _FUNCTIONS
                and path.startswith(("exports.", "module.exports."))
            ):
                analysis.functions.setdefault(path.rsplit(".", 1)[-1], value)
        elif node.type == "variable_declarator":
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            if name is None or value is None or name.type != "identifier":
                continue
            if value.type in _FUNCTIONS:
                analysis.functions.setdefault(text_of(name), value)
            elif node.parent is not None and text_of(node.parent).startswith("const"):
                constant = literal(value)
                if constant is not UNKNOWN:
                    analysis.expr.consts[text_of(name)] = constant


def _promisified(nodes: list[Node], expr: Expressions, aliases: dict[str, str]) -> None:
    """``const run = util.promisify(cp.exec)``: ``run`` is ``child_process.exec``."""
    for node in nodes:
        if node.type != "variable_declarator":
            continue
        name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
        if name is None or value is None or name.type != "identifier" or value.type != "call_expression":
            continue
        if not text_of(value.child_by_field_name("function")).endswith("promisify"):
            continue
        args = value.child_by_field_name("arguments")
        wrapped = children(args) if args is not None else []
        target = expr.qualified(wrapped[0]) if len(wrapped) == 1 else ""
        if target:
            aliases[text_of(name)] = target


def prepare(relpath: str, text: str, book: JsRuleBook) -> FileAnalysis:
    """Parse one file and index its functions and constants."""
    root = parse(relpath, text.encode("utf-8", "surrogateescape"))
    nodes = [n for n in walk(root) if n.type in _INDEXED]
    aliases = module_aliases(root, nodes)
    expr = Expressions(relpath, book, aliases)
    expr.classes = class_declarations(root)
    _promisified(nodes, expr, aliases)
    analysis = FileAnalysis(expr, root, nodes)
    expr.functions = analysis
    _collect(nodes, analysis)
    return analysis


def run_file(analysis: FileAnalysis) -> None:
    """Analyse the top level, every named function, and every function literal left."""
    root = analysis.root
    analysis.block(children(root), Frame({}, frozenset()))
    for name, node in list(analysis.functions.items()):
        if node.start_byte not in analysis.handled:
            analysis.summary_of(name)
    for node in analysis.nodes:
        if (
            node.type in ("arrow_function", "function_expression", "method_definition")
            and node.start_byte not in analysis.handled
        ):
            analysis.analyse_callback(node, Frame({}, frozenset()), False)


def analyze_js(sources: Iterable[tuple[str, str]], book: JsRuleBook | None = None) -> TaintResult:
    """Analyse ``(relpath, text)`` pairs of JavaScript/TypeScript files together: calls to
    functions of the project's own modules (``require('./x')``, ``import ... from './x'``) use
    their summaries; cyclic imports are cut where a summary is still being computed."""
    rules = book or js_rule_book()
    result = TaintResult()
    modules: dict[str, FileAnalysis] = {}
    for relpath, text in sources:
        try:
            modules[relpath] = prepare(relpath, text, rules)
        except JsParseError as exc:
            result.problems.append((relpath, str(exc)))
    hits: dict[tuple[str, int, int, str], TaintHit] = {}
    live_sinks: dict[tuple[str, int, int], bool] = {}
    for relpath, analysis in modules.items():
        analysis.modules = modules
        try:
            run_file(analysis)
        except RecursionError:
            result.problems.append((relpath, "expressions nested too deeply to analyse"))
            continue
        result.analysed.add(relpath)
        if analysis.dead:
            result.dead_lines[relpath] = set(analysis.dead)
        for key, hit in analysis.expr.sinks.hits.items():
            hits.setdefault(key, hit)
        seen = analysis.expr.sinks.seen
        for at, live in seen.items():
            live_sinks[at] = live_sinks.get(at, False) or live
    result.hits = [hits[k] for k in sorted(hits)]
    result.proven = {key for key, live in live_sinks.items() if not live}
    return result
