"""What the files of one project declare, read once before any function is followed.

Mapped classes (relationships and their ``lazy=``, deferred and server-generated
columns, ``__repr__``), pydantic models (their fields and ``from_attributes``), session
factories and their ``expire_on_commit``, the FastAPI dependencies that yield a
session, async engines, and the URLs given to ``create_async_engine``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .syntax import (
    SESSION_TYPES,
    annotation_names,
    call_name,
    constant,
    dotted,
    keyword,
    last_name,
    string_parts,
)

MAPPING_CALLS = frozenset(
    {"mapped_column", "Column", "relationship", "deferred", "column_property", "Relationship"}
)
LEAVES = (ast.Constant, ast.Name, ast.expr_context, ast.operator, ast.cmpop, ast.unaryop)
PYDANTIC_ROOTS = frozenset({"BaseModel", "RootModel"})
SQL_EXPRESSION_HEADS = frozenset(
    {"func", "sa", "sqlalchemy", "text", "literal_column", "expression"}
)


@dataclass
class Relation:
    """A relationship of a mapped class."""

    lazy: str | None
    target: str | None
    line: int
    many: bool = False


@dataclass
class MappedClass:
    """What reading an attribute of this class may do."""

    name: str
    bases: list[str]
    line: int
    path: str
    columns: set[str] = field(default_factory=set)
    relationships: dict[str, Relation] = field(default_factory=dict)
    deferred: set[str] = field(default_factory=set)
    updated_by_server: set[str] = field(default_factory=set)
    """Columns the database (or a SQL expression) rewrites on UPDATE: expired after it."""
    eager_defaults: bool = False
    repr_reads: list[str] = field(default_factory=list)
    """Attributes ``__repr__`` / ``__str__`` read from self."""
    own_repr: bool = False
    fields: list[str] = field(default_factory=list)
    """Mapped attributes in declaration order, those declared ``repr=False`` left out."""

    def attributes(self) -> set[str]:
        return self.columns | set(self.relationships) | self.deferred


@dataclass
class Schema:
    """A pydantic model: its fields and the classes their annotations name."""

    name: str
    bases: list[str]
    fields: dict[str, list[str]] = field(default_factory=dict)
    from_attributes: bool = False


@dataclass
class Facts:
    """Everything pass one learned, keyed by bare names across the project."""

    mapped: dict[str, MappedClass] = field(default_factory=dict)
    schemas: dict[str, Schema] = field(default_factory=dict)
    factories: dict[str, bool | None] = field(default_factory=dict)
    """Session factory names (``Session``, ``self.sessions``' attribute) to expire_on_commit."""
    factory_functions: dict[str, bool | None] = field(default_factory=dict)
    session_dependencies: dict[str, bool | None] = field(default_factory=dict)
    """Functions that yield or return a session, to the expire_on_commit of its factory."""
    dependency_aliases: dict[str, str] = field(default_factory=dict)
    """``SessionDep = Annotated[AsyncSession, Depends(get_db)]``: alias to dependency."""
    async_engines: set[str] = field(default_factory=set)
    sync_engines: set[str] = field(default_factory=set)
    async_engine_functions: set[str] = field(default_factory=set)
    sync_engine_functions: set[str] = field(default_factory=set)
    sync_factories: set[str] = field(default_factory=set)
    """Names some file assigns a synchronous session or factory (``sessionmaker()``)."""
    imported_lookalikes: list[tuple[str, str, str]] = field(default_factory=list)
    """(path, local name, imported name) of SQLAlchemy's names imported from elsewhere."""
    own_classes: set[str] = field(default_factory=set)
    """The project's own classes named like SQLAlchemy's (an API client's AsyncSession),
    deriving from none of SQLAlchemy's, and their subclasses."""
    foreign: dict[str, set[str]] = field(default_factory=dict)
    """Per file, the names of SQLAlchemy's classes that there mean a class of the project's
    own (an HTTP client's ``AsyncSession``), not SQLAlchemy's."""
    async_url_texts: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Source text of each URL given to create_async_engine, to where it was given."""
    expire_flags: list[bool | None] = field(default_factory=list)
    duplicates: set[str] = field(default_factory=set)
    """Mapped class names defined in more than one file (each test file's own ``User``)."""
    mapped_here: dict[str, dict[str, MappedClass]] = field(default_factory=dict)
    """Per file, the mapped classes it defines, for names defined in more than one file."""
    eager_asyncio_imports: list[tuple[str, int]] = field(default_factory=list)
    """The imports of ``sqlalchemy.ext.asyncio`` that run whenever their module is
    imported: not inside a function, under ``TYPE_CHECKING`` or a guarded ``try``."""
    functions: dict[str, list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]] = field(
        default_factory=dict
    )
    """Every function by bare name, with the path of its file."""
    string_constants: dict[str, list[str]] = field(default_factory=dict)
    """Names given a literal string (module and class level, getenv defaults), by bare name."""
    type_adapters: dict[str, str] = field(default_factory=dict)
    """``EXPORT = TypeAdapter(list[OrderOut])``: the adapter's name to the model it reads."""
    fixtures: set[str] = field(default_factory=set)
    """Functions decorated as pytest fixtures."""
    module_functions: dict[str, list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str | None]]] = (
        field(default_factory=dict)
    )
    """Per file, its functions in order, each with the class it is a method of."""
    module_calls: dict[str, list[ast.Call]] = field(default_factory=dict)
    module_reprs: dict[str, list[ast.FunctionDef]] = field(default_factory=dict)
    candidates: dict[str, Schema] = field(default_factory=dict)
    class_bases: dict[str, list[str]] = field(default_factory=dict)
    self_entering: set[str] = field(default_factory=set)
    """Classes whose ``__aenter__`` returns the instance itself (``return self``)."""
    giving: set[int] = field(default_factory=set)
    """The functions (by id) that return or yield a value."""
    pending_assignments: list[tuple[str, str]] = field(default_factory=list)
    pending_dependencies: dict[str, tuple[list[bool | None], list[str]]] = field(
        default_factory=dict
    )
    pending_adapters: list[tuple[str, list[str]]] = field(default_factory=list)
    class_attrs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Per class, the annotation names of ``self.x`` (from ``__init__`` parameters)."""

    def default_expire(self) -> bool | None:
        """expire_on_commit of a session whose factory is not seen: known only if all agree."""
        flags = set(self.expire_flags)
        if len(flags) == 1:
            return flags.pop()
        return None

    def schema_fields(self, name: str) -> dict[str, list[str]] | None:
        """A pydantic model's fields, its project bases' included (None if not a model)."""
        schema = self.schemas.get(name)
        if schema is None:
            return None
        fields: dict[str, list[str]] = {}
        for base in schema.bases:
            if base in self.schemas and base != name:
                fields.update(self.schema_fields(base) or {})
        fields.update(schema.fields)
        return fields

    def from_attributes(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        schema = self.schemas.get(name)
        if schema is None or name in seen:
            return False
        return schema.from_attributes or any(
            self.from_attributes(base, seen | {name}) for base in schema.bases
        )

    def mapped_class(self, name: str | None, path: str) -> MappedClass | None:
        """The mapped class ``name`` means in file ``path``: the one that file defines
        when several files define one of that name, else the project's only one."""
        if name is None:
            return None
        if name in self.duplicates:
            here = self.mapped_here.get(path, {}).get(name)
            if here is not None:
                return here
        return self.mapped.get(name)


