"""Run the passes over parsed modules and turn what they find into ``Sign`` records."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

from .codes import BY_PITFALL
from .facts import Facts, collect, factory_flag, makes_async
from .flow import SESSION_NAMES, Context, FunctionFlow, Summary, summarize
from .syntax import (
    call_name,
    constant,
    is_async_url,
    keyword,
    last_name,
    string_parts,
)


@dataclass(frozen=True)
class Sign:
    """One sign of a pitfall in code, where it is, and how sure the check is of it."""

    code: str
    pitfall: str
    path: str
    line: int
    column: int
    message: str
    fix: str
    confidence: str
    strength: str
    switches: tuple[str, ...] = ()

    @property
    def command(self) -> str | None:
        """The live command that shows this pitfall (``playground --scenario NAME``)."""
        from .codes import live_command

        return live_command(self.pitfall, self.switches)


@dataclass(frozen=True)
class Module:
    """One parsed file: its path as shown, its tree and its source lines."""

    path: str
    tree: ast.Module
    source: str


Functions = ast.FunctionDef | ast.AsyncFunctionDef


def column_of(source_lines: list[str], line: int, offset: int) -> int:
    """ruff's 1-based column in characters from ast's 0-based byte offset."""
    if 1 <= line <= len(source_lines):
        text = source_lines[line - 1]
        return len(text.encode("utf-8")[:offset].decode("utf-8", errors="replace")) + 1
    return offset + 1


def make_sign(
    module: Module,
    lines: list[str],
    pitfall: str,
    node: ast.AST | tuple[int, int],
    message: str,
    confidence: str,
    strength: str = "finding",
    switches: tuple[str, ...] = (),
    fix: str | None = None,
) -> Sign:
    """A sign at ``node``, with its pitfall's code and fix (or ``fix`` when it is more exact)."""
    code = BY_PITFALL[pitfall]
    if isinstance(node, tuple):
        line, column = node
    else:
        line = getattr(node, "lineno", 1)
        column = column_of(lines, line, getattr(node, "col_offset", 0))
    return Sign(
        code.code,
        pitfall,
        module.path,
        line,
        column,
        message,
        fix or code.fix,
        confidence,
        strength,
        switches,
    )


def analyze(
    modules: list[Module],
    assume_default: bool = False,
    alembic_url: Callable[[str], str | None] | None = None,
) -> tuple[list[Sign], Facts]:
    """Every sign in these modules, read as one project."""
    facts = collect([(m.path, m.tree) for m in modules])
    summaries: dict[str, Summary | None] = {}
    ctx = Context(facts, summaries, assume_default)
    work: list[tuple[Module, Functions | None, list[ast.stmt], str | None]] = []
    for module in modules:
        top = [
            s
            for s in module.tree.body
            if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        work.append((module, None, top, None))
        for defined, owner in facts.module_functions.get(module.path, []):
            work.append((module, defined, defined.body, owner))
    # Round one: what each function returns, so callers can be followed in round two.
    for module, function, body, owner in work:
        if function is None or not _returns_value(function, facts):
            continue
        flow = FunctionFlow(ctx, function, body, owner, module.path)
        if not _run(flow):
            continue
        summary = summarize(flow)
        name = function.name
        if name in summaries and summaries[name] != summary:
            summaries[name] = None
        else:
            summaries[name] = summary
    signs: list[Sign] = []
    by_path = {m.path: m for m in modules}
    split: dict[str, list[str]] = {}
    for module, maybe_function, body, owner in work:
        flow = FunctionFlow(ctx, maybe_function, body, owner, module.path)
        if not _run(flow):
            continue
        for found in flow.found.values():
            strength = "finding" if found.confidence != "low" else "hint"
            where = by_path.get(found.path or module.path, module)
            if where.path not in split:
                split[where.path] = where.source.splitlines()
            lines = split[where.path]
            signs.append(
                make_sign(
                    where,
                    lines,
                    found.pitfall,
                    found.node,
                    found.message,
                    found.confidence,
                    strength,
                    found.switches,
                )
            )
    for module in modules:
        signs.extend(_module_signs(module, facts, alembic_url))
        signs.extend(_async_session_query(module))
        signs.extend(_sync_protocol(module, facts))
    expected: dict[str, list[tuple[int, int]]] = {}
    # One sign per place and code: several callers can lead to the same line of a callee.
    unique: dict[tuple[str, int, int, str], Sign] = {}
    for sign in signs:
        if sign.path not in expected:  # worked out only for files with a sign
            holder = by_path.get(sign.path)
            expected[sign.path] = _expected_failures(holder.tree) if holder else []
        if any(start <= sign.line <= end for start, end in expected[sign.path]):
            continue
        unique.setdefault((sign.path, sign.line, sign.column, sign.code), sign)
    return list(unique.values()), facts


_EXPECTS_FAILURE = re.compile(r"^(?:raises|assert_?[Rr]aises\w*|expect_raises\w*)$")
"""``pytest.raises``, unittest's ``assertRaises``, SQLAlchemy's ``expect_raises_message``."""


def _expected_failures(tree: ast.Module) -> list[tuple[int, int]]:
    """The lines of each ``with pytest.raises(...)`` block: a test that makes the mistake
    on purpose, to see it refused, is no finding."""
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
            isinstance(item.context_expr, ast.Call)
            and _EXPECTS_FAILURE.match(call_name(item.context_expr) or "")
            for item in node.items
        ):
            spans.append((node.lineno, node.end_lineno or node.lineno))
    return spans


