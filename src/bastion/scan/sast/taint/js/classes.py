"""Which constructor argument ends up in which field of a new object (JavaScript/TypeScript).

``new Box(raw)`` where ``class Box { kind = "plain"; constructor(v) { this.value = v; } }``
gives ``box.value`` the taint of ``raw`` and ``box.kind`` none: fields are tracked as access
paths instead of one taint for the whole object.
"""

from __future__ import annotations

from collections import Counter

from tree_sitter import Node

from bastion.scan.sast.taint.js.parse import access_path, children, text_of, walk

__all__ = ["class_declarations", "constructor_fields"]

_LITERALS = frozenset({"string", "number", "true", "false", "null", "undefined", "template_string"})
_FIELDS = frozenset({"public_field_definition", "field_definition"})


def class_declarations(root: Node) -> dict[str, Node]:
    """Class name -> its ``class_body``, for the classes declared in a file."""
    out: dict[str, Node] = {}
    for node in walk(root):
        if node.type in ("class_declaration", "class", "abstract_class_declaration"):
            name, body = node.child_by_field_name("name"), node.child_by_field_name("body")
            if name is not None and body is not None:
                out.setdefault(text_of(name), body)
    return out


def _this_writes(body: Node) -> Counter[str]:
    """How often each field is assigned through ``this`` in the class's methods."""
    names: Counter[str] = Counter()
    for node in walk(body):
        if node.type in ("assignment_expression", "augmented_assignment_expression"):
            path = access_path(node.child_by_field_name("left")) or ""
            if path.startswith("this.") and path.count(".") == 1:
                names[path[len("this.") :]] += 1
    return names


def _params(method: Node) -> list[str]:
    params = method.child_by_field_name("parameters")
    names: list[str] = []
    for param in children(params) if params is not None else []:
        ident = param if param.type == "identifier" else param.child_by_field_name("pattern")
        names.append(text_of(ident) if ident is not None and ident.type == "identifier" else "")
    return names


def constructor_fields(body: Node) -> dict[str, int | None]:
    """Field -> the constructor argument stored there unchanged (None: a literal the class sets
    itself and no method reassigns). Fields computed otherwise are left out."""
    written = _this_writes(body)
    fields: dict[str, int | None] = {}
    for item in children(body):
        if item.type in _FIELDS:
            name = item.child_by_field_name("property") or item.child_by_field_name("name")
            value = item.child_by_field_name("value")
            if name is not None and value is not None and value.type in _LITERALS:
                key = text_of(name)
                if key not in written:
                    fields[key] = None
        elif item.type == "method_definition" and text_of(item.child_by_field_name("name")) == "constructor":
            params = _params(item)
            block = item.child_by_field_name("body")
            for stmt in children(block) if block is not None else []:
                expr = children(stmt)[0] if stmt.type == "expression_statement" and children(stmt) else None
                if expr is None or expr.type != "assignment_expression":
                    continue
                path = access_path(expr.child_by_field_name("left")) or ""
                right = expr.child_by_field_name("right")
                if not path.startswith("this.") or path.count(".") != 1 or right is None:
                    continue
                key = path[len("this.") :]
                if written[key] > 1:  # another method (or a second write) changes it
                    fields.pop(key, None)
                elif right.type == "identifier" and text_of(right) in params:
                    fields[key] = params.index(text_of(right))
                elif right.type in _LITERALS:
                    fields[key] = None
                else:
                    fields.pop(key, None)
    return fields
