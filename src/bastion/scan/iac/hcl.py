"""Parse one Terraform file with python-hcl2, keeping the line of every block and attribute.

python-hcl2 8 does not put line numbers in its dict output, so the Lark tree is walked once for
positions and then transformed into the dict the evaluator reads. The tree comes from python-hcl2's
own grammar and post-lexer, parsed by a Lark instance built without ``propagate_positions``: that
option makes Lark compute a position for every one of the ~2.5 rule reductions per token, which
was two thirds of the parse time, while every token still carries its own line; the few lines
Bastion needs (blocks and attributes) are read from the first and last token of those subtrees.
The parse tables are python-hcl2's own, loaded a second time with that option off.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import hcl2
import hcl2.parser
from hcl2 import SerializationOptions
from hcl2.postlexer import PostLexer
from hcl2.transformer import RuleTransformer
from lark import Lark, Token, Tree
from lark.exceptions import LarkError
from lark.grammar import Rule
from lark.lexer import TerminalDef

__all__ = ["BlockLines", "HclError", "ParsedFile", "parse_hcl", "parse_tf_json"]

_OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True, preserve_heredocs=False
)


class HclError(Exception):
    """The file is not valid HCL; the message has the line."""


@dataclass
class BlockLines:
    """Where a top-level block is and where each attribute inside it is."""

    start: int
    end: int
    attrs: dict[str, int] = field(default_factory=dict)


@dataclass
class ParsedFile:
    """One file's blocks as dicts, and their lines keyed by (block type, *labels)."""

    path: str
    data: dict[str, Any]
    lines: dict[tuple[str, ...], BlockLines]


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """python-hcl2's parser (grammar, tables, post-lexer), rebuilt without per-rule positions.

    The tables come from python-hcl2's own parser (which python-hcl2 caches): :func:`_unpositioned`
    reuses them with new tree-building callbacks, :func:`_reloaded` (for a Lark whose internals
    differ) serializes and loads them again with ``propagate_positions`` off, the way Lark's
    standalone parsers load theirs. If neither works, python-hcl2's parser itself is used: same
    trees, slower.
    """
    base = hcl2.parser.parser()
    for build in (_unpositioned, _reloaded):
        try:
            return build(base)
        except (AttributeError, TypeError, KeyError, LarkError):
            continue
    return base


def _unpositioned(base: Lark) -> Lark:
    """A shallow copy of ``base`` sharing its lexer and LALR tables, whose callbacks build trees
    without positions: about 2 ms, where serializing and loading the tables again took 0.15-0.4 s
    of every scan's start-up. ``base`` (cached by python-hcl2) is left as it was."""
    clone = copy.copy(base)
    options = copy.copy(base.options)
    options.__dict__["options"] = {**base.options.__dict__["options"], "propagate_positions": False}
    clone.options = options
    clone._prepare_callbacks()
    frontend = copy.copy(base.parser)
    lalr = copy.copy(frontend.parser)
    inner = copy.copy(lalr.parser)
    inner.callbacks = clone._callbacks
    lalr.parser = inner
    frontend.parser = lalr
    clone.parser = frontend
    return clone


def _reloaded(base: Lark) -> Lark:
    """``base``'s tables serialized and loaded again with ``propagate_positions`` off."""
    data, memo = base.memo_serialize([TerminalDef, Rule])
    load: Callable[..., Lark] = Lark._load_from_dict  # Lark ships this loader without annotations
    parser: Lark = load(data, memo, propagate_positions=False, postlex=PostLexer())
    return parser


def _first_token(node: Tree | Token) -> Token | None:
    """Leftmost token under ``node`` (its line is the subtree's first line)."""
    if isinstance(node, Token):
        return node
    for child in node.children:
        if isinstance(child, Tree | Token):
            found = _first_token(child)
            if found is not None:
                return found
    return None


def _last_token(node: Tree | Token) -> Token | None:
    """Rightmost token under ``node`` (its end line is the subtree's last line)."""
    if isinstance(node, Token):
        return node
    for child in reversed(node.children):
        if isinstance(child, Tree | Token):
            found = _last_token(child)
            if found is not None:
                return found
    return None


def _start(node: Tree) -> int:
    token = _first_token(node)
    return token.line if token is not None and token.line is not None else 1