def _run(flow: FunctionFlow) -> bool:
    """Follow one function; one nested too deeply for the recursion limit is left out."""
    try:
        flow.run()
    except RecursionError:
        return False
    return True


def _returns_value(function: Functions, facts: Facts) -> bool:
    return id(function) in facts.giving


def _module_signs(
    module: Module, facts: Facts, alembic_url: Callable[[str], str | None] | None
) -> list[Sign]:
    """Signs that need no flow: engines given async URLs, and the hints of each pitfall."""
    lines = module.source.splitlines()
    signs: list[Sign] = []
    constants: dict[str, str] = {}
    for statement in module.tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            text = string_parts(statement.value)
            target = last_name(statement.targets[0])
            if text is not None and target:
                constants[target] = text

    def sign(pitfall: str, node: ast.AST, message: str, confidence: str, strength: str) -> None:
        signs.append(make_sign(module, lines, pitfall, node, message, confidence, strength))

    is_env = module.path.replace("\\", "/").endswith("env.py")
    nodes: list[ast.AST] = [*facts.module_calls.get(module.path, [])]
    nodes += facts.module_reprs.get(module.path, [])
    for node in nodes:
        if isinstance(node, ast.Call):
            name = call_name(node)
            if name == "create_engine" and node.args:
                _engine_url(node, constants, facts, sign)
            elif name == "engine_from_config" and is_env and alembic_url is not None:
                url = alembic_url(module.path)
                if url is not None and is_async_url(url):
                    sign(
                        "async-driver-in-sync-engine",
                        node,
                        f"engine_from_config() builds a sync engine, but sqlalchemy.url in "
                        f"alembic.ini names an async driver ({_driver(url)})",
                        "medium",
                        "finding",
                    )
            elif name in ("async_sessionmaker", "sessionmaker"):
                flag = factory_flag(node)
                if flag is True:
                    sign(
                        "expired-after-commit",
                        node,
                        f"{name}(...) without expire_on_commit=False: every commit expires "
                        "the objects of its sessions",
                        "low",
                        "hint",
                    )
            elif name in ("relationship", "Relationship") and keyword(node, "lazy") is None:
                if keyword(node, "sa_relationship_kwargs") is None:
                    sign(
                        "lazy-relationship",
                        node,
                        "relationship() without lazy=: it loads lazily, which an async "
                        "session cannot do on attribute access",
                        "low",
                        "hint",
                    )
            elif name in ("Column", "mapped_column") and (
                keyword(node, "onupdate") is not None
                or keyword(node, "server_onupdate") is not None
            ):
                sign(
                    "server-default-onupdate",
                    node,
                    "column with onupdate=/server_onupdate=: its value is expired after "
                    "each UPDATE unless eager_defaults=True",
                    "low",
                    "hint",
                )
            elif name in ("deferred",) or (
                name in ("mapped_column", "column_property")
                and constant(keyword(node, "deferred")) is True
            ):
                sign(
                    "deferred-column",
                    node,
                    "deferred column: reading it without undefer() runs a SELECT",
                    "low",
                    "hint",
                )
            elif name in ("create_all", "drop_all") and not _inside_run_sync(node):
                sign(
                    "sync-api-on-async",
                    node,
                    f"{name}() called directly: on an async engine it must go through "
                    "conn.run_sync()",
                    "low",
                    "hint",
                )
            elif name == "gather":
                sign(
                    "concurrent-session-use",
                    node,
                    "asyncio.gather: tasks that share one session fail",
                    "low",
                    "hint",
                )
            elif name in ("ConfigDict", "dict") and constant(keyword(node, "from_attributes")):
                sign(
                    "serialization-lazy",
                    node,
                    "model_config from_attributes=True: the model reads ORM attributes, "
                    "which must be loaded",
                    "low",
                    "hint",
                )
        elif isinstance(node, ast.FunctionDef) and node.name in ("__repr__", "__str__"):
            reads = [
                s.attr
                for s in ast.walk(node)
                if isinstance(s, ast.Attribute)
                and isinstance(s.value, ast.Name)
                and s.value.id == "self"
                and not s.attr.startswith("_")
            ]
            if reads:
                sign(
                    "repr-or-logging",
                    node,
                    f"def {node.name} reads self.{reads[0]}: logging or formatting an "
                    "expired or unloaded object runs a query",
                    "low",
                    "hint",
                )
    return signs


