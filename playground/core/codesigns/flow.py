"""Follow one function's statements in order and find the reads that would do IO.

The state is what each local name holds (an ORM object and what of it is loaded, a
statement and its loader options, a result, a session and whether its factory expires
on commit), changed by awaited session calls: commit, rollback, flush, refresh, the end
of an ``async with`` session block. Branches are followed separately and joined (a value
expired on one path is expired after the join); a loop body is followed twice so a
commit at the end of one turn meets the reads at the start of the next.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from .facts import Facts, MappedClass, factory_flag, makes_async
from .syntax import (
    ENGINE_TYPES,
    LOADERS,
    NOT_LOADING,
    SESSION_TYPES,
    annotation_names,
    attr_name,
    call_name,
    constant,
    dotted,
    keyword,
    last_name,
)

Path = tuple[str, ...]
SKIP_ATTRS = frozenset(
    {
        "awaitable_attrs",
        "__class__",
        "__dict__",
        "__table__",
        "__tablename__",
        "__mapper__",
        "_sa_instance_state",
        "metadata",
        "registry",
    }
)
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical"})
ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "api_route"})
SESSION_NAMES = frozenset({"session", "db", "db_session", "async_session", "sess", "dbsession"})
SESSION_METHODS = frozenset(
    {
        "commit",
        "rollback",
        "flush",
        "refresh",
        "close",
        "add",
        "add_all",
        "get",
        "get_one",
        "execute",
        "scalar",
        "scalars",
        "merge",
        "expire",
        "expire_all",
        "expunge",
        "begin",
        "run_sync",
        "delete",
        "begin_nested",
    }
)
MUTATORS = frozenset({"append", "extend", "remove", "add", "clear", "pop", "insert", "discard"})
SYNC_API = frozenset(
    {"create_all", "drop_all", "reflect", "create", "drop", "inspect", "get_table_names"}
)


@dataclass(frozen=True)
class Found:
    """A sign found in a function, before it is given a path and a code."""

    pitfall: str
    node: ast.AST
    message: str
    confidence: str
    switches: tuple[str, ...] = ()
    path: str | None = None
    """The file of ``node`` when it is not the function's own (a task's session call)."""


@dataclass
class Obj:
    """An ORM object: its class, its session, and what of it is loaded now."""

    cls: str | None
    session: str | None
    origin: str
    """``new``, ``loaded`` (a statement we saw), ``param``, ``returned`` or ``unknown``."""
    persistent: bool = True
    paths: set[Path] = field(default_factory=set)
    all_loaded: bool = False
    undeferred: set[str] | None = field(default_factory=set)
    load_only: set[str] | None = None
    expired: tuple[str, int, str] | None = None
    """(``commit`` | ``rollback`` | ``expire``, line, confidence)."""
    detached: int | None = None
    modified: bool = False
    stale: set[str] = field(default_factory=set)
    stale_line: int = 0
    reported: bool = False
    fresh: set[str] = field(default_factory=set)
    """Attributes a refresh loaded again after the object expired."""
    label: str | None = None
    """The first local name it was bound to, for messages."""
    savepoint: int = 0
    """The SAVEPOINT depth at which it was last changed (0: none open)."""
    pending: bool = False
    """Made in the current transaction and not yet committed (a rollback expunges it)."""
    created: bool = False
    """Made by calling the mapped class here or in a function that returned it."""

    def copy(self) -> Obj:
        return replace(
            self,
            paths=set(self.paths),
            fresh=set(self.fresh),
            undeferred=None if self.undeferred is None else set(self.undeferred),
            stale=set(self.stale),
        )


@dataclass
class Many:
    """A list of ORM objects (or a ScalarResult); its elements share one state."""

    elem: Obj


@dataclass
class Stmt:
    """A ``select(Class)`` and the loader options on it."""

    cls: str | None
    paths: set[Path] = field(default_factory=set)
    all_loaded: bool = False
    undeferred: set[str] | None = field(default_factory=set)
    load_only: set[str] | None = None
    param: int | None = None
    """When the statement is a helper's parameter: its position (helper adds options)."""


@dataclass
class Res:
    stmt: Stmt
    scalars: bool
    session: str | None


@dataclass
class Sess:
    key: str
    expires: bool | None
    closes: bool = False
    commits: bool = False
    """``Session.begin()``: the block commits when it ends, then closes."""


@dataclass
class Holder:
    """An object built with a session (a repository, a service, a unit of work)."""

    session: str | None


@dataclass
class Engine:
    is_async: bool


@dataclass
class Factory:
    expires: bool | None


@dataclass
class Lit:
    items: list[Obj]


@dataclass
class Later:
    """``obj.awaitable_attrs`` or ``obj.awaitable_attrs.name`` before its await."""

    obj: Obj
    attr: str | None


@dataclass
class Begin:
    session: str


@dataclass
class Nested:
    """A SAVEPOINT from ``begin_nested()``: its rollback expires only what changed inside."""

    session: str
    depth: int


@dataclass
class Other:
    """A value known not to be SQLAlchemy's: another library's session or client."""


_BEFORE = "<a session opened before>"
"""The session of objects that were at hand before the function opened its own."""


_ANY_TYPE = frozenset({"Any", "object", "Optional", "Union", "None", "Annotated", "typing"})
"""Annotation names that say nothing about which class a parameter holds."""


Value = (
    Obj
    | Many
    | Stmt
    | Res
    | Sess
    | Holder
    | Engine
    | Factory
    | Lit
    | Later
    | Begin
    | Nested
    | Other
    | None
)


@dataclass
class Summary:
    """What a function hands its callers: an object, a list, or a statement."""

    value: Value
    session_param: bool = False
    effects: tuple[tuple[str, int | str], ...] = ()
    """Session events the function leaves behind on its normal returns: (``commit`` or
    ``rollback``, the parameter position or name that brought the session, or ``self``)."""
    params: tuple[str, ...] = ()


@dataclass
class Context:
    facts: Facts
    summaries: dict[str, Summary | None]
    assume_default: bool
    """Take SQLAlchemy's default (expire_on_commit=True) when no factory is seen (pastes)."""


class State:
    """What each name holds at one point of a function."""

    def __init__(self) -> None:
        self.names: dict[str, Value] = {}
        self.ended = False
        self.effects: set[tuple[str, str]] = set()
        """(``commit`` | ``rollback``, session key) that happened on some way here."""
        self.certain: set[tuple[str, str]] = set()
        """Those that happened on every way here."""

    def clone(self) -> State:
        memo: dict[int, object] = {}
        other = State()
        other.ended = self.ended
        other.effects = set(self.effects)
        other.certain = set(self.certain)
        for name, value in self.names.items():
            other.names[name] = _clone(value, memo)
        return other

    def objects(self) -> Iterator[Obj]:
        seen: set[int] = set()
        for value in self.names.values():
            for obj in _objs(value):
                if id(obj) not in seen:
                    seen.add(id(obj))
                    yield obj


def _objs(value: Value) -> Iterator[Obj]:
    if isinstance(value, Obj):
        yield value
    elif isinstance(value, Many):
        yield value.elem
    elif isinstance(value, Lit):
        yield from value.items


def _clone(value: Value, memo: dict[int, object]) -> Value:
    if id(value) in memo:
        return memo[id(value)]  # type: ignore[return-value]
    copied: Value
    if isinstance(value, Obj):
        copied = value.copy()
    elif isinstance(value, Many):
        copied = Many(_clone(value.elem, memo))  # type: ignore[arg-type]
    elif isinstance(value, Lit):
        copied = Lit([_clone(i, memo) for i in value.items])  # type: ignore[misc]
    else:
        copied = value
    memo[id(value)] = copied
    return copied


def _merge_obj(a: Obj, b: Obj) -> Obj:
    merged = a.copy()
    merged.expired = a.expired or b.expired
    # What a refresh loaded again stays loaded where the other path never expired it.
    if a.expired and b.expired:
        merged.fresh = a.fresh & b.fresh
    else:
        merged.fresh = set(a.fresh if a.expired else b.fresh)
    merged.detached = a.detached or b.detached
    merged.paths = a.paths & b.paths
    merged.all_loaded = a.all_loaded and b.all_loaded
    merged.stale = a.stale | b.stale
    merged.reported = a.reported or b.reported
    merged.modified = a.modified or b.modified
    merged.pending = a.pending or b.pending
    return merged