def _end(node: Tree) -> int:
    token = _last_token(node)
    return token.end_line if token is not None and token.end_line is not None else _start(node)


def _text(node: Tree | Token) -> str:
    if isinstance(node, Token):
        return str(node).strip('"')
    return "".join(_text(child) for child in node.children)


def _block_key(block: Tree) -> tuple[str, ...]:
    parts: list[str] = []
    for child in block.children:
        if isinstance(child, Tree) and child.data in ("identifier", "string"):
            parts.append(_text(child))
        elif isinstance(child, Token) and child.type in ("NAME", "STRING_LIT"):
            parts.append(str(child).strip('"'))
    return tuple(parts)


def _collect(body: Tree, prefix: str, out: dict[str, int]) -> None:
    for child in body.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name = _text(child.children[0])
            out.setdefault(prefix + name, _start(child))
        elif child.data == "block":
            key = _block_key(child)
            if not key:
                continue
            name = key[0] if key[0] != "dynamic" or len(key) < 2 else key[1]
            out.setdefault(prefix + name, _start(child))
            inner = next((c for c in child.children if isinstance(c, Tree) and c.data == "body"), None)
            if inner is not None:
                _collect(inner, f"{prefix}{name}.", out)


def _lines(tree: Tree) -> dict[tuple[str, ...], BlockLines]:
    found: dict[tuple[str, ...], BlockLines] = {}
    body = next((c for c in tree.children if isinstance(c, Tree) and c.data == "body"), None)
    for child in body.children if body is not None else ():
        if isinstance(child, Tree) and child.data == "block":
            key = _block_key(child)
            entry = BlockLines(_start(child), _end(child))
            inner = next((c for c in child.children if isinstance(c, Tree) and c.data == "body"), None)
            if inner is not None:
                _collect(inner, "", entry.attrs)
            found.setdefault(key, entry)
        elif isinstance(child, Tree) and child.data == "attribute":  # tfvars files
            found.setdefault(("=", _text(child.children[0])), BlockLines(_start(child), _end(child)))
    return found


_LITERALS = {"true": True, "false": False, "null": None}


class _Unsupported(Exception):
    """A tree shape the direct conversion does not know; python-hcl2 converts the file instead."""


def _rules(tree: Tree) -> Any:
    """python-hcl2's own conversion of one subtree (its rule objects, serialized as it would)."""
    return RuleTransformer(discard_new_line_or_comments=True).transform(tree).serialize(_OPTIONS)


def _plain_string(node: Tree) -> str | None:
    """The value of a quoted string made of literal characters only (no escape, no interpolation)."""
    children = node.children
    if len(children) < 2 or not all(
        isinstance(c, Token) and c.type == "DBLQUOTE" for c in (children[0], children[-1])
    ):
        return None
    chars: list[str] = []
    for part in children[1:-1]:
        if not (isinstance(part, Tree) and part.data == "string_part" and len(part.children) == 1):
            return None
        token = part.children[0]
        if not isinstance(token, Token) or token.type != "STRING_CHARS" or "\\" in token:
            return None
        chars.append(str(token))
    return "".join(chars)


_INDIRECT = object()
"""What :func:`_direct` returns for an expression it leaves to python-hcl2's rules."""


def _single_term(node: Any) -> bool:
    """Whether ``node`` is an ``expr_term`` holding one subtree (not a bare token)."""
    return (
        isinstance(node, Tree)
        and node.data == "expr_term"
        and len(node.children) == 1
        and isinstance(node.children[0], Tree)
    )


def _reference(term: Tree) -> str | None:
    """``a.b.c`` for a chain of plain attribute accesses (``get_attr_expr_term``), else None."""
    names: list[str] = []
    node: Any = term
    while isinstance(node, Tree) and node.data == "get_attr_expr_term" and len(node.children) == 2:
        inner, access = node.children
        if not (isinstance(access, Tree) and access.data == "get_attr" and len(access.children) == 2):
            return None
        name = access.children[1]
        if not (isinstance(name, Tree) and name.data == "identifier" and len(name.children) == 1):
            return None
        names.append(str(name.children[0]))
        if not (isinstance(inner, Tree) and inner.data == "expr_term" and len(inner.children) == 1):
            return None
        node = inner.children[0]
    if not (isinstance(node, Tree) and node.data == "identifier" and len(node.children) == 1) or not names:
        return None
    return ".".join([str(node.children[0]), *reversed(names)])