def _names_async_session(annotation: ast.expr | None) -> bool:
    """True when a parameter's annotation mentions ``AsyncSession`` (also inside Annotated)."""
    if annotation is None:
        return False
    return any(
        (isinstance(n, ast.Name) and n.id == "AsyncSession")
        or (isinstance(n, ast.Attribute) and n.attr == "AsyncSession")
        for n in ast.walk(annotation)
    )


def _async_session_query(module: Module) -> list[Sign]:
    """``session.query(...)`` where ``session`` is annotated as an AsyncSession.

    AsyncSession has no legacy Query API: the call fails with AttributeError (or, awaited,
    with a coroutine error further on). A parameter annotated ``AsyncSession`` counts, and
    so does ``self.attr`` when a method of the class stores such a parameter there, or
    when the class takes one and ``attr`` is a usual name for a session.
    """
    lines = module.source.splitlines()
    signs: list[Sign] = []

    def parameters(function: Functions) -> set[str]:
        args = function.args
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        return {a.arg for a in every if _names_async_session(a.annotation)}

    def check(function: Functions, names: set[str], attributes: set[str]) -> None:
        for node in ast.walk(function):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "query"
            ):
                continue
            target = node.func.value
            held = (isinstance(target, ast.Name) and target.id in names) or (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and target.attr in attributes
            )
            if held:
                signs.append(
                    make_sign(
                        module,
                        lines,
                        "sync-api-on-async",
                        node,
                        f"{ast.unparse(target)} is an AsyncSession, which has no query(): "
                        "the legacy Query API is synchronous; use "
                        "await session.execute(select(...))",
                        "high",
                    )
                )

    in_classes: set[int] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ClassDef):
            attributes: set[str] = set()
            methods = [
                m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
            ]
            for method in methods:
                held = parameters(method)
                for statement in ast.walk(method):
                    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Name):
                        if statement.value.id not in held:
                            continue
                        for target in statement.targets:
                            if (
                                isinstance(target, ast.Attribute)
                                and isinstance(target.value, ast.Name)
                                and target.value.id == "self"
                            ):
                                attributes.add(target.attr)
                    elif isinstance(statement, ast.AnnAssign) and _names_async_session(
                        statement.annotation
                    ):
                        target = statement.target
                        if isinstance(target, ast.Attribute) and last_name(target.value) == "self":
                            attributes.add(target.attr)
            if any(parameters(method) for method in methods):
                # Handed to a base class (super().__init__(db)): its usual names still hold it.
                attributes |= SESSION_NAMES
            for method in methods:
                in_classes.add(id(method))
                check(method, parameters(method), attributes)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = parameters(node)
            if names and id(node) not in in_classes:
                check(node, names, set())
    return signs


_SYNC_MAKERS = ("sessionmaker", "scoped_session", "Session", "create_engine", "engine_from_config")
_ASYNC_STREAMS = ("stream", "stream_scalars")


def _assigned_otherwise(tree: ast.Module, facts: Facts) -> dict[int, set[str]]:
    """For each ``with`` inside a function, the names that function binds to something
    not made async in it (a parameter, ``config.get(...)``): what such a name holds there
    is not known from the project's other uses of the name."""
    found: dict[int, set[str]] = {}
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = function.args
        names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
        for node in ast.walk(function):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                if not makes_async(node.value, facts):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names.update(filter(None, (last_name(t) for t in targets)))
        names.discard("self")
        for node in ast.walk(function):
            if isinstance(node, ast.With):
                found.setdefault(id(node), set()).update(names)
    return found