def join(states: list[State]) -> State:
    """The state after branches: a value expired or detached on any path stays so."""
    live = [s for s in states if not s.ended]
    if not live:
        result = states[0].clone() if states else State()
        result.ended = True
        return result
    if len(live) == 1:
        return live[0]
    result = State()
    for state in live:
        result.effects |= state.effects
    result.certain = set.intersection(*(state.certain for state in live))
    names = set(live[0].names)
    for state in live[1:]:
        names &= set(state.names)
    memo: dict[tuple[int, ...], Obj] = {}
    for name in names:
        values = [s.names[name] for s in live]
        first = values[0]
        if all(isinstance(v, Obj) for v in values):
            key = tuple(id(v) for v in values)
            if key not in memo:
                merged = values[0]
                for other in values[1:]:
                    merged = _merge_obj(merged, other)  # type: ignore[arg-type]
                memo[key] = merged  # type: ignore[assignment]
            result.names[name] = memo[key]
        elif all(isinstance(v, Many) for v in values):
            elems = [v.elem for v in values]  # type: ignore[union-attr]
            merged_elem = elems[0]
            for other in elems[1:]:
                merged_elem = _merge_obj(merged_elem, other)
            result.names[name] = Many(merged_elem)
        else:
            result.names[name] = first
    return result