def _template(term: Tree) -> str | None:
    """A quoted string of literal characters and ``${a.b.c}`` interpolations, as python-hcl2 writes it."""
    children = term.children
    if len(children) < 2 or not all(
        isinstance(c, Token) and c.type == "DBLQUOTE" for c in (children[0], children[-1])
    ):
        return None
    out: list[str] = []
    for part in children[1:-1]:
        if not (isinstance(part, Tree) and part.data == "string_part" and len(part.children) == 1):
            return None
        inner = part.children[0]
        if isinstance(inner, Token):
            if inner.type != "STRING_CHARS" or "\\" in inner:
                return None
            out.append(str(inner))
            continue
        if not (isinstance(inner, Tree) and inner.data == "interpolation" and len(inner.children) == 3):
            return None
        expression = inner.children[1]
        if not _single_term(expression):
            return None
        reference = _reference(expression.children[0])
        if reference is None:
            return None
        out.append(f"${{{reference}}}")
    return "".join(out)


def _object_key(key: Any) -> str | None:
    if not (isinstance(key, Tree) and key.data == "object_elem_key" and len(key.children) == 1):
        return None
    term = key.children[0]
    if not (isinstance(term, Tree) and term.data == "expr_term" and len(term.children) == 1):
        return None
    inner = term.children[0]
    if isinstance(inner, Tree) and inner.data == "identifier" and len(inner.children) == 1:
        return str(inner.children[0])
    if isinstance(inner, Tree) and inner.data == "string":
        return _plain_string(inner)
    return None


def _collection(term: Tree) -> Any:
    """A tuple or object whose every element :func:`_direct` converts, else :data:`_INDIRECT`."""
    if term.data == "tuple":
        items: list[Any] = []
        for child in term.children:
            if isinstance(child, Token) or child.data == "new_line_or_comment":
                continue
            value = _direct(child)
            if value is _INDIRECT:
                return _INDIRECT
            items.append(value)
        return items
    found: dict[str, Any] = {}
    for child in term.children:
        if isinstance(child, Token) or child.data == "new_line_or_comment":
            continue
        if child.data != "object_elem" or len(child.children) != 3:
            return _INDIRECT
        key = _object_key(child.children[0])
        if key is None or key in found:
            return _INDIRECT
        value = _direct(child.children[2])
        if value is _INDIRECT:
            return _INDIRECT
        found[key] = value
    return found


def _direct(expression: Tree | Token) -> Any:
    """An expression python-hcl2 would serialize to a plain value (a literal, a ``${a.b}``
    reference or template, a tuple or object of those), converted here; :data:`_INDIRECT` for
    any other expression (function calls, operators, indexes, ``for``, heredocs, escapes)."""
    if not isinstance(expression, Tree) or not _single_term(expression):
        return _INDIRECT
    term = expression.children[0]
    if not isinstance(term, Tree) or not term.children:
        return _INDIRECT
    first = term.children[0]
    found: Any = _INDIRECT
    if term.data == "string":
        found = _plain_string(term)
        if found is None:
            found = _template(term)
    elif term.data == "int_lit" and isinstance(first, Token) and len(term.children) == 1:
        found = int(first)
    elif term.data == "literal_value" and isinstance(first, Token) and str(first) in _LITERALS:
        found = _LITERALS[str(first)]
    elif term.data == "get_attr_expr_term":
        reference = _reference(term)
        found = f"${{{reference}}}" if reference is not None else None
    elif term.data in ("tuple", "object"):
        found = _collection(term)
    return _INDIRECT if found is None else found


def _value(expression: Tree | Token) -> Any:
    """An attribute's value: plain values directly (:func:`_direct`), anything else through
    python-hcl2's rules."""
    value = _direct(expression)
    if value is not _INDIRECT:
        return value
    if not isinstance(expression, Tree):
        raise _Unsupported("token")
    return _rules(expression)


