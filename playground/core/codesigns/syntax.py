"""Small helpers over the standard ``ast`` tree that every pass of the check shares."""

from __future__ import annotations

import ast

LOADERS = frozenset(
    {"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"}
)
NOT_LOADING = frozenset({"lazyload", "noload", "raiseload", "defaultload"})
SESSION_TYPES = frozenset({"AsyncSession", "async_scoped_session"})
ENGINE_TYPES = frozenset({"AsyncEngine", "AsyncConnection"})
ASYNC_DRIVERS = (
    "+asyncpg",
    "+aiosqlite",
    "+aiomysql",
    "+asyncmy",
    "+psycopg_async",
    "+aioodbc",
    "+aiopg",
)


def dotted(node: ast.AST | None) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def last_name(node: ast.AST | None) -> str | None:
    """The last component of a name or attribute (``c`` of ``a.b.c``), else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def call_name(node: ast.AST) -> str | None:
    """The last component of a call's callee (``execute`` of ``session.execute(...)``)."""
    return last_name(node.func) if isinstance(node, ast.Call) else None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of a keyword argument of ``call``, or None."""
    for item in call.keywords:
        if item.arg == name:
            return item.value
    return None


def constant(node: ast.AST | None) -> object:
    """The value of a literal constant, or the ``...`` sentinel when it is not one."""
    if isinstance(node, ast.Constant):
        return node.value
    return ...


def string_parts(node: ast.AST | None) -> str | None:
    """The literal text of a string or f-string (placeholders dropped), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        )
    return None


def is_async_url(text: str) -> bool:
    """True when a database URL names an asyncio driver (``postgresql+asyncpg://``)."""
    head = text.split("://", 1)[0].lower()
    return "://" in text and any(head.endswith(driver) for driver in ASYNC_DRIVERS)


def attr_name(node: ast.AST) -> str | None:
    """The attribute an option names: ``User.posts`` or ``"posts"`` gives ``posts``."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rsplit(".", 1)[-1]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in {"of_type", "and_"}:
            return attr_name(node.func.value)
    return None


def annotation_names(node: ast.AST | None) -> list[str]:
    """Every class name an annotation mentions (``list["Post"] | None`` gives ``Post``)."""
    found: list[str] = []
    if node is None:
        return found
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.append(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            try:
                inner = ast.parse(sub.value, mode="eval")
            except SyntaxError:
                continue
            found.extend(annotation_names(inner.body))
    return found


def body_without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    """A body with its leading docstring dropped."""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        return body[1:]
    return body