def _factory_flag(call: ast.Call) -> bool | None | object:
    """expire_on_commit of a factory call; ``...`` when the call makes no async session."""
    name = call_name(call)
    if name == "async_sessionmaker" or name in SESSION_TYPES or name == "AsyncSession":
        pass
    elif name == "sessionmaker":
        klass = keyword(call, "class_")
        if last_name(klass) not in SESSION_TYPES:
            return ...
    else:
        return ...
    value = keyword(call, "expire_on_commit")
    if value is None:
        return True
    flag = constant(value)
    return flag if isinstance(flag, bool) else None


def factory_flag(call: ast.AST) -> bool | None | object:
    """expire_on_commit of ``async_sessionmaker(...)``/``AsyncSession(...)``, else ``...``."""
    if not isinstance(call, ast.Call):
        return ...
    return _factory_flag(call)


def _is_sql_expression(node: ast.AST) -> bool:
    """True for ``func.now()``, ``sa.text(...)``: values the database computes."""
    if isinstance(node, ast.Call):
        head = dotted(node.func) or ""
        first = head.split(".", 1)[0]
        return first in SQL_EXPRESSION_HEADS or head.startswith("func.") or ".func." in head
    return False


@dataclass
class _FunctionRecord:
    """What the returns and yields of one function hand out, gathered while visiting it."""

    flags: list[bool | None] = field(default_factory=list)
    callees: list[str] = field(default_factory=list)
    factory: bool | None | object = ...
    session: bool = False
    yields: bool = False
    engine: bool = False
    sync_engine: bool = False
    gives: bool = False
    """Some ``return`` or ``yield`` hands out a value."""