class FunctionFlow:
    """Follows one function body; ``found`` holds its signs, ``returned`` what it returns."""

    def __init__(
        self,
        ctx: Context,
        function: ast.FunctionDef | ast.AsyncFunctionDef | None,
        body: list[ast.stmt],
        owner_class: str | None = None,
        path: str = "",
    ) -> None:
        self.ctx = ctx
        self.path = path
        self.self_attrs = ctx.facts.class_attrs.get(owner_class or "", {})
        self.facts = ctx.facts
        self.function = function
        self.body = body
        self.found: dict[tuple[int, int, str], Found] = {}
        self.returned: list[Value] = []
        self.route: ast.Call | None = None
        self.schema = self._route_schema()
        self.session_params: set[str] = set()
        self.foreign = ctx.facts.foreign.get(path, set())
        self.loop_depth = 0
        self.open_blocks: list[tuple[list[str], list[str]]] = []
        self.handler_mode = 0
        self.savepoints = 0
        self.exits: list[set[tuple[str, str]]] = []
        """The session events behind each normal way out of the function."""
        self.certain_exits: list[set[tuple[str, str]]] = []
        """Inside a try body followed for its handlers: the commit there is the one that failed."""

    # -- entry -------------------------------------------------------------------------
    def run(self) -> None:
        state = State()
        if self.function is not None:
            self._bind_params(state, self.function)
        state = self._block(self.body, state)
        if not state.ended:
            self.exits.append(set(state.effects))
            self.certain_exits.append(set(state.certain))

    def _bind_params(self, state: State, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = function.args
        every = args.posonlyargs + args.args + args.kwonlyargs
        defaults: dict[str, ast.expr] = {}
        positional = args.posonlyargs + args.args
        for arg, default in zip(
            positional[len(positional) - len(args.defaults) :], args.defaults, strict=False
        ):
            defaults[arg.arg] = default
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if kw_default is not None:
                defaults[arg.arg] = kw_default
        for index, arg in enumerate(every):
            names = annotation_names(arg.annotation)
            dependency = self._dependency(defaults.get(arg.arg), names)
            if set(names) & {"async_sessionmaker", "sessionmaker"}:
                state.names[arg.arg] = Factory(None)
            elif dependency is not ... or set(names) & SESSION_TYPES:
                expires = dependency if dependency is not ... else None
                state.names[arg.arg] = Sess(arg.arg, expires)  # type: ignore[arg-type]
                self.session_params.add(arg.arg)
            elif set(names) & {"Engine", "Connection"}:
                # A sync engine, or ``Engine | AsyncEngine`` (either): no sign may assume
                # the async one, whatever other code calls a value of that name.
                state.names[arg.arg] = Engine(False)
            elif set(names) & ENGINE_TYPES:
                state.names[arg.arg] = Engine(True)
            elif arg.arg in self.facts.async_engines and set(names) - _ANY_TYPE:
                # ``engine: PGEngine``: a class of its own that only shares the name
                # another function gives an AsyncEngine.
                state.names[arg.arg] = Other()
            elif self._depends_value(arg, defaults.get(arg.arg), state):
                pass
            elif arg.arg in self.facts.fixtures and self._takes_fixtures(function):
                # pytest hands the test what the fixture of that name returned or yielded.
                summary = self.ctx.summaries.get(arg.arg)
                if summary is not None and not isinstance(summary.value, Stmt):
                    # Its session is the fixture's own, not one this test commits or rolls back.
                    state.names[arg.arg] = self._instantiate(summary.value, "<fixture>", state)
            else:
                mapped = [n for n in names if n in self.facts.mapped]
                if mapped and not any(n in ("list", "List", "Sequence") for n in names):
                    state.names[arg.arg] = Obj(mapped[0], None, "param")
                elif names == ["Select"] or names[:1] == ["Select"]:
                    state.names[arg.arg] = Stmt(None, param=index)
                elif arg.arg in ("stmt", "statement", "query") and not names:
                    state.names[arg.arg] = Stmt(None, param=index)

    def _depends_value(self, arg: ast.arg, default: ast.expr | None, state: State) -> bool:
        """A FastAPI parameter ``Depends(current_user)``: it receives what that function returns."""
        calls: list[ast.expr] = [default] if default is not None else []
        annotation = arg.annotation
        if (
            isinstance(annotation, ast.Subscript)
            and last_name(annotation.value) == "Annotated"
            and isinstance(annotation.slice, ast.Tuple)
        ):
            calls += annotation.slice.elts[1:]
        for call in calls:
            if isinstance(call, ast.Call) and call_name(call) == "Depends" and call.args:
                summary = self.ctx.summaries.get(last_name(call.args[0]) or "")
                if summary is not None and isinstance(summary.value, (Obj, Many)):
                    state.names[arg.arg] = self._instantiate(summary.value, None, state)
                    return True
        return False

    def _takes_fixtures(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        return function.name.startswith("test") or function.name in self.facts.fixtures

    def _e_Yield(self, node: ast.Yield, state: State) -> Value:
        value = self._eval(node.value, state)
        if self.function is not None and self.function.name in self.facts.fixtures:
            self.returned.append(value)
        return None

    def _dependency(self, default: ast.expr | None, names: list[str]) -> bool | None | object:
        """expire_on_commit of the session a ``Depends(get_session)`` parameter receives."""
        candidates: list[str] = []
        if isinstance(default, ast.Call) and call_name(default) == "Depends" and default.args:
            candidates.append(last_name(default.args[0]) or "")
        for name in names:
            if name in self.facts.dependency_aliases:
                candidates.append(self.facts.dependency_aliases[name])
            if name == "Depends":
                pass
        for name in candidates:
            if name in self.facts.session_dependencies:
                return self.facts.session_dependencies[name]
        return ...

    def _route_schema(self) -> tuple[str, bool] | None:
        """The pydantic model a FastAPI route's response is validated against (and if a list)."""
        function = self.function
        if function is None:
            return None
        for decorator in function.decorator_list:
            if isinstance(decorator, ast.Call) and call_name(decorator) in ROUTE_METHODS:
                self.route = decorator
                model = keyword(decorator, "response_model")
                if model is not None:
                    return self._schema_of(model)
                if function.returns is not None:
                    return self._schema_of(function.returns)
        return None

    def _schema_of(self, node: ast.expr) -> tuple[str, bool] | None:
        names = annotation_names(node)
        many = any(n in ("list", "List", "Sequence") for n in names)
        for name in names:
            if name in self.facts.schemas:
                return name, many
        return None

    # -- signs ------------------------------------------------------------------------
    def _sign(
        self,
        pitfall: str,
        node: ast.AST,
        message: str,
        confidence: str,
        switches: tuple[str, ...] = (),
        path: str | None = None,
    ) -> None:
        key = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0), pitfall)
        if key not in self.found:
            self.found[key] = Found(pitfall, node, message, confidence, switches, path)

    def _expires(self, session: Sess | None) -> tuple[bool, str]:
        """Whether a commit on this session expires, and how sure that is."""
        if session is not None and session.expires is not None:
            return session.expires, "high"
        default = self.facts.default_expire()
        if default is not None:
            return default, "medium"
        if self.ctx.assume_default and not self.facts.expire_flags:
            return True, "medium"
        return False, "low"

    # -- statements --------------------------------------------------------------------
    def _block(self, body: list[ast.stmt], state: State) -> State:
        for statement in body:
            if state.ended:
                break
            state = self._statement(statement, state)
        return state

    def _statement(self, node: ast.stmt, state: State) -> State:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return state
        if isinstance(node, ast.Expr):
            self._eval(node.value, state)
        elif isinstance(node, ast.Assign):
            value = self._eval(node.value, state)
            if value is None and isinstance(node.value, ast.Call):
                value = self._made_otherwise(node.value, node.targets)
            for target in node.targets:
                self._bind(target, value, state)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self._bind(node.target, self._eval(node.value, state), state)
        elif isinstance(node, ast.AugAssign):
            self._eval(node.value, state)
            if isinstance(node.target, ast.Attribute):
                owner = self._eval(node.target.value, state)
                if isinstance(owner, Obj):
                    self._read(owner, node.target.attr, node.target, state)
                    self._changed(owner)
        elif isinstance(node, ast.Return):
            value = self._eval(node.value, state) if node.value is not None else None
            self._returning(node, value, state)
            state.ended = True
        elif isinstance(node, ast.Raise):
            if node.exc is not None:
                self._eval(node.exc, state)
            state.ended = True
        elif isinstance(node, (ast.Continue, ast.Break)):
            state.ended = True
        elif isinstance(node, ast.If):
            self._eval(node.test, state)
            yes = self._block(node.body, state.clone())
            no = self._block(node.orelse, state.clone())
            return join([yes, no])
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            return self._loop(node, state)
        elif isinstance(node, ast.While):
            self._eval(node.test, state)
            return self._loop(node, state)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            return self._with(node, state)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            return self._try(node, state)  # type: ignore[arg-type]
        elif type(node).__name__ == "Match":
            self._eval(node.subject, state)  # type: ignore[attr-defined]
            branches = [
                self._block(case.body, state.clone())
                for case in node.cases  # type: ignore[attr-defined]
            ]
            return join([*branches, state])
        elif isinstance(node, ast.Delete):
            pass
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self._eval(child, state)
        return state

    def _loop(self, node: ast.For | ast.AsyncFor | ast.While, state: State) -> State:
        if isinstance(node, (ast.For, ast.AsyncFor)):
            iterated = self._eval(node.iter, state)
        before = state.clone()
        current = state
        self.loop_depth += 1
        for _ in range(2):
            if isinstance(node, (ast.For, ast.AsyncFor)):
                self._bind(node.target, self._element(iterated), current)
            after = self._block(node.body, current)
            after.ended = False
            current = join([after, before.clone()]) if _ == 0 else after
        self.loop_depth -= 1
        current = join([current, before])
        return self._block(node.orelse, current)

    def _with(self, node: ast.With | ast.AsyncWith, state: State) -> State:
        closing: list[str] = []
        begins: list[str] = []
        savepoints: list[Nested] = []
        for item in node.items:
            value = self._eval(item.context_expr, state)
            if isinstance(value, Nested):
                savepoints.append(value)
            if isinstance(value, Begin):
                begins.append(value.session)
                value = None
            if isinstance(value, Sess) and isinstance(node, ast.AsyncWith):
                if isinstance(item.optional_vars, ast.Name):
                    value = Sess(item.optional_vars.id, value.expires, value.closes, value.commits)
                if value.closes:
                    self._opened(state)
                if value.commits:
                    begins.append(value.key)
                if value.closes:
                    closing.append(value.key)
            if (
                value is None
                and isinstance(node, ast.AsyncWith)
                and isinstance(item.context_expr, ast.Call)
                and isinstance(item.optional_vars, ast.Name)
                and _session_like(item.optional_vars.id)
                and not self._enters_as_other(item.context_expr)
            ):
                # ``async with get_session() as session``: a session that closes here.
                value = Sess(item.optional_vars.id, None, True)
                self._opened(state)
                closing.append(value.key)
            if item.optional_vars is not None:
                self._bind(item.optional_vars, value, state)
        self.open_blocks.append((begins, closing))
        after = self._block(node.body, state)
        self.open_blocks.pop()
        if self.handler_mode:
            # On the path where the body raised, ``begin_nested()`` rolls its SAVEPOINT back.
            for savepoint in savepoints:
                self._rollback(savepoint.session, node, after, savepoint=savepoint.depth)
        if after.ended:
            return after
        self._leave(begins, closing, node, after)
        return after

    def _opened(self, state: State) -> None:
        """A session opened here holds none of the objects already at hand (a parameter,
        what an earlier session loaded) until they are added to it: its commit and
        rollback do not reach them."""
        for obj in state.objects():
            if obj.session is None:
                obj.session = _BEFORE

    def _leave(
        self,
        begins: list[str],
        closing: list[str],
        node: ast.AST,
        state: State,
        extra: Value = None,
    ) -> None:
        """The end of ``async with``: ``begin()`` blocks commit, session blocks close."""
        if extra is not None:
            state = state.clone()
            state.names["<returned>"] = extra
        for key in begins:
            self._commit(key, node, state, at_end=True)
        for key in closing:
            for obj in state.objects():
                if obj.session == key and obj.detached is None:
                    obj.detached = getattr(node, "end_lineno", None) or getattr(node, "lineno", 0)

    def _try(self, node: ast.Try, state: State) -> State:
        start = state.clone()
        body = self._block(node.body, state)
        handlers: list[State] = []
        if node.handlers:
            # The handlers start where the body failed: its commit did not happen.
            self.handler_mode += 1
            failed = self._block(node.body, start.clone())
            self.handler_mode -= 1
            failed.ended = False
            for handler in node.handlers:
                entry = failed.clone()
                if handler.name:
                    entry.names.pop(handler.name, None)
                handlers.append(self._block(handler.body, entry))
        if not body.ended:
            body = self._block(node.orelse, body)
        after = join([body, *handlers])
        if node.finalbody:
            ended = after.ended
            after.ended = False
            after = self._block(node.finalbody, after)
            after.ended = after.ended or ended
        return after

    def _element(self, value: Value) -> Value:
        if isinstance(value, Many):
            return value.elem
        if isinstance(value, Lit) and value.items:
            return value.items[0]
        if isinstance(value, Res) and value.scalars:
            return self._obj_from(value.stmt, value.session)
        return None

    def _bind(self, target: ast.expr, value: Value, state: State) -> None:
        if isinstance(target, ast.Name):
            if isinstance(value, Sess) and value.key == "?":
                value = Sess(target.id, value.expires, value.closes)
            if isinstance(value, Obj) and value.label is None:
                value.label = target.id
            elif isinstance(value, Many) and value.elem.label is None:
                value.elem.label = f"{target.id}[...]"
            if value is None:
                state.names.pop(target.id, None)
            else:
                state.names[target.id] = value
        elif isinstance(target, ast.Attribute):
            owner = self._eval(target.value, state)
            if isinstance(owner, Obj):
                self._assign_attr(owner, target.attr)
            else:
                key = dotted(target)
                if key is not None:
                    if value is None:
                        state.names.pop(key, None)
                    else:
                        state.names[key] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = value.items if isinstance(value, Lit) else []
            for index, element in enumerate(target.elts):
                if len(items) == len(target.elts):
                    self._bind(element, items[index], state)
                elif isinstance(value, Many) and not isinstance(element, ast.Starred):
                    self._bind(element, value.elem, state)
                else:
                    self._bind(element, None, state)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, None, state)
        else:
            self._eval(target, state)

    def _assign_attr(self, obj: Obj, attr: str) -> None:
        info = self.facts.mapped_class(obj.cls, self.path)
        if info is not None and attr in info.relationships:
            obj.paths.add((attr,))
            obj.savepoint = self.savepoints
        else:
            self._changed(obj)

    # -- expressions -------------------------------------------------------------------
    def _eval(self, node: ast.expr | None, state: State) -> Value:
        if node is None:
            return None
        method = getattr(self, "_e_" + type(node).__name__, None)
        if method is not None:
            result: Value = method(node, state)
            return result
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self._eval(child, state)
        return None

    def _e_Name(self, node: ast.Name, state: State) -> Value:
        value = state.names.get(node.id)
        if value is None:
            if node.id in self.facts.factories:
                return Factory(self.facts.factories[node.id])
            if node.id in self.facts.async_engines and node.id not in self.facts.sync_engines:
                return Engine(True)
        return value

    def _e_Lambda(self, node: ast.Lambda, state: State) -> Value:
        return None

    def _e_Await(self, node: ast.Await, state: State) -> Value:
        inner = node.value
        if isinstance(inner, ast.Call):
            return self._call(inner, state, awaited=True)
        value = self._eval(inner, state)
        if isinstance(value, Later):
            self._loaded_later(value)
        return value

    def _loaded_later(self, later: Later) -> None:
        obj = later.obj
        obj.expired = None
        obj.detached = obj.detached
        if later.attr is not None:
            obj.paths.add((later.attr,))
            if obj.undeferred is not None:
                obj.undeferred.add(later.attr)
            obj.stale.discard(later.attr)

    def _e_Attribute(self, node: ast.Attribute, state: State) -> Value:
        if isinstance(node.ctx, ast.Store):
            return None
        owner = self._eval(node.value, state)
        if isinstance(owner, Later) and owner.attr is None:
            return Later(owner.obj, node.attr)
        if isinstance(owner, Obj):
            if node.attr == "awaitable_attrs":
                return Later(owner, None)
            return self._read(owner, node.attr, node, state)
        if owner is None:
            key = dotted(node)
            if key is not None and key in state.names:
                return state.names[key]
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                names = set(self.self_attrs.get(node.attr, ()))
                if names & {"async_sessionmaker", "sessionmaker"}:
                    return Factory(self.facts.factories.get(node.attr))
                if names & SESSION_TYPES:
                    return Sess(key or node.attr, None)
                if names & ENGINE_TYPES:
                    return Engine(True)
            if key is not None and node.attr in self.facts.factories:
                return Factory(self.facts.factories[node.attr])
            if node.attr in self.facts.async_engines and node.attr not in self.facts.sync_engines:
                return Engine(True)
        return None

    def _e_Subscript(self, node: ast.Subscript, state: State) -> Value:
        owner = self._eval(node.value, state)
        self._eval(node.slice, state)
        if isinstance(owner, (Many, Lit)) and not isinstance(node.slice, ast.Slice):
            return self._element(owner)
        if isinstance(owner, (Many, Lit)):
            return owner
        return None

    def _e_NamedExpr(self, node: ast.NamedExpr, state: State) -> Value:
        value = self._eval(node.value, state)
        self._bind(node.target, value, state)
        return value

    def _e_List(self, node: ast.List | ast.Tuple, state: State) -> Value:
        items: list[Obj] = []
        for element in node.elts:
            value = self._eval(element, state)
            if isinstance(value, Obj):
                items.append(value)
        return Lit(items) if items and len(items) == len(node.elts) else None

    _e_Tuple = _e_List

    def _e_JoinedStr(self, node: ast.JoinedStr, state: State) -> Value:
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                value = self._eval(part.value, state)
                if isinstance(value, Obj):
                    self._formatted(value, part, state)
                if part.format_spec is not None:
                    self._eval(part.format_spec, state)
        return None

    def _e_BinOp(self, node: ast.BinOp, state: State) -> Value:
        left = self._eval(node.left, state)
        right = self._eval(node.right, state)
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            values = right.items if isinstance(right, Lit) else [right]
            for value in values:
                if isinstance(value, Obj):
                    self._formatted(value, node, state)
        del left
        return None

    def _comprehension(self, node: ast.expr, state: State, parts: list[ast.expr]) -> Value:
        inner = State()
        inner.names = dict(state.names)
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        last: Value = None
        for generator in generators:
            iterated = self._eval(generator.iter, inner)
            self._bind(generator.target, self._element(iterated), inner)
            for condition in generator.ifs:
                self._eval(condition, inner)
        self.loop_depth += 1
        for part in parts:
            last = self._eval(part, inner)
        self.loop_depth -= 1
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.DictComp)) and isinstance(
            last, Obj
        ):
            return Many(last)
        return None

    def _e_ListComp(self, node: ast.ListComp, state: State) -> Value:
        return self._comprehension(node, state, [node.elt])

    def _e_SetComp(self, node: ast.SetComp, state: State) -> Value:
        return self._comprehension(node, state, [node.elt])

    def _e_GeneratorExp(self, node: ast.GeneratorExp, state: State) -> Value:
        return self._comprehension(node, state, [node.elt])

    def _e_DictComp(self, node: ast.DictComp, state: State) -> Value:
        return self._comprehension(node, state, [node.key, node.value])

    def _e_Call(self, node: ast.Call, state: State) -> Value:
        return self._call(node, state, awaited=False)

    # -- reads ------------------------------------------------------------------------
    def _read(self, obj: Obj, attr: str, node: ast.AST, state: State) -> Value:
        """Reading ``obj.attr``: a sign when it would load, and the value it gives."""
        info = self.facts.mapped_class(obj.cls, self.path)
        if attr in SKIP_ATTRS or attr.startswith("__"):
            return None
        if info is not None and attr not in info.attributes():
            return None
        if info is None and obj.cls is not None and obj.cls in self.facts.schemas:
            return None
        why = self._unloaded(obj, attr, info)
        if why is not None and not obj.reported:
            pitfall, message, confidence = why
            owner = _show(obj)
            if isinstance(node, ast.Attribute):
                written = ast.unparse(node.value)
                owner = written if len(written) <= 60 else owner
            self._sign(pitfall, node, message.format(what=f"{owner}.{attr}"), confidence)
            obj.reported = True
        if info is not None and attr in info.relationships:
            relation = info.relationships[attr]
            obj.paths.add((attr,))
            child = self._child(obj, attr, relation.target)
            if child is not None and _is_collection(info, attr):
                return Many(child)
            return child
        return None

    def _child(self, obj: Obj, attr: str, target: str | None) -> Obj | None:
        if target is None:
            return None
        child = Obj(target, obj.session, obj.origin, label=f"{_show(obj)}.{attr}")
        child.paths = {p[1:] for p in obj.paths if len(p) > 1 and p[0] == attr}
        child.all_loaded = obj.all_loaded
        child.undeferred = None
        child.expired = obj.expired
        child.detached = obj.detached
        child.reported = obj.reported
        if obj.origin == "new" and not obj.persistent:
            # What a transient object holds is transient too (a link made in its
            # constructor, or an empty collection): reading it loads nothing.
            child.persistent = False
            child.created = True
        return child

    def _unloaded(
        self, obj: Obj, attr: str, info: MappedClass | None
    ) -> tuple[str, str, str] | None:
        """Why reading ``attr`` would do IO now: (pitfall, message, confidence), or None."""
        relation = info.relationships.get(attr) if info is not None else None
        lazy = relation is not None and (relation.lazy or "select") in (
            "select",
            "raise",
            "raise_on_sql",
            "True",
        )
        rel_unloaded = (
            lazy
            and not obj.all_loaded
            and (attr,) not in obj.paths
            and obj.origin in ("loaded", "new", "returned")
            and (obj.origin != "new" or obj.persistent)
            # A made object's many-to-one loads nothing when its key was never set, and finds
            # its target in the identity map when the key came from an object at hand.
            and not (obj.created and relation is not None and not relation.many)
        )
        deferred = (
            info is not None
            and obj.origin in ("loaded", "returned")
            and (
                (
                    attr in info.deferred
                    and obj.undeferred is not None
                    and attr not in obj.undeferred
                )
                or (
                    obj.load_only is not None
                    and attr in info.columns
                    and attr not in obj.load_only
                    and attr != "id"
                )
            )
        )
        if obj.expired is not None and attr not in obj.fresh:
            reason, line, confidence = obj.expired
            if relation is not None and rel_unloaded:
                pass
            elif obj.detached is not None:
                return (
                    "closed-session-detached",
                    f"{{what}} is read after the session closed (line {obj.detached}); "
                    f"{_said(reason)} at line {line} had expired it, so it cannot be reloaded",
                    confidence,
                )
            elif attr in obj.stale:
                return (
                    "server-default-onupdate",
                    f"{{what}} is written by the database on UPDATE; the flush at line "
                    f"{obj.stale_line} expired it and nothing fetched it back",
                    confidence,
                )
            elif reason.startswith("rollback"):
                return (
                    "after-rollback",
                    f"{{what}} is read after {_said(reason)} at line {line}, which expired every "
                    "loaded value; the read reloads it",
                    confidence,
                )
            elif reason == "savepoint rollback":
                return (
                    "after-rollback",
                    f"{{what}} is read after the SAVEPOINT's rollback() at line {line}, which "
                    "expired the objects changed inside it; the read reloads it",
                    confidence,
                )
            else:
                return (
                    "expired-after-commit",
                    f"{{what}} is read after {_said(reason)} at line {line} expired it; "
                    "the read reloads it",
                    confidence,
                )
        if rel_unloaded:
            assert relation is not None
            strategy = relation.lazy or "select"
            how = (
                "raises (lazy='raise')"
                if strategy.startswith("raise")
                else "loads it lazily (lazy='select')"
            )
            confidence = "high" if obj.origin == "loaded" else "medium"
            if obj.detached is not None:
                return (
                    "closed-session-detached",
                    f"relationship {{what}} was never loaded and its session closed at line "
                    f"{obj.detached}; the read cannot load it",
                    confidence,
                )
            return (
                "lazy-relationship",
                f"relationship {{what}} was not loaded by the query (no selectinload/"
                f"joinedload), so the read {how}",
                confidence,
            )
        if deferred:
            where = "after its session closed" if obj.detached is not None else "now"
            return (
                "deferred-column" if obj.detached is None else "closed-session-detached",
                f"{{what}} is a deferred column the query did not undefer; reading it "
                f"{where} runs a SELECT",
                "high" if obj.origin == "loaded" else "medium",
            )
        if attr in obj.stale:
            return (
                "server-default-onupdate",
                f"{{what}} is written by the database on UPDATE; the flush at line "
                f"{obj.stale_line} expired it and nothing fetched it back",
                "high",
            )
        return None

    def _formatted(self, obj: Obj, node: ast.AST, state: State) -> None:
        """``obj`` is turned into text (f-string, logging, str): its ``__repr__`` reads."""
        info = self.facts.mapped_class(obj.cls, self.path)
        if info is None or not info.repr_reads or obj.reported:
            return
        for attr in info.repr_reads:
            if attr not in info.attributes():
                continue
            why = self._unloaded(obj, attr, info)
            if why is not None:
                _, reason, confidence = why
                detail = reason.format(what=f"self.{attr}")
                self._sign(
                    "repr-or-logging",
                    node,
                    f"{_show(obj)} is formatted here and {obj.cls}.__repr__ reads: {detail}",
                    confidence,
                    ("fstring",) if isinstance(node, ast.FormattedValue) else (),
                )
                obj.reported = True
                return

    def _serialized(self, value: Value, schema: str, node: ast.AST, where: str) -> None:
        """A pydantic model reads its fields from ``value``: any unloaded one is IO."""
        objs = list(_objs(value))
        if not objs:
            return
        obj = objs[0]
        if obj.reported:
            return
        self._schema_reads(obj, schema, node, 0, where)

    def _schema_reads(
        self, obj: Obj, schema: str, node: ast.AST, depth: int, where: str = ""
    ) -> bool:
        fields = self.facts.schema_fields(schema)
        info = self.facts.mapped_class(obj.cls, self.path)
        if fields is None or info is None or depth > 3:
            return False
        for name, types in fields.items():
            if name not in info.attributes():
                continue
            why = self._unloaded(obj, name, info)
            if why is not None:
                pitfall, reason, confidence = why
                detail = reason.format(what=f"{_show(obj)}.{name}")
                switches: tuple[str, ...] = ()
                if pitfall in ("expired-after-commit", "lazy-relationship"):
                    if pitfall == "expired-after-commit":
                        switches = ("just_committed",)
                    pitfall = "serialization-lazy"
                self._sign(
                    pitfall,
                    node,
                    f"{schema} reads field {name!r}{where}: {detail}",
                    confidence,
                    switches,
                )
                obj.reported = True
                return True
            relation = info.relationships.get(name)
            nested = [t for t in types if t in self.facts.schemas]
            if relation is not None and nested:
                child = self._child(obj, name, relation.target)
                if child is not None and self._schema_reads(
                    child, nested[0], node, depth + 1, where
                ):
                    obj.reported = True
                    return True
        return False

    # -- session events ------------------------------------------------------------------
    def _session_of(self, node: ast.expr, state: State) -> Sess | None:
        value = self._eval(node, state)
        if isinstance(value, Sess):
            return value
        if isinstance(value, Holder):
            return Sess(value.session or "?", None)
        key = dotted(node)
        if key is None:
            return None
        if value is None and (
            key.split(".")[-1] in SESSION_NAMES
            or key.split(".")[-1].lstrip("_") in SESSION_NAMES
            or key.endswith("session")
        ):
            return Sess(key, None)
        return None

    def _objects_of(self, key: str, state: State) -> Iterator[Obj]:
        """The objects a commit or rollback of session ``key`` reaches (not detached ones)."""
        for obj in state.objects():
            if obj.detached is not None:
                continue
            if obj.session is None or obj.session == key or key == "?":
                yield obj

    def _commit(
        self, key: str, node: ast.AST, state: State, at_end: bool = False, via: str = ""
    ) -> None:
        if self.handler_mode:
            return
        state.effects.add(("commit", key))
        state.certain.add(("commit", key))
        session = state.names.get(key)
        expires, confidence = self._expires(session if isinstance(session, Sess) else None)
        line = getattr(node, "end_lineno", None) if at_end else getattr(node, "lineno", 0)
        for obj in self._objects_of(key, state):
            self._flushed(obj, node)
            if not via:
                obj.pending = False  # a commit seen here; one inside a callee may not happen
            if expires and obj.persistent and (obj.expired is None or obj.fresh):
                obj.expired = (f"commit{via}", line or 0, confidence)
                obj.fresh.clear()
                obj.reported = False
            if obj.origin == "new":
                obj.persistent = True

    def _flushed(self, obj: Obj, node: ast.AST) -> None:
        info = self.facts.mapped_class(obj.cls, self.path)
        if obj.origin == "new":
            obj.persistent = True
        if info is not None and obj.modified and not info.eager_defaults:
            if info.updated_by_server and obj.origin != "new":
                obj.stale |= info.updated_by_server
                obj.stale_line = getattr(node, "lineno", 0)
                obj.reported = False
        obj.modified = False

    def _changed(self, obj: Obj) -> None:
        obj.modified = True
        obj.savepoint = self.savepoints

    def _rollback(
        self, key: str, node: ast.AST, state: State, savepoint: int = 0, via: str = ""
    ) -> None:
        if not savepoint:
            state.effects.add(("rollback", key))
            state.certain.add(("rollback", key))
        for obj in self._objects_of(key, state):
            if savepoint and obj.savepoint < savepoint:
                continue  # a SAVEPOINT's rollback expires only what changed inside it
            if obj.pending:
                continue  # made in this transaction: a rollback expunges it, values kept
            if obj.expired is None:
                reason = "savepoint rollback" if savepoint else f"rollback{via}"
                obj.expired = (reason, getattr(node, "lineno", 0), "high")
                obj.reported = False

    def _refresh(self, call: ast.Call, state: State) -> None:
        if not call.args:
            return
        target = self._eval(call.args[0], state)
        if not isinstance(target, Obj):
            return
        names_node = call.args[1] if len(call.args) > 1 else keyword(call, "attribute_names")
        target.reported = False
        if isinstance(names_node, (ast.List, ast.Tuple, ast.Set)):
            names = [constant(e) for e in names_node.elts]
            for name in names:
                if isinstance(name, str):
                    target.paths.add((name,))
                    target.stale.discard(name)
                    if target.undeferred is not None:
                        target.undeferred.add(name)
            # Only the named attributes are loaded again; the rest stay expired.
            target.fresh.update(n for n in names if isinstance(n, str))
            return
        target.expired = None
        target.stale.clear()
        target.undeferred = None
        target.load_only = None

    # -- calls ------------------------------------------------------------------------
    def _call(self, node: ast.Call, state: State, awaited: bool) -> Value:
        func = node.func
        name = last_name(func)
        owner: Value = None
        owner_node: ast.expr | None = None
        if isinstance(func, ast.Attribute):
            owner_node = func.value
            owner = self._eval(func.value, state)
            if name in SESSION_METHODS:
                session = self._as_session(owner, func.value, name or "")
                if session is not None:
                    return self._session_call(session, name or "", node, state, awaited)
            if owner is None:
                callee = self._e_Attribute(func, state)
                if isinstance(callee, Factory):
                    return Sess("?", callee.expires, True)
        if name in SYNC_API:
            self._sync_api(node, state)
        if name != "run_sync" and isinstance(self.function, ast.AsyncFunctionDef):
            self._sync_handle(node, name, state)
        args = [self._eval(a, state) for a in node.args]
        for item in node.keywords:
            args.append(self._eval(item.value, state))
        if self._another_session(name):
            return Other()
        if isinstance(owner, Later):
            return None
        if isinstance(owner, Nested):
            if name == "rollback" and awaited:
                self._rollback(owner.session, node, state, savepoint=owner.depth)
            return None
        if (
            name in MUTATORS
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Attribute)
            and isinstance(owner, (Many, Obj))
        ):
            parent = self._eval(func.value.value, state)
            if isinstance(parent, Obj):
                self._changed(parent)
        if isinstance(owner, Res):
            return self._result_call(owner, name or "")
        if isinstance(owner, Stmt):
            return self._stmt_call(owner, name or "", node)
        if isinstance(owner, Engine) and name in ("begin", "connect"):
            return Engine(owner.is_async)
        if isinstance(owner, Factory) and name == "begin":
            return Sess("?", owner.expires, True, True)
        if isinstance(owner, (Many, Lit)) and name in ("all", "unique", "copy", "values"):
            return owner
        if name == "validate_python" and node.args and isinstance(func, ast.Attribute):
            adapter = func.value
            schema_name: str | None = None
            if (
                isinstance(adapter, ast.Call)
                and call_name(adapter) == "TypeAdapter"
                and adapter.args
            ):
                found = [n for n in annotation_names(adapter.args[0]) if n in self.facts.schemas]
                schema_name = found[0] if found else None
            else:
                schema_name = self.facts.type_adapters.get(last_name(adapter) or "")
            if schema_name is not None and (
                self.facts.from_attributes(schema_name)
                or constant(keyword(node, "from_attributes")) is True
            ):
                self._serialized(args[0], schema_name, node, "")
            return None
        if name in ("model_validate", "from_orm", "parse_obj") and node.args:
            schema = last_name(func.value) if isinstance(func, ast.Attribute) else None
            if schema in self.facts.schemas and (
                name == "from_orm"
                or self.facts.from_attributes(schema or "")
                or constant(keyword(node, "from_attributes")) is True
            ):
                self._serialized(args[0], schema or "", node, "")
            return None
        if name in LOG_METHODS and owner_node is not None and _is_logger(owner_node):
            for value in args:
                if isinstance(value, Obj):
                    self._formatted(value, node, state)
            return None
        if isinstance(func, ast.Name):
            return self._plain_call(node, func.id, args, state)
        if name == "format" and isinstance(owner_node, ast.Constant):
            for value in args:
                if isinstance(value, Obj):
                    self._formatted(value, node, state)
            return None
        if name == "gather" and (dotted(func) or "").split(".")[0] in ("asyncio", "aio"):
            self._concurrent(node, node.args, state)
            return None
        if name == "create_task" and self.loop_depth and isinstance(owner_node, ast.Name):
            self._concurrent(node, node.args * 2, state)
        if isinstance(owner, Obj):
            return None
        return self._project_call(node, name, owner, args, state)

    def _made_otherwise(self, call: ast.Call, targets: list[ast.expr]) -> Value:
        """``engine = PGEngine.from_engine(pool)``: a name other functions give an
        AsyncEngine holds here whatever this call made, which makes nothing async."""
        named = {target.id for target in targets if isinstance(target, ast.Name)}
        if named & self.facts.async_engines and not makes_async(call, self.facts):
            return Other()
        return None

    def _enters_as_other(self, call: ast.Call) -> bool:
        """``async with SandboxSession(inner) as session``: a project class that enters as
        itself (or inherits such an ``__aenter__``) and derives from no SQLAlchemy session
        is that class, whatever the name."""
        name = call_name(call)
        if name is None or name not in self.facts.class_bases:
            return False
        seen: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            if current in ("AsyncSession", "Session", "async_scoped_session"):
                return False
            if current not in seen:
                seen.add(current)
                todo.extend(self.facts.class_bases.get(current, ()))
        return bool(seen & self.facts.self_entering)

    def _another_session(self, name: str | None) -> bool:
        """``aiohttp.ClientSession()``, or an ``AsyncSession`` this file imports from the
        project's own HTTP client: a session, but not SQLAlchemy's."""
        if name is None:
            return False
        if name in self.foreign:
            return True
        if not name.endswith("Session") or name in ("AsyncSession", "Session"):
            return False
        if name in self.facts.factories or name in self.facts.mapped:
            return False  # a factory, or a mapped class such as a chat app's ChatSession
        return name not in self.facts.class_bases or name in self.facts.own_classes

    def _as_session(self, owner: Value, node: ast.expr, method: str) -> Sess | None:
        """The session a ``x.commit()``-like call is made on, when ``x`` looks like one."""
        if isinstance(owner, Sess):
            return owner
        if isinstance(owner, Holder):
            if method in ("commit", "rollback", "flush", "close"):
                return Sess(owner.session or "?", None)
            return None
        if owner is not None:
            return None
        key = dotted(node)
        if key is None:
            return None
        tail = key.split(".")[-1].lstrip("_").lower()
        if tail in SESSION_NAMES or tail.endswith("session"):
            return Sess(key, None)
        if method in ("commit", "rollback", "flush"):
            # A unit of work or another owner of the session: its commit is the session's.
            return Sess(key, None)
        return None

    def _session_call(
        self, session: Sess, name: str, node: ast.Call, state: State, awaited: bool
    ) -> Value:
        key = session.key
        args = node.args
        if name == "add" and args:
            value = self._eval(args[0], state)
            for obj in _objs(value):
                obj.session = key
                obj.detached = None
            return None
        if name == "add_all" and args:
            value = self._eval(args[0], state)
            for obj in _objs(value):
                obj.session = key
            return None
        if name == "begin":
            return Begin(key)
        if name == "begin_nested":
            self.savepoints += 1
            return Nested(key, self.savepoints)
        if name == "run_sync":
            return None
        values = [self._eval(arg, state) for arg in args] if name != "refresh" else []
        if not awaited:
            return None
        if name == "commit":
            self._commit(key, node, state)
        elif name == "flush":
            for obj in self._objects_of(key, state):
                self._flushed(obj, node)
        elif name == "rollback":
            self._rollback(key, node, state)
        elif name == "refresh":
            self._refresh(node, state)
        elif name == "expire" and values:
            target = values[0]
            if isinstance(target, Obj):
                target.expired = ("expire", node.lineno, "high")
                target.reported = False
        elif name == "expire_all":
            for obj in self._objects_of(key, state):
                obj.expired = ("expire", node.lineno, "high")
                obj.reported = False
        elif name == "close":
            for obj in self._objects_of(key, state):
                if obj.session == key:
                    obj.detached = node.lineno
        elif name in ("get", "get_one") and args:
            cls = last_name(args[0])
            if cls is None:
                return None
            stmt = Stmt(cls)
            options = keyword(node, "options")
            if isinstance(options, (ast.List, ast.Tuple)):
                self._options(stmt, options.elts)
            elif options is not None:
                stmt.all_loaded = True
                stmt.undeferred = None
            return self._obj_from(stmt, key)
        elif name in ("execute", "scalars", "scalar") and values:
            stmt_value = values[0]
            if not isinstance(stmt_value, Stmt) or stmt_value.cls is None:
                return None
            if name == "execute":
                return Res(stmt_value, False, key)
            if name == "scalars":
                return Res(stmt_value, True, key)
            return self._obj_from(stmt_value, key)
        elif name == "merge" and values:
            value = values[0]
            if isinstance(value, Obj):
                merged = value.copy()
                merged.session = key
                merged.expired = None
                merged.detached = None
                return merged
        return None

    def _obj_from(self, stmt: Stmt, session: str | None) -> Obj:
        return Obj(
            stmt.cls,
            session,
            "loaded",
            paths=set(stmt.paths),
            all_loaded=stmt.all_loaded,
            undeferred=None if stmt.undeferred is None else set(stmt.undeferred),
            load_only=None if stmt.load_only is None else set(stmt.load_only),
        )

    def _result_call(self, result: Res, name: str) -> Value:
        if name in ("scalars",):
            return Res(result.stmt, True, result.session)
        if name in ("unique", "yield_per"):
            return result
        if name in ("scalar_one", "scalar_one_or_none", "scalar"):
            return self._obj_from(result.stmt, result.session)
        if result.scalars and name in ("first", "one", "one_or_none"):
            return self._obj_from(result.stmt, result.session)
        if result.scalars and name in ("all", "fetchall", "partitions"):
            return Many(self._obj_from(result.stmt, result.session))
        return None

    def _stmt_call(self, stmt: Stmt, name: str, node: ast.Call) -> Value:
        if name == "options":
            updated = replace(
                stmt,
                paths=set(stmt.paths),
                undeferred=None if stmt.undeferred is None else set(stmt.undeferred),
            )
            self._options(updated, node.args)
            return updated
        if name in ("execution_options", "params") and (
            constant(keyword(node, "populate_existing")) is True
        ):
            return stmt
        return stmt

    def _options(self, stmt: Stmt, options: list[ast.expr]) -> None:
        for option in options:
            self._option(stmt, option, ())

    def _option(self, stmt: Stmt, option: ast.expr, parent: Path) -> Path | None:
        """Apply one loader option to ``stmt``; the path it ends at, for chained options."""
        if isinstance(option, ast.Starred) or not isinstance(option, ast.Call):
            stmt.all_loaded = True
            stmt.undeferred = None
            return None
        func = option.func
        base = parent
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            inner = self._option(stmt, func.value, parent)
            if inner is None:
                return None
            base = inner
        name = last_name(func)
        if name == "options":
            # ``selectinload(A.b).options(selectinload(B.c), ...)``: sub-options under A.b.
            for sub in option.args:
                self._option(stmt, sub, base)
            return base
        if name == "Load":
            return base
        attrs = [attr_name(a) for a in option.args]
        if any(a is None for a in attrs):
            if name in LOADERS or name in ("undefer", "load_only", "undefer_group"):
                stmt.all_loaded = True
                stmt.undeferred = None
            return None
        names = [a for a in attrs if a]
        if name in LOADERS:
            if "*" in names:
                stmt.all_loaded = True
                return base
            path = base
            for attr in names:
                path = (*path, attr)
                stmt.paths.add(path)
            return path
        if name in NOT_LOADING:
            path = base
            for attr in names:
                path = (*path, attr)
            return path
        if name in ("undefer", "undefer_group"):
            if name == "undefer_group" or "*" in names:
                stmt.undeferred = None
            elif stmt.undeferred is not None and not base:
                stmt.undeferred.update(names)
            return base
        if name == "load_only" and not base:
            stmt.load_only = set(names) | (stmt.load_only or set())
            return base
        if name in ("defer", "with_loader_criteria", "selectin_polymorphic"):
            return base
        stmt.all_loaded = True
        stmt.undeferred = None
        return None

    def _plain_call(self, node: ast.Call, name: str, args: list[Value], state: State) -> Value:
        if name in self.facts.mapped:
            obj = Obj(name, None, "new", persistent=False, pending=True, created=True)
            info = self.facts.mapped_class(name, self.path)
            assert info is not None
            for item in node.keywords:
                if item.arg in info.relationships:
                    obj.paths.add((item.arg,))
            return obj
        if name == "select" and len(node.args) == 1:
            cls = last_name(node.args[0])
            if isinstance(node.args[0], ast.Name) and cls in self.facts.mapped:
                return Stmt(cls)
            if isinstance(node.args[0], ast.Name) and cls and cls[:1].isupper():
                return Stmt(cls)
            return None
        flag = factory_flag(node)
        if flag is not ...:
            if name == "AsyncSession":
                return Sess("?", flag, True)  # type: ignore[arg-type]
            return Factory(flag)  # type: ignore[arg-type]
        value = state.names.get(name)
        if isinstance(value, Factory):
            return Sess("?", value.expires, True)
        if name in self.facts.factories:
            return Sess("?", self.facts.factories[name], True)
        if name in ("str", "repr", "print", "format"):
            for arg in args:
                if isinstance(arg, Obj):
                    self._formatted(arg, node, state)
            return None
        if name == "getattr" and len(node.args) >= 2:
            attr = constant(node.args[1])
            if isinstance(args[0], Obj) and isinstance(attr, str):
                return self._read(args[0], attr, node, state)
            return None
        if name in ("list", "sorted", "tuple", "reversed") and args:
            if isinstance(args[0], Res) and args[0].scalars:
                return Many(self._obj_from(args[0].stmt, args[0].session))
            return args[0] if isinstance(args[0], (Many, Lit)) else None
        if name in ("next", "iter") and args:
            return self._element(args[0])
        if name == "gather":
            self._concurrent(node, node.args, state)
            return None
        return self._project_call(node, name, None, args, state)

    def _project_call(
        self, node: ast.Call, name: str | None, owner: Value, args: list[Value], state: State
    ) -> Value:
        """A call of a function of the project: what its summary says it returns."""
        if name is None:
            return None
        if name in self.facts.mapped:
            return None
        if name[:1].isupper() and any(isinstance(a, Sess) for a in args):
            sessions = [a for a in args if isinstance(a, Sess)]
            return Holder(sessions[0].key)
        summary = self.ctx.summaries.get(name)
        if summary is None:
            return None
        self._apply_effects(summary, name, node, owner, state)
        value = summary.value
        if value is None:
            return None
        if isinstance(value, Stmt):
            if value.param is not None:
                index = value.param
                base = args[index] if index < len(args) else None
                if not isinstance(base, Stmt):
                    return None
                combined = replace(base, paths=base.paths | value.paths)
                combined.all_loaded = base.all_loaded or value.all_loaded
                return combined
            return replace(value, paths=set(value.paths))
        session: str | None = None
        if isinstance(owner, Holder):
            session = owner.session
        else:
            sessions = [a for a in args if isinstance(a, Sess)]
            if sessions:
                session = sessions[0].key
        return self._instantiate(value, session, state)

    def _apply_effects(
        self, summary: Summary, name: str, node: ast.Call, owner: Value, state: State
    ) -> None:
        """A called function commits or rolls back the session it was given: so does this call."""
        if not summary.effects:
            return
        params = list(summary.params)
        if params[:1] in (["self"], ["cls"]) and isinstance(node.func, ast.Attribute):
            params = params[1:]
        passed: dict[str, ast.expr] = dict(zip(params, node.args, strict=False))
        passed.update({item.arg: item.value for item in node.keywords if item.arg})
        for kind, target in summary.effects:
            key: str | None = None
            if target == "self":
                key = owner.session if isinstance(owner, Holder) else None
            elif isinstance(passed.get(str(target)), ast.Name):
                value = self._eval(passed[str(target)], state)
                key = value.key if isinstance(value, Sess) else None
            if key is None:
                continue
            if kind == "commit":
                self._commit(key, node, state, via=f" in {name}()")
            else:
                self._rollback(key, node, state, via=f" in {name}()")

    def _instantiate(self, value: Value, session: str | None, state: State) -> Value:
        """A copy of a summary's object for the caller, attached to the caller's session."""
        memo: dict[int, object] = {}
        copied = _clone(value, memo)
        for obj in _objs(copied):
            obj.session = session
            obj.reported = False
            if obj.origin == "loaded" or (obj.origin == "new" and obj.persistent):
                # A new object the callee never flushed (no awaited flush or commit) is
                # still transient for the caller: its relationships load nothing yet.
                obj.origin = "returned"
                obj.persistent = True
            if obj.expired is not None and "rollback" in obj.expired[0]:
                # A rollback on the callee's way out is a failure path its callers check
                # first; the read after it is reported in the callee, where it is.
                obj.expired = None
            if obj.expired is not None and obj.expired[2] != "high":
                reason, line, _ = obj.expired
                session_value = state.names.get(session or "")
                expires, confidence = self._expires(
                    session_value if isinstance(session_value, Sess) else None
                )
                obj.expired = (reason, line, confidence) if expires else None
        return copied

    # -- other rules --------------------------------------------------------------------
    def _sync_api(self, node: ast.Call, state: State) -> None:
        """``metadata.create_all(async_engine)`` and friends, outside run_sync."""
        name = last_name(node.func)
        candidates = list(node.args[:1])
        bind = keyword(node, "bind")
        if bind is not None:
            candidates.append(bind)
        if name == "create" or name == "drop":
            if not isinstance(node.func, ast.Attribute):
                return
        for candidate in candidates:
            value = self._eval(candidate, state)
            if isinstance(value, Engine) and value.is_async:
                what = ast.unparse(candidate)
                switches = ("use_inspect",) if name == "inspect" else ()
                self._sign(
                    "sync-api-on-async",
                    node,
                    f"{name}() is synchronous but {what} is an async engine/connection; "
                    "it must run inside conn.run_sync()",
                    "high",
                    switches,
                )
                return

    def _concurrent(self, node: ast.Call, awaitables: list[ast.expr], state: State) -> None:
        """``asyncio.gather`` (or tasks) over calls that share one session.

        The finding goes where the clash happens: the session call inside the task that
        starts second (its commit or flush if it has one, else its first session call),
        when that function can be found; else the ``gather`` itself.
        """
        counts: dict[str, int] = {}
        calls: dict[str, list[ast.Call]] = {}
        for item in awaitables:
            repeat = 1
            target = item
            if isinstance(target, ast.Starred):
                target = target.value
                repeat = 2
            if isinstance(target, (ast.ListComp, ast.GeneratorExp)):
                target = target.elt
                repeat = 2
            elif isinstance(target, ast.Name):
                continue
            for key in self._sessions_used(target, state):
                counts[key] = counts.get(key, 0) + repeat
                assert isinstance(target, ast.Call)
                calls.setdefault(key, []).extend([target] * repeat)
        shared = [key for key, count in counts.items() if count >= 2]
        if not shared:
            return
        key = shared[0]
        second = calls[key][1]
        clash = self._clash_site(second, key, state)
        elsewhere = clash is not None and clash[0] != self.path
        where = f"{self.path}:{node.lineno}" if elsewhere else f"line {node.lineno}"
        spawn = f"{call_name(node) or 'gather'}() at {where}"
        message = (
            f"runs concurrently with the other tasks of {spawn} on the same session "
            f"{key!r}; an AsyncSession cannot run two operations at once"
        )
        if clash is not None:
            path, site = clash
            self._sign("concurrent-session-use", site, message, "high", path=path)
        else:
            self._sign(
                "concurrent-session-use",
                node,
                f"the awaitables run concurrently and share session {key!r}; an "
                "AsyncSession cannot run two operations at once",
                "high",
            )

    def _sync_handle(self, node: ast.Call, name: str | None, state: State) -> None:
        """``sync_function(conn.sync_connection)`` called straight from async code.

        The synchronous function's IO then runs outside the greenlet that ``run_sync``
        would give it; the finding goes to its first IO on that handle.
        """
        defined = self.facts.functions.get(name or "", [])
        if len(defined) != 1 or not isinstance(node.func, ast.Name):
            return
        path, function = defined[0]
        if isinstance(function, ast.AsyncFunctionDef):
            return
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        for index, arg in enumerate(node.args):
            if not (isinstance(arg, ast.Attribute) and arg.attr in SYNC_HANDLES):
                continue
            if index >= len(params):
                continue
            site = _first_io(function, params[index])
            if site is None:
                continue
            self._sign(
                "sync-api-on-async",
                site,
                f"{function.name}() is called at line {node.lineno} with "
                f"{ast.unparse(arg)} outside run_sync(): this IO on {params[index]} runs "
                "outside the greenlet the async driver needs",
                "high",
                path=path,
            )
            return

    def _clash_site(self, call: ast.Call, key: str, state: State) -> tuple[str, ast.Call] | None:
        """The session call inside the called function that receives the shared session."""
        name = last_name(call.func)
        defined = self.facts.functions.get(name or "", [])
        if len(defined) != 1:
            return None
        path, function = defined[0]
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        if params[:1] in (["self"], ["cls"]) and isinstance(call.func, ast.Attribute):
            params = params[1:]
        receiving: str | None = None
        for index, arg in enumerate(call.args):
            if index < len(params) and self._shares(arg, key, state):
                receiving = params[index]
        for item in call.keywords:
            if item.arg and self._shares(item.value, key, state):
                receiving = item.arg
        if receiving is None:
            return None
        uses = sorted(
            (
                sub
                for sub in ast.walk(function)
                if isinstance(sub, ast.Await)
                and isinstance(sub.value, ast.Call)
                and isinstance(sub.value.func, ast.Attribute)
                and isinstance(sub.value.func.value, ast.Name)
                and sub.value.func.value.id == receiving
                and sub.value.func.attr in SESSION_METHODS
            ),
            key=lambda sub: (sub.lineno, sub.col_offset),
        )
        if not uses:
            return None
        writes = [u for u in uses if u.value.func.attr in ("commit", "flush")]  # type: ignore[attr-defined]
        chosen = (writes or uses)[0].value
        assert isinstance(chosen, ast.Call)
        return path, chosen

    def _shares(self, node: ast.expr, key: str, state: State) -> bool:
        name = dotted(node)
        value = state.names.get(name or "")
        return isinstance(value, Sess) and value.key == key or name == key

    def _sessions_used(self, node: ast.expr, state: State) -> set[str]:
        found: set[str] = set()
        if not isinstance(node, ast.Call):
            return found
        parts: list[ast.expr] = [*node.args, *(k.value for k in node.keywords)]
        if isinstance(node.func, ast.Attribute):
            parts.append(node.func.value)
        for part in parts:
            key = dotted(part)
            if key is None:
                continue
            value = state.names.get(key)
            if isinstance(value, Sess):
                found.add(value.key)
            elif isinstance(value, Holder) and value.session:
                found.add(value.session)
            elif key in self.session_params:
                found.add(key)
        return found

    def _returning(self, node: ast.Return, value: Value, state: State) -> None:
        for begins, closing in reversed(self.open_blocks):
            self._leave(begins, closing, node, state, value)
        self.returned.append(value)
        self.exits.append(state.effects | {e for e in state.certain if e[0] == "rollback"})
        self.certain_exits.append(set(state.certain))
        if self.schema is not None and isinstance(value, (Obj, Many, Lit)):
            # FastAPI validates the response against the route's model after the return:
            # the finding names the route (the line tracebacks show), and the return.
            schema, _ = self.schema
            site = self.route if self.route is not None else node
            self._serialized(value, schema, site, f" (returned at line {node.lineno})")


