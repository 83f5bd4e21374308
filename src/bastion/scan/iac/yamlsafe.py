"""A YAML loader for untrusted files: safe types only, alias expansion capped (an alias bomb
raises instead of eating memory), mappings that remember the line of every key, and the
CloudFormation short-form tags (``!Ref``, ``!Sub``...) turned into their long form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["MAX_EXPANDED_NODES", "LineDict", "YamlError", "load_all"]

MAX_EXPANDED_NODES = 2_000_000
"""Nodes a document may expand to once aliases are followed; a billion-laughs file exceeds it
after a few hundred bytes, while a 20 MB manifest without aliases stays far below."""


class YamlError(Exception):
    """The file is not YAML Bastion will read; the message has the line."""


class LineDict(dict[Any, Any]):
    """A mapping that knows its first and last line and the line of each key."""

    line: int = 0
    end_line: int = 0
    key_lines: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.key_lines = {}


def _end_line(node: Node) -> int:
    mark = node.end_mark
    return mark.line if mark.column == 0 and mark.line > node.start_mark.line else mark.line + 1


if TYPE_CHECKING:
    _BASE = yaml.SafeLoader
else:  # libyaml's C loader when it is built in
    _BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):
    """libyaml's safe loader (Python's when libyaml is missing) with line-keeping mappings."""


def _check_expansion(root: Node) -> None:
    """Raise when ``root`` would expand past the limit once its aliases are followed.

    Composing is linear (an alias is a shared node); the size of the expanded tree is
    computed bottom-up once per node, so a bomb is caught before anything is built.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, SequenceNode):
            children: list[Node] = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            sizes[id(node)] = 1
            continue
        if not ready:
            if id(node) in open_nodes:
                raise YamlError(
                    f"line {node.start_mark.line + 1}: an alias refers to its own parent; not read"
                )
            open_nodes.add(id(node))
            stack.append((node, True))
            for child in children:
                if id(child) in open_nodes:
                    raise YamlError(
                        f"line {child.start_mark.line + 1}: an alias refers to its own parent; not read"
                    )
                if id(child) not in sizes:
                    stack.append((child, False))
            continue
        open_nodes.discard(id(node))
        size = 1 + sum(sizes.get(id(c), 1) for c in children)
        if size > MAX_EXPANDED_NODES:
            raise YamlError(
                f"line {node.start_mark.line + 1}: aliases expand to more than {MAX_EXPANDED_NODES:,} "
                "nodes (an alias bomb?); not read"
            )
        sizes[id(node)] = size


def _construct_map(loader: _Loader, node: MappingNode) -> Iterator[LineDict]:
    data = LineDict()
    data.line = node.start_mark.line + 1
    data.end_line = _end_line(node)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            raise YamlError(f"line {key_node.start_mark.line + 1}: a mapping key must be a scalar")
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[str(key)] = key_node.start_mark.line + 1


def _construct_tag(loader: _Loader, suffix: str, node: Node) -> Any:
    """``!Ref x`` -> ``{"Ref": x}``, ``!GetAtt a.b`` -> ``{"Fn::GetAtt": ["a", "b"]}``."""
    value: Any
    if isinstance(node, ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_multi_constructor("!", _construct_tag)


def load_all(text: str) -> list[Any]:
    """Every document of ``text``; :class:`YamlError` with the line on bad or hostile YAML."""
    loader = _Loader(text)
    # An alias is written ``*name``: a text without ``*`` has none, so nothing can expand
    # (most Kubernetes and CloudFormation files), and the size walk is skipped.
    may_alias = "*" in text
    try:
        documents: list[Any] = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if may_alias:
                _check_expansion(node)
            documents.append(loader.construct_document(node))
        return documents
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        raise YamlError(f"{where}{exc.problem or exc.context or 'invalid YAML'}") from None
    except (yaml.YAMLError, RecursionError, TypeError, ValueError) as exc:
        raise YamlError(f"invalid YAML: {type(exc).__name__}: {exc}") from None
    finally:
        loader.dispose()