class _Collector:
    """Pass one over a module: a plain recursive walk that stops only at the nodes it reads.

    ``ast.NodeVisitor`` looks a method up by name for every node (and checks the old
    ``visit_Num`` names for every constant), which was most of the time on large projects.
    """

    def visit(self, node: ast.AST) -> None:
        handler = self.handlers.get(type(node))
        if handler is not None:
            handler(node)
        else:
            self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        visit = self.visit
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, LEAVES):
                        visit(item)
            elif isinstance(value, ast.AST) and not isinstance(value, LEAVES):
                visit(value)

    def __init__(self, facts: Facts, path: str) -> None:
        self.facts = facts
        self.path = path
        self.scope: list[str | None] = []
        """The class each enclosing scope is (None for a function)."""
        self.functions = facts.module_functions.setdefault(path, [])
        self.calls = facts.module_calls.setdefault(path, [])
        self.reprs = facts.module_reprs.setdefault(path, [])
        self.records: list[_FunctionRecord] = []
        self.handlers: dict[type, Callable[[Any], None]] = {
            ast.ClassDef: self.visit_ClassDef,
            ast.FunctionDef: self.visit_FunctionDef,
            ast.AsyncFunctionDef: self.visit_AsyncFunctionDef,
            ast.Return: self.visit_Return,
            ast.Yield: self.visit_Yield,
            ast.With: self.visit_With,
            ast.AsyncWith: self.visit_With,
            ast.Assign: self.visit_Assign,
            ast.AnnAssign: self.visit_AnnAssign,
            ast.Call: self.visit_Call,
            ast.ImportFrom: self.visit_ImportFrom,
        }

    # -- classes -------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [name for name in (last_name(b) for b in node.bases) if name]
        self._class_attrs(node)
        self.facts.class_bases[node.name] = bases
        if _enters_as_itself(node):
            self.facts.self_entering.add(node.name)
        if self._is_mapped(node, bases):
            self._mapped(node, bases)
        else:
            self._schema(node, bases)
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    def _class_attrs(self, node: ast.ClassDef) -> None:
        attrs: dict[str, list[str]] = {}
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                attrs[item.target.id] = annotation_names(item.annotation)
            if (
                isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                and item.name == "__init__"
            ):
                params = {
                    a.arg: annotation_names(a.annotation)
                    for a in item.args.args + item.args.kwonlyargs
                    if a.annotation is not None
                }
                for sub in ast.walk(item):
                    if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Name):
                        for target in sub.targets:
                            if (
                                isinstance(target, ast.Attribute)
                                and isinstance(target.value, ast.Name)
                                and target.value.id == "self"
                                and sub.value.id in params
                            ):
                                attrs[target.attr] = params[sub.value.id]
                    elif isinstance(sub, ast.AnnAssign) and isinstance(sub.target, ast.Attribute):
                        attrs[sub.target.attr] = annotation_names(sub.annotation)
        if attrs:
            self.facts.class_attrs[node.name] = attrs

    def _is_mapped(self, node: ast.ClassDef, bases: list[str]) -> bool:
        if any(k.arg == "table" and constant(k.value) is True for k in node.keywords):
            return True
        if "DeclarativeBase" in bases or "DeclarativeBaseNoMeta" in bases:
            return False
        for item in node.body:
            if isinstance(item, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("__tablename__", "__table__")
                for t in item.targets
            ):
                return True
            value = getattr(item, "value", None)
            if (
                isinstance(item, (ast.Assign, ast.AnnAssign))
                and isinstance(value, ast.Call)
                and call_name(value) in (MAPPING_CALLS - {"Relationship", "Column"})
            ):
                return True
            if isinstance(item, ast.AnnAssign) and "Mapped" in annotation_names(item.annotation):
                return True
        return False

    def _mapped(self, node: ast.ClassDef, bases: list[str]) -> None:
        """Read a mapped class (``MappedAsDataclass`` bases are noted for their repr)."""
        info = MappedClass(node.name, bases, node.lineno, self.path)
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if item.name in ("__repr__", "__str__"):
                    info.repr_reads.extend(_self_reads(item))
                    info.own_repr = True
                continue
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            annotation: ast.expr | None = None
            if isinstance(item, ast.Assign):
                targets, value = item.targets, item.value
            elif isinstance(item, ast.AnnAssign):
                targets, value, annotation = [item.target], item.value, item.annotation
            for target in targets:
                if isinstance(target, ast.Name):
                    self._attribute(info, target.id, value, annotation, item.lineno)
                    shown = not (
                        isinstance(value, ast.Call) and constant(keyword(value, "repr")) is False
                    )
                    if shown and target.id in info.attributes():
                        info.fields.append(target.id)
        if node.name in self.facts.mapped:
            self.facts.duplicates.add(node.name)
        self.facts.mapped[node.name] = info
        self.facts.mapped_here.setdefault(self.path, {})[node.name] = info

    def _attribute(
        self,
        info: MappedClass,
        name: str,
        value: ast.expr | None,
        annotation: ast.expr | None,
        line: int,
    ) -> None:
        if name == "__mapper_args__" and isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=True):
                if constant(key) == "eager_defaults" and constant(item) is True:
                    info.eager_defaults = True
            return
        if name.startswith("__"):
            return
        called = call_name(value) if isinstance(value, ast.Call) else None
        names = annotation_names(annotation)
        if called in ("relationship", "Relationship") and isinstance(value, ast.Call):
            info.relationships[name] = _relation(value, names, line)
            return
        if called is None and annotation is not None and "Mapped" not in names:
            if "ClassVar" in names:
                return
            # SQLModel fields and plain annotations: columns.
        if called == "deferred" or (
            isinstance(value, ast.Call) and constant(keyword(value, "deferred")) is True
        ):
            info.deferred.add(name)
            return
        if isinstance(value, ast.Call):
            inner = value
            if called == "column_property" and value.args and isinstance(value.args[0], ast.Call):
                inner = value.args[0]
            onupdate = keyword(inner, "onupdate")
            if keyword(inner, "server_onupdate") is not None or (
                onupdate is not None and _is_sql_expression(onupdate)
            ):
                info.updated_by_server.add(name)
            if any(call_name(a) == "Computed" for a in inner.args):
                info.updated_by_server.add(name)
        if called in MAPPING_CALLS or annotation is not None:
            info.columns.add(name)

    def _schema(self, node: ast.ClassDef, bases: list[str]) -> None:
        schema = Schema(node.name, bases)
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                names = annotation_names(item.annotation)
                if item.target.id == "model_config" or "ClassVar" in names:
                    continue
                schema.fields[item.target.id] = names
                alias = keyword(item.value, "alias") if isinstance(item.value, ast.Call) else None
                if isinstance(constant(alias), str):
                    schema.fields[str(constant(alias))] = names
            elif isinstance(item, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "model_config" for t in item.targets
            ):
                schema.from_attributes |= _config_from_attributes(item.value)
            elif isinstance(item, ast.ClassDef) and item.name == "Config":
                for sub in item.body:
                    if isinstance(sub, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id in ("orm_mode", "from_attributes")
                        for t in sub.targets
                    ):
                        schema.from_attributes |= constant(sub.value) is True
        if any(k.arg == "from_attributes" and constant(k.value) is True for k in node.keywords):
            schema.from_attributes = True
        self.facts.candidates[node.name] = schema

    # -- functions ------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if last_name(target) == "fixture":
                self.facts.fixtures.add(node.name)
        self.facts.functions.setdefault(node.name, []).append((self.path, node))
        self.functions.append((node, self.scope[-1] if self.scope else None))
        if node.name in ("__repr__", "__str__") and isinstance(node, ast.FunctionDef):
            self.reprs.append(node)
        record = _FunctionRecord()
        self.records.append(record)
        self.scope.append(None)
        self.generic_visit(node)
        self.scope.pop()
        self.records.pop()
        if record.factory is not ... and not record.yields:
            self.facts.factory_functions[node.name] = record.factory  # type: ignore[assignment]
        if record.session and (record.yields or "AsyncSession" in annotation_names(node.returns)):
            self.facts.pending_dependencies[node.name] = (record.flags, record.callees)
        if record.engine:
            self.facts.async_engine_functions.add(node.name)
        elif record.sync_engine:
            self.facts.sync_engine_functions.add(node.name)
        if record.gives:
            self.facts.giving.add(id(node))

    def _returned(self, value: ast.expr | None, is_yield: bool) -> None:
        """A ``return`` or ``yield`` of the function being read: a session, a factory, an engine."""
        if not self.records:
            return
        record = self.records[-1]
        record.yields = record.yields or is_yield
        if value is None:
            return
        record.gives = True
        flag = factory_flag(value)
        if flag is not ...:
            if not is_yield and call_name(value) != "AsyncSession":
                record.factory = flag
            else:
                record.session = True
                record.flags.append(flag if isinstance(flag, bool) else None)
        elif isinstance(value, ast.Name):
            record.session = record.session or _is_session_name(value.id)
        if call_name(value) in ("create_async_engine", "async_engine_from_config"):
            record.engine = True
        elif call_name(value) in ("create_engine", "engine_from_config"):
            record.sync_engine = True

    def visit_Return(self, node: ast.Return) -> None:
        self._returned(node.value, False)
        self.generic_visit(node)

    def visit_Yield(self, node: ast.Yield) -> None:
        self._returned(node.value, True)
        self.generic_visit(node)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        if self.records:
            for item in node.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call):
                    callee = dotted(expr.func) or ""
                    self.records[-1].callees.append(callee.split(".")[-1])
        self.generic_visit(node)

    # -- assignments ------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assigned(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assigned(node.target, node.value)
        self.generic_visit(node)

    def _assigned(self, target: ast.expr, value: ast.expr) -> None:
        name = last_name(target)
        if name is None:
            return
        literal = _literal_text(value)
        if literal is not None and "://" in literal:
            self.facts.string_constants.setdefault(name, []).append(literal)
        flag = factory_flag(value)
        called = call_name(value) if isinstance(value, ast.Call) else None
        if flag is ... and called is not None:
            self.facts.pending_assignments.append((name, called))
        if flag is not ... and called not in ("AsyncSession",):
            self.facts.factories[name] = flag  # type: ignore[assignment]
        if called == "TypeAdapter" and isinstance(value, ast.Call) and value.args:
            self.facts.pending_adapters.append((name, annotation_names(value.args[0])))
        if called in ("create_async_engine", "async_engine_from_config", "AsyncEngine"):
            self.facts.async_engines.add(name)
        elif called in ("create_engine", "engine_from_config"):
            self.facts.sync_engines.add(name)
        if flag is ... and called in ("sessionmaker", "scoped_session", "Session"):
            self.facts.sync_factories.add(name)
        if (
            isinstance(value, ast.Subscript)
            and last_name(value.value) == "Annotated"
            and isinstance(value.slice, ast.Tuple)
        ):
            for part in value.slice.elts[1:]:
                if isinstance(part, ast.Call) and call_name(part) == "Depends" and part.args:
                    dependency = last_name(part.args[0])
                    if dependency:
                        self.facts.dependency_aliases[name] = dependency

    def visit_Call(self, node: ast.Call) -> None:
        self.calls.append(node)
        if self.records and call_name(node) in ("commit", "rollback"):
            self.records[-1].gives = True  # a caller may feel this commit or rollback
        flag = factory_flag(node)
        if flag is not ...:
            self.facts.expire_flags.append(flag if isinstance(flag, bool) else None)
        name = call_name(node)
        if name == "create_async_engine" and node.args:
            self.facts.async_url_texts.setdefault(
                ast.unparse(node.args[0]), (self.path, node.lineno)
            )
        elif name == "configure" and keyword(node, "expire_on_commit") is not None:
            value = constant(keyword(node, "expire_on_commit"))
            owner = last_name(node.func.value) if isinstance(node.func, ast.Attribute) else None
            if owner:
                self.facts.factories[owner] = value if isinstance(value, bool) else None
            self.facts.expire_flags.append(value if isinstance(value, bool) else None)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module.split(".")[0] not in ("sqlalchemy", "sqlmodel"):
            for alias in node.names:
                if alias.name in LOOKALIKE_NAMES:
                    local = alias.asname or alias.name
                    self.facts.imported_lookalikes.append((self.path, local, alias.name))