def _is_collection(info: MappedClass, attr: str) -> bool:
    relation = info.relationships.get(attr)
    return relation is not None and relation.many


SYNC_HANDLES = frozenset({"sync_connection", "sync_session", "sync_engine"})
IO_METHODS = frozenset(
    {
        "execute",
        "scalar",
        "scalars",
        "query",
        "get",
        "commit",
        "flush",
        "exec_driver_sql",
        "get_table_names",
        "get_columns",
        "has_table",
        "connect",
        "begin",
        "refresh",
    }
)


def _first_io(function: ast.FunctionDef | ast.AsyncFunctionDef, param: str) -> ast.Call | None:
    """The first call in ``function`` that does IO through its parameter ``param``."""
    calls = sorted(
        (sub for sub in ast.walk(function) if isinstance(sub, ast.Call)),
        key=lambda sub: (sub.lineno, sub.col_offset),
    )
    for call in calls:
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == param
            and func.attr in IO_METHODS
        ):
            return call
        if last_name(func) in SYNC_API and any(
            isinstance(a, ast.Name) and a.id == param for a in call.args
        ):
            return call
    return None


def _said(reason: str) -> str:
    """``commit`` as ``commit()``, ``commit in save()`` as ``commit() in save()``."""
    event, _, where = reason.partition(" in ")
    return f"{event}() in {where}" if where else f"{event}()"