def _name(node: Tree | Token) -> Any:
    """An attribute name or block label as python-hcl2 serializes it."""
    if isinstance(node, Tree) and node.data in ("identifier", "keyword", "literal_value"):
        if len(node.children) == 1 and isinstance(node.children[0], Token):
            return str(node.children[0])
        raise _Unsupported(node.data)
    if isinstance(node, Tree) and node.data == "string":
        plain = _plain_string(node)
        return plain if plain is not None else _rules(node)
    raise _Unsupported(getattr(node, "data", "token"))


def _body(body: Tree) -> dict[str, Any]:
    """python-hcl2's ``BodyRule.serialize``: blocks grouped in lists by type, attributes by name."""
    result: dict[str, Any] = {}
    attribute_names: set[str] = set()
    for child in body.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name = _name(child.children[0])
            attribute_names.add(name)
            result[name] = _value(child.children[-1])
        elif child.data == "block":
            parts = [c for c in child.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
            if len(parts) < 2 or parts[-1].data != "body":
                raise _Unsupported("block")
            name = _name(parts[0])
            if name in attribute_names:
                raise RuntimeError(f"Attribute {name} is already defined.")
            value: Any = _body(parts[-1])
            for label in reversed(parts[1:-1]):
                value = {_name(label): value}
            result.setdefault(name, []).append(value)
        elif child.data != "new_line_or_comment":
            raise _Unsupported(child.data)
    return result


def _data(tree: Tree) -> dict[str, Any]:
    """The file as python-hcl2 8 serializes it with Bastion's options.

    Its rule-object conversion visits every node of the tree; walking the structure (blocks and
    attributes) and the literal values directly, and handing only the other expressions to its
    rules, gives the same dict in about half the time. A shape this walk does not expect sends
    the whole file through python-hcl2 (tests compare both on every Terraform fixture).
    """
    try:
        bodies = [c for c in tree.children if isinstance(c, Tree) and c.data == "body"]
        if tree.data != "start" or len(bodies) != 1:
            raise _Unsupported(tree.data)
        return _body(bodies[0])
    except _Unsupported:
        return _rules_file(tree)


def _rules_file(tree: Tree) -> dict[str, Any]:
    data: dict[str, Any] = hcl2.serialize(
        hcl2.transform(tree, discard_comments=True), serialization_options=_OPTIONS
    )
    return data


def parse_hcl(path: str, text: str) -> ParsedFile:
    """Parse ``text``; :class:`HclError` naming the line on a syntax error."""
    try:
        # the trailing newline is python-hcl2's own workaround: its grammar cannot look for end of file
        tree = _parser().parse(text + "\n")
        lines = _lines(tree)
        data = _data(tree)
    except LarkError as exc:
        line = getattr(exc, "line", None)
        where = f"line {line}: " if isinstance(line, int) and line > 0 else ""
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HclError(f"{where}HCL syntax error: {first[:160]}") from None
    except (ValueError, TypeError, RecursionError, RuntimeError, KeyError) as exc:
        raise HclError(f"cannot read HCL: {type(exc).__name__}: {str(exc)[:160]}") from None
    return ParsedFile(path, data, lines)


def _json_lines(text: str) -> dict[str, int]:
    """First line of each ``"key":`` in a JSON text, good enough to point at a resource name."""
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith('"') and '":' in stripped:
            found.setdefault(stripped[1 : stripped.index('":')], number)
    return found


def parse_tf_json(path: str, text: str) -> ParsedFile:
    """Read a ``.tf.json`` file into the same shape as :func:`parse_hcl` produces."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HclError(f"line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(raw, dict):
        raise HclError("a .tf.json file must hold an object")
    data: dict[str, Any] = {}
    lines: dict[tuple[str, ...], BlockLines] = {}
    keys = _json_lines(text)
    for block_type, body in raw.items():
        if block_type in ("resource", "data") and isinstance(body, dict):
            entries = []
            for rtype, named in body.items():
                for name, attrs in (named or {}).items():
                    entries.append({rtype: {name: attrs}})
                    line = keys.get(name, 1)
                    lines[(block_type, rtype, name)] = BlockLines(line, line)
            data[block_type] = entries
        elif isinstance(body, dict):
            data[block_type] = (
                [{name: value} for name, value in body.items()] if block_type != "locals" else [body]
            )
    return ParsedFile(path, data, lines)