def _relation(call: ast.Call, annotation: list[str], line: int) -> Relation:
    lazy_node = keyword(call, "lazy")
    kwargs = keyword(call, "sa_relationship_kwargs")
    if lazy_node is None and isinstance(kwargs, ast.Dict):
        for key, item in zip(kwargs.keys, kwargs.values, strict=True):
            if constant(key) == "lazy":
                lazy_node = item
    elif lazy_node is None and isinstance(kwargs, ast.Call) and call_name(kwargs) == "dict":
        lazy_node = keyword(kwargs, "lazy")  # SQLModel: sa_relationship_kwargs=dict(lazy=...)
    lazy = constant(lazy_node) if lazy_node is not None else None
    lazy_text = lazy if isinstance(lazy, str) else ("unknown" if lazy_node is not None else None)
    if isinstance(lazy, bool):
        lazy_text = "select" if lazy else "noload"
    if lazy_text is None and "WriteOnlyMapped" in annotation:
        lazy_text = "write_only"  # read only through .select(): the attribute loads nothing
    target: str | None = None
    if call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            target = first.value.rsplit(".", 1)[-1]
        else:
            target = last_name(first)
    if target is None:
        skip = {"Mapped", "list", "List", "Optional", "set", "Set", "Sequence", "None"}
        candidates = [n for n in annotation if n not in skip]
        target = candidates[-1] if candidates else None
    uselist = constant(keyword(call, "uselist"))
    many = bool(set(annotation) & {"list", "List", "set", "Set", "Sequence"}) or uselist is True
    return Relation(lazy_text, target, line, many)