def _session_like(name: str) -> bool:
    tail = name.lstrip("_").lower()
    return tail in SESSION_NAMES or tail.endswith("session")


def _is_logger(node: ast.expr) -> bool:
    name = (dotted(node) or "").lower()
    return "log" in name.split(".")[-1] if name else False


def _show(obj: Obj) -> str:
    if obj.label:
        return obj.label
    return obj.cls.lower() if obj.cls else "obj"


def summarize(flow: FunctionFlow) -> Summary | None:
    """What callers of this function receive: an ORM object or a statement it returns, and
    the commits and rollbacks it leaves on a session it was given."""
    effects = _effects(flow)
    params: tuple[str, ...] = ()
    if flow.function is not None:
        args = flow.function.args
        params = tuple(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs)
    values = [v for v in flow.returned if v is not None]
    first = values[0] if values else None
    if isinstance(first, Lit):
        first = Many(first.items[0]) if first.items else None
    if not isinstance(first, (Obj, Many, Stmt)):
        first = None
    if first is None and not effects:
        return None
    return Summary(first, effects=effects, params=params)


def _effects(flow: FunctionFlow) -> tuple[tuple[str, int | str], ...]:
    """The session events of a function, keyed by the parameter that brought the session."""
    if flow.function is None:
        return ()
    args = flow.function.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    found: list[tuple[str, int | str]] = []
    # A commit on some way out counts (commits sit on the success path callers go on
    # with); a rollback only when every way out rolls back (it usually marks a failure
    # that the caller checks before reading anything).
    commits = set().union(*flow.exits) if flow.exits else set()
    rollbacks = set.intersection(*flow.certain_exits) if flow.certain_exits else set()
    every = {e for e in commits if e[0] == "commit"} | {e for e in rollbacks if e[0] == "rollback"}
    for kind, key in sorted(every):
        if key in names and key not in ("self", "cls"):
            found.append((kind, key))
        elif key.startswith("self."):
            found.append((kind, "self"))
    return tuple(dict.fromkeys(found))


Visitor = Callable[[ast.AST], None]