def _sync_protocol(module: Module, facts: Facts) -> list[Sign]:
    """A plain ``with`` on an AsyncSession or an async engine's connection, a plain ``for``
    over an async stream: Python refuses both with a TypeError, whatever the data.

    Only what the project shows to be async counts: ``AsyncSession(...)``, a call of an
    async session factory, ``.connect()``/``.begin()`` of an engine made by
    ``create_async_engine``; a name this file also makes synchronous is left alone.
    """
    nodes = [
        node
        for node in ast.walk(module.tree)
        if isinstance(node, (ast.With, ast.For, ast.Assign, ast.AnnAssign))
    ]
    if not any(isinstance(node, (ast.With, ast.For)) for node in nodes):
        return []
    lines = module.source.splitlines()
    local_sync = {
        last_name(target)
        for node in nodes
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        and node.value is not None
        and call_name(node.value) in _SYNC_MAKERS
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
    }
    signs: list[Sign] = []
    unknown: dict[int, set[str]] | None = None
    for node in nodes:
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if not isinstance(call, ast.Call):
                    continue
                callee = last_name(call.func)
                owner = last_name(call.func.value) if isinstance(call.func, ast.Attribute) else None
                if callee == "AsyncSession" or (
                    callee in facts.factories
                    and callee not in local_sync
                    and callee not in facts.sync_factories
                ):
                    what = f"{ast.unparse(call)} makes an AsyncSession"
                    fix = f"async with {ast.unparse(call)} as session: ..."
                elif (
                    callee in ("connect", "begin")
                    and owner in facts.async_engines
                    and owner not in facts.sync_engines
                    and owner not in local_sync
                ):
                    what = f"{owner} is an AsyncEngine"
                    fix = f"async with {ast.unparse(call)} as conn: ..."
                else:
                    continue
                if unknown is None:  # rare: worked out for the first candidate only
                    unknown = _assigned_otherwise(module.tree, facts)
                if {callee, owner} & unknown.get(id(node), set()):
                    continue
                signs.append(
                    make_sign(
                        module,
                        lines,
                        "sync-api-on-async",
                        call,
                        f"a plain with, but {what}: it is entered with async with",
                        "high",
                        fix=fix,
                    )
                )
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Await):
            stream = node.iter.value
            if call_name(stream) in _ASYNC_STREAMS and isinstance(stream, ast.Call):
                signs.append(
                    make_sign(
                        module,
                        lines,
                        "sync-api-on-async",
                        node.iter,
                        f"a plain for over await {ast.unparse(stream)}, an async result: "
                        "it is iterated with async for",
                        "high",
                        fix="async for row in await session.stream(stmt): ...",
                    )
                )
    return signs


def _inside_run_sync(node: ast.Call) -> bool:
    return False


def _driver(url: str) -> str:
    head = url.split("://", 1)[0]
    return head.split("+", 1)[-1] if "+" in head else head


def _engine_url(
    node: ast.Call,
    constants: dict[str, str],
    facts: Facts,
    sign: Callable[[str, ast.AST, str, str, str], None],
) -> None:
    first = node.args[0]
    text = string_parts(first)
    if text is None and isinstance(first, ast.Name):
        text = constants.get(first.id)
    if text is not None:
        if is_async_url(text):
            sign(
                "async-driver-in-sync-engine",
                node,
                f"create_engine() builds a sync engine, but the URL names the async driver "
                f"{_driver(text)}; it fails at the first connect",
                "high",
                "finding",
            )
        return
    # A name or attribute: the literal strings the project gives that name. Only when every
    # one of them names an async driver is it flagged (psycopg URLs serve both kinds).
    name = last_name(first)
    values = facts.string_constants.get(name or "", [])
    if values and all(is_async_url(v) for v in values):
        where, _ = facts.async_url_texts.get(ast.unparse(first), ("", 0))
        sign(
            "async-driver-in-sync-engine",
            node,
            f"create_engine({ast.unparse(first)}) builds a sync engine, but {name} is "
            f"a URL for the async driver {_driver(values[0])} in this project"
            + (f" (the one {where} gives create_async_engine)" if where else ""),
            "high" if len(values) == 1 else "medium",
            "finding",
        )