def _self_reads(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Attributes a method reads from ``self`` directly (``inspect(self)`` is no read)."""
    reads: list[str] = []
    for sub in ast.walk(function):
        if (
            isinstance(sub, ast.Attribute)
            and isinstance(sub.value, ast.Name)
            and sub.value.id == "self"
            and isinstance(sub.ctx, ast.Load)
            and not sub.attr.startswith("_")
            and sub.attr not in reads
        ):
            reads.append(sub.attr)
    return reads


def _config_from_attributes(value: ast.expr) -> bool:
    if isinstance(value, ast.Call):
        return (
            constant(keyword(value, "from_attributes")) is True
            or constant(keyword(value, "orm_mode")) is True
        )
    if isinstance(value, ast.Dict):
        return any(
            constant(k) in ("from_attributes", "orm_mode") and constant(v) is True
            for k, v in zip(value.keys, value.values, strict=True)
        )
    return False


def _literal_text(value: ast.expr) -> str | None:
    """A literal string, or the literal default of ``os.getenv(NAME, "...")``."""
    text = string_parts(value)
    if text is not None:
        return text
    if (
        isinstance(value, ast.Call)
        and call_name(value) in ("getenv", "get")
        and len(value.args) > 1
    ):
        return string_parts(value.args[1])
    return None


def _is_session_name(name: str) -> bool:
    return name in ("session", "db", "db_session", "async_session", "sess", "s")


def collect(trees: list[tuple[str, ast.Module]]) -> Facts:
    """Pass one over every parsed file of the project."""
    facts = Facts()
    for path, tree in trees:
        try:
            _Collector(facts, path).visit(tree)
        except RecursionError:
            continue  # an expression nested deeper than the recursion limit: facts skipped
        facts.eager_asyncio_imports.extend((path, line) for line in _eager_asyncio(tree.body))
    _resolve(facts)
    _inherit(facts)
    return facts


def _eager_asyncio(body: list[ast.stmt]) -> Iterator[int]:
    """Lines of the asyncio-extension imports in ``body`` that run when it runs."""
    for node in body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sqlalchemy.ext.asyncio"
        ):
            yield node.lineno
        elif isinstance(node, ast.Import) and any(
            alias.name.startswith("sqlalchemy.ext.asyncio") for alias in node.names
        ):
            yield node.lineno
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            yield from _eager_asyncio(node.body)
            yield from _eager_asyncio(node.orelse)
        elif isinstance(node, ast.Try) and not any(
            handler.type is None
            or {"ImportError", "ModuleNotFoundError", "Exception"}
            & set(annotation_names(handler.type))
            for handler in node.handlers
        ):
            yield from _eager_asyncio(node.body)
        elif isinstance(node, ast.ClassDef):
            yield from _eager_asyncio(node.body)


def _enters_as_itself(node: ast.ClassDef) -> bool:
    """True when the class's ``async with`` gives the instance itself, not what it holds."""
    for item in node.body:
        if isinstance(item, ast.AsyncFunctionDef) and item.name == "__aenter__":
            returns = [sub for sub in ast.walk(item) if isinstance(sub, ast.Return)]
            return bool(returns) and all(
                isinstance(r.value, ast.Name) and r.value.id == "self" for r in returns
            )
    return False


_ASYNC_MAKERS = frozenset(
    {
        "create_async_engine",
        "async_engine_from_config",
        "AsyncEngine",
        "async_sessionmaker",
        "AsyncSession",
    }
)


def makes_async(value: ast.expr, facts: Facts) -> bool:
    """True when ``value`` is a call that makes an async engine, factory or session:
    SQLAlchemy's own, or a project function known to return one."""
    made = call_name(value)
    return (
        made in _ASYNC_MAKERS
        or made in facts.factory_functions
        or made in facts.async_engine_functions
    )


LOOKALIKE_NAMES = frozenset({"AsyncSession", "Session", "AsyncEngine", "async_sessionmaker"})
"""SQLAlchemy's names that other libraries and projects also give their own classes."""


def _lookalikes(facts: Facts) -> None:
    """Imported names that mean the project's own class of that name, not SQLAlchemy's.

    A name imported from outside SQLAlchemy means SQLAlchemy's class when the module
    re-exports it; it means another class when the project defines one of that name that
    does not derive from a SQLAlchemy session or engine.
    """
    own = {
        name
        for name, bases in facts.class_bases.items()
        if name in LOOKALIKE_NAMES and not set(bases) & LOOKALIKE_NAMES
    }
    changed = True
    while changed:  # a subclass of the project's own AsyncSession is the project's too
        changed = False
        for name, bases in facts.class_bases.items():
            if name not in own and set(bases) & own:
                own.add(name)
                changed = True
    facts.own_classes = own
    for path, local, name in facts.imported_lookalikes:
        if name in own:
            facts.foreign.setdefault(path, set()).add(local)


def _resolve(facts: Facts) -> None:
    """What needed the whole project: pydantic models, factory and engine helpers."""
    _lookalikes(facts)
    schemas = facts.candidates
    known: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, schema in schemas.items():
            if name not in known and any(
                b in PYDANTIC_ROOTS or b == "SQLModel" or b in known for b in schema.bases
            ):
                known.add(name)
                changed = True
    facts.schemas = {name: schemas[name] for name in known}
    for name, called in facts.pending_assignments:
        if called in facts.factory_functions:
            facts.factories[name] = facts.factory_functions[called]
        if called in facts.async_engine_functions:
            facts.async_engines.add(name)
        elif called in facts.sync_engine_functions:
            facts.sync_engines.add(name)
    for name, (flags, callees) in facts.pending_dependencies.items():
        every = list(flags) + [facts.factories[c] for c in callees if c in facts.factories]
        distinct = set(every)
        facts.session_dependencies[name] = distinct.pop() if len(distinct) == 1 else None
    for name, names in facts.pending_adapters:
        models = [n for n in names if n in facts.schemas]
        if models:
            facts.type_adapters[name] = models[0]


def _inherit(facts: Facts) -> None:
    """A mapped class inherits the attributes of its mapped bases."""

    def merged(info: MappedClass, seen: frozenset[str]) -> MappedClass:
        for base in info.bases:
            if base in facts.mapped and base not in seen:
                parent = merged(facts.mapped[base], seen | {info.name})
                info.columns |= parent.columns
                info.deferred |= parent.deferred
                info.updated_by_server |= parent.updated_by_server
                info.eager_defaults = info.eager_defaults or parent.eager_defaults
                for key, value in parent.relationships.items():
                    info.relationships.setdefault(key, value)
                if not info.repr_reads:
                    info.repr_reads = list(parent.repr_reads)
        return info

    for here in facts.mapped_here.values():  # every definition, each file's own too
        for info in here.values():
            merged(info, frozenset({info.name}))

    def dataclass_mapped(name: str, seen: frozenset[str]) -> bool:
        bases = facts.class_bases.get(name, [])
        return "MappedAsDataclass" in bases or any(
            dataclass_mapped(b, seen | {name}) for b in bases if b not in seen
        )

    for name, info in facts.mapped.items():
        # MappedAsDataclass writes a __repr__ that reads every field left in the repr.
        if not info.own_repr and not info.repr_reads and dataclass_mapped(name, frozenset()):
            info.repr_reads = list(info.fields)
