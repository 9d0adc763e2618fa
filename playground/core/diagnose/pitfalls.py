"""One record per pitfall: what it is, how to fix it, how to recognise it, where to see it.

Everything the diagnosis, the static check and the paste screen know about a pitfall
hangs off its ``Pitfall`` record, and the rules refer to the record itself rather than
to its id. The words are the project's own. Each fix names the contexts it suits best (a FastAPI
route, a pydantic model, a background task, alembic, pytest, a library that owns the
session); the diagnosis puts the fixes for the contexts it saw first.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

FASTAPI = "fastapi"
PYDANTIC = "pydantic"
BACKGROUND = "background"
ALEMBIC = "alembic"
PYTEST = "pytest"
LIBRARY = "library"

CONTEXT_NAMES = {
    FASTAPI: "a FastAPI/Starlette route",
    PYDANTIC: "a pydantic model",
    BACKGROUND: "a background task or worker (Celery, create_task)",
    ALEMBIC: "alembic",
    PYTEST: "pytest",
    LIBRARY: "a library that owns the engine or session",
}


@dataclass(frozen=True)
class FixText:
    """One way out, as code, with the contexts it suits best."""

    title: str
    code: str
    contexts: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    """Signals this fix answers directly; when one is in the evidence, the fix comes first."""


@dataclass(frozen=True)
class Pitfall:
    """A pitfall: its lesson and fixes, its live scenario, and the signs that point to it.

    ``supporting`` names signals worth showing as evidence even when no rule needed them;
    ``words`` are patterns of prose (in several languages) that speak of its mechanism,
    weak evidence for a guess; ``confirm`` says what would make a guess sure.
    """

    id: str
    title: str
    explanation: str
    fixes: tuple[FixText, ...]
    scenario: str | None
    switches: tuple[str, ...] = ()
    """The switches of its scenario that reproduce its variants."""
    supporting: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    confirm: str = ""
    strong: int = 0
    """How many of the first ``words`` are specific enough to weigh as much as a signal."""
    patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(word, re.IGNORECASE) for word in self.words)
        object.__setattr__(self, "patterns", compiled)


ALL: tuple[Pitfall, ...] = (
    Pitfall(
        "expired-after-commit",
        "An attribute read after commit() reloads it",
        "With expire_on_commit=True (the default), commit() marks every loaded value of "
        "every object as stale. The next read of one runs a SELECT, and a plain attribute "
        "read is not an await, so the async driver cannot be waited for: MissingGreenlet.",
        (
            FixText(
                "keep values after commit",
                "Session = async_sessionmaker(engine, expire_on_commit=False)",
                (FASTAPI, PYDANTIC, BACKGROUND, PYTEST),
            ),
            FixText(
                "reload inside an await",
                "await session.commit()\nawait session.refresh(obj)",
                (PYDANTIC, FASTAPI),
            ),
            FixText(
                "read what you need before committing",
                "uid = obj.uid\nawait session.commit()",
                (BACKGROUND, LIBRARY),
            ),
        ),
        "after-commit",
        supporting=(
            "attribute-get",
            "commit",
            "full-reload",
        ),
        words=(
            # Not the keyword in code turning it off; prose asking for it still counts.
            "expire_on_commit(?!\\s*=\\s*False\\s*(?:[,)]|\\n|$))",
            "\\bexpir(?:e|ed|es|ing|ation)\\b",
            "after (?:the |a |each )?(?:db\\.|session\\.)?commit",
            "commit\\(\\)",
            "过期|失效",
            "期限切れ|失効|expire(?!_on_commit)",
            "просроч|истек|после коммита|после commit",
            "만료",
            "expirad[oa]s?|expira[çc][ãa]o|expiré",
            "提交后|提交之后|コミット後|커밋 후"
            "|despu[eé]s del commit|ap[oó]s o commit|depois do commit",
        ),
        confirm=(
            "the frames just above the error (a reload of expired attributes shows as "
            "_load_expired) and the session factory's expire_on_commit"
        ),
    ),
    Pitfall(
        "lazy-relationship",
        "A relationship read that was never loaded",
        "A relationship is loaded lazily by default: the first read runs a SELECT for the "
        "related rows. In asyncio code that SELECT cannot run from an attribute read, so "
        "the relationship has to be loaded up front or through an await.",
        (
            FixText(
                "load it with the query",
                "stmt = select(User).options(selectinload(User.posts))",
                (FASTAPI, PYDANTIC),
            ),
            FixText(
                "load it through an await",
                "posts = await user.awaitable_attrs.posts",
                (BACKGROUND, LIBRARY),
            ),
            FixText(
                "refresh just that relationship",
                'await session.refresh(user, ["posts"])',
                (PYTEST,),
            ),
            FixText(
                "make unloaded reads fail clearly",
                'posts: Mapped[list[Post]] = relationship(lazy="raise")',
                (),
            ),
        ),
        "lazy-relationship",
        supporting=(
            "attribute-get",
            "lazy-load",
            "lazy-sql",
        ),
        words=(
            "lazy[- _]?load",
            "\\blazy\\b",
            "selectinload|joinedload|subqueryload",
            "eager(?:ly)?[- ]?load",
            "\\brelationship",
            "awaitable_attrs",
            "懒加载|延迟加载|关联(?:关系|对象|属性|数据|字段|表)|关系(?:属性|字段|对象)",
            "遅延|リレーション|joinedload",
            "ленив|связ",
            "지연 로딩|관계",
            "carregad|relacionamento|relaci[oó]n",
        ),
        confirm=(
            "the frames just above the error (a lazy load shows as _emit_lazyload) and the "
            "query that loaded the object"
        ),
    ),
    Pitfall(
        "serialization-lazy",
        "A serializer touched an attribute that was not loaded",
        "pydantic (from_attributes), FastAPI's response model, marshmallow or a template "
        "reads every field of the object. If one is expired by a commit, or is a "
        "relationship nobody loaded, that read needs a SELECT outside any await, and "
        "pydantic reports it as 'Error extracting attribute'.",
        (
            FixText(
                "load relationships before returning",
                "stmt = select(User).options(selectinload(User.posts))",
                (FASTAPI, PYDANTIC),
            ),
            FixText(
                "keep values after commit",
                "Session = async_sessionmaker(engine, expire_on_commit=False)",
                (FASTAPI, PYDANTIC),
            ),
            FixText(
                "refresh before serializing",
                'await session.refresh(user, ["posts"])\nreturn UserOut.model_validate(user)',
                (PYDANTIC,),
            ),
            FixText(
                "serialize inside the greenlet",
                "out = await session.run_sync(lambda s: UserOut.model_validate(user))",
                (BACKGROUND, LIBRARY),
            ),
        ),
        "serialization",
        switches=("just_committed",),
        supporting=(
            "expired-load",
            "lazy-load",
            "lazy-sql",
            "full-reload",
            "commit",
            "validation-cut",
            "validation-error",
        ),
        words=(
            "pydantic",
            "from_attributes|orm_mode",
            "model_validate|from_orm",
            "response_model",
            "seriali[sz]|序列化|シリアライ[ズザ]|сериализ|serializa|직렬화",
            "marshmallow",
            "jsonable_encoder",
            "to_dict\\(|as_dict\\(|asdict\\(",
            # An endpoint returning the ORM object hands it to the response serializer.
            "\\breturn(?:s|ed|ing)?\\s+(?:(?:the|an?|raw)\\s+){0,2}ORM\\b",
            "get_attribute_error|Error extracting attribute",
            "ResponseValidationError|validation error",
            "422 Unprocessable|status(?:_code)?\\W{0,3}422",
            "schema",
        ),
        confirm=(
            "the pydantic model (or serializer) and the query that loaded the object it reads"
        ),
    ),
    Pitfall(
        "server-default-onupdate",
        "A database-generated column read after INSERT or UPDATE",
        "Columns filled in by the database (server_default, onupdate, computed) are left "
        "expired after the statement that sets them, unless SQLAlchemy fetched them with "
        "RETURNING. Reading one then needs a SELECT, even with expire_on_commit=False.",
        (
            FixText(
                "fetch them with the statement",
                'class Row(Base):\n    __mapper_args__ = {"eager_defaults": True}',
                (FASTAPI, PYDANTIC, LIBRARY),
            ),
            FixText(
                "reload after the flush or commit",
                'await session.flush()\nawait session.refresh(row, ["updated_at"])',
                (BACKGROUND, PYTEST),
            ),
        ),
        "server-defaults",
        supporting=(
            "expired-load",
            "server-generated",
            "timestamp-name",
        ),
        words=(
            "onupdate|on_update",
            "server_default|server_onupdate",
            "updated_at|created_at|modified_at",
            "func\\.now\\(\\)|now\\(\\)",
            "eager_defaults",
            "server[- ](?:generated|updated|side default)|database[- ](?:generated|updated)"
            "|generated by the database|set by the database",
            "timestamp",
        ),
        confirm=(
            "the column definition (onupdate=, server_default=) and whether the read follows "
            "an INSERT or UPDATE"
        ),
        strong=2,
    ),
    Pitfall(
        "after-rollback",
        "An object read after a rollback",
        "A rollback, including the one after a failed flush or commit, expires every "
        "object in the session whatever expire_on_commit says, because their values may "
        "no longer match the database. The next read of any of them runs a SELECT.",
        (
            FixText(
                "keep plain values before anything can fail",
                "name = a.name\ntry:\n    await session.commit()\n"
                "except IntegrityError:\n    await session.rollback()",
                (FASTAPI, BACKGROUND),
            ),
            FixText(
                "reload after the rollback",
                "await session.rollback()\nawait session.refresh(a)",
                (PYTEST, LIBRARY),
            ),
        ),
        "rollback",
        supporting=("attribute-get",),
        words=(
            "roll ?back[`()*\\s]{0,8}expir|expir\\w*\\s+(?:by|after|on)\\s+(?:the |a |each )?`?"
            "(?:db\\.|session\\.)?roll ?back",
            "rollback|rolled back|roll back",
            "IntegrityError",
            "PendingRollbackError",
            "except\\b.*:",
            "回滚",
            "ロールバック",
            "откат",
        ),
        confirm=("the code around the failure: a rollback (or a failed flush) before the read"),
        strong=1,
    ),
    Pitfall(
        "closed-session-detached",
        "An object used after its session closed",
        "When `async with Session() as session:` ends, the objects it loaded are "
        "detached. A value that is still loaded can be read, but an expired or unloaded "
        "one cannot: there is no session left to load it through, so SQLAlchemy raises "
        "DetachedInstanceError instead of MissingGreenlet.",
        (
            FixText(
                "keep values after commit",
                "Session = async_sessionmaker(engine, expire_on_commit=False)",
                (FASTAPI, PYDANTIC, LIBRARY),
            ),
            FixText(
                "finish reading inside the block",
                "async with Session() as session:\n    ...\n"
                "    await session.refresh(user)\n    out = UserOut.model_validate(user)",
                (BACKGROUND, PYTEST),
            ),
            FixText(
                "attach it to a live session",
                "user = await session.merge(user)",
                (BACKGROUND,),
                kinds=("other-session",),
            ),
        ),
        "closed-session",
        supporting=(
            "expired-load",
            "lazy-message",
            "attribute-get",
        ),
        words=(
            "detach",
            "expunge",
            "session (?:is |was |has been )?closed|closed session|after the session"
            "|clos(?:e|ed|ing) the session",
            "outside (?:of )?(?:the |a )?session",
            "background ?task",
            "another session|different session",
            "not bound to a Session",
            "分离|游离|会话(?:已)?关闭|关闭(?:了)?会话",
            "デタッチ|セッション(?:を|が)閉じ|セッション終了",
            "отсоедин|сесси\\w* закрыт|закрыт\\w* сесси",
            "sess[ãa]o fechada|fora da sess[ãa]o|세션이 닫",
        ),
        confirm=(
            "where the object's session ends (the end of its async with block or dependency) "
            "and where it is read"
        ),
        strong=1,
    ),
    Pitfall(
        "repr-or-logging",
        "A __repr__, f-string or log message read an unloaded attribute",
        "Formatting an object reads its attributes. If one is expired or a lazy "
        "relationship, the read needs IO that cannot run there. logging catches the "
        "error and prints '--- Logging error ---'; an f-string or str() raises it.",
        (
            FixText(
                "format only loaded state",
                "def __repr__(self):\n    state = inspect(self)\n"
                '    return f"<User {state.identity}>"',
                (LIBRARY,),
            ),
            FixText(
                "keep values after commit",
                "Session = async_sessionmaker(engine, expire_on_commit=False)",
                (FASTAPI, BACKGROUND),
            ),
            FixText(
                "log plain values read inside the greenlet",
                'await session.refresh(user)\nlog.info("saved %s", user.uid)',
                (),
            ),
        ),
        "repr-logging",
        switches=("fstring",),
        supporting=(
            "repr",
            "repr-raised",
            "logging-frames",
            "logging-error",
        ),
        words=(
            "__repr__|__str__",
            "\\brepr\\b",
            "\\blogg(?:ing|er)\\b|\\blog\\.|\\blogs?\\b",
            'f-string|f\\"',
            "\\bprint\\(",
            "Logging error",
            "sentry|structlog|loguru",
            "debugger|pycharm|\\bi?pdb\\b|watch (?:window|expression)",
        ),
        confirm=(
            "the __repr__ or log call, and whether the object's attributes are loaded when it runs"
        ),
        strong=1,
    ),
    Pitfall(
        "deferred-column",
        "A deferred column read before it was loaded",
        "A column mapped with deferred() (or left out with load_only()) is not part of "
        "the first SELECT; reading it runs a second one, which an attribute read cannot "
        "do in asyncio code.",
        (
            FixText(
                "load it with the query",
                "stmt = select(User).options(undefer(User.bio))",
                (FASTAPI, PYDANTIC),
            ),
            FixText(
                "load it through an await",
                "bio = await user.awaitable_attrs.bio",
                (BACKGROUND, LIBRARY),
            ),
            FixText(
                "make unloaded reads fail clearly",
                "bio: Mapped[str] = mapped_column(deferred=True, deferred_raiseload=True)",
                (),
            ),
        ),
        "deferred-column",
        supporting=("bulky-name",),
        words=(
            "\\bdeferred\\b|deferred=True",
            "undefer",
            "load_only",
            "\\bdefer\\(",
            "raiseload",
        ),
        confirm=(
            "the column's deferred=True (or defer()/load_only()) and the query that loaded "
            "the object"
        ),
        strong=2,
    ),
    Pitfall(
        "sync-api-on-async",
        "A synchronous API called on an async engine",
        "metadata.create_all(), inspect(), alembic's synchronous env.py and Session.query() "
        "work on synchronous connections. An AsyncEngine has none to give them outside "
        "run_sync(), which runs a synchronous function inside the greenlet. Likewise an "
        "AsyncSession or AsyncConnection is entered with async with, and its results "
        "are iterated with async for.",
        (
            FixText(
                "run DDL through run_sync",
                "async with engine.begin() as conn:\n"
                "    await conn.run_sync(Base.metadata.create_all)",
                (FASTAPI, PYTEST, LIBRARY),
            ),
            FixText(
                "inspect inside run_sync",
                "async with engine.connect() as conn:\n"
                "    names = await conn.run_sync(lambda c: inspect(c).get_table_names())",
                (LIBRARY,),
            ),
            FixText(
                "use the async alembic template",
                "alembic init -t async migrations  # env.py awaits "
                "connection.run_sync(do_run_migrations)",
                (ALEMBIC,),
            ),
            FixText(
                "use the 2.0 query style",
                "result = await session.execute(select(Product))",
                (FASTAPI,),
            ),
            FixText(
                "enter and iterate asyncio objects with async",
                "async with Session() as session:\n"
                "    async for row in await session.stream(select(Product)):\n"
                "        ...",
                (),
                kinds=("sync-protocol",),
            ),
        ),
        "sync-engine-api",
        switches=("use_inspect",),
        supporting=(
            "ddl",
            "inspector",
            "ext-asyncio",
        ),
        words=(
            "create_all|drop_all",
            "\\binspect\\(|Inspector|\\binspection\\b",
            "to_sql|read_sql|pandas",
            "sync_engine|sync_session",
            "\\bAsyncEngine\\b",
            "reflect",
        ),
        confirm=("the call that received the AsyncEngine, AsyncConnection or AsyncSession"),
    ),
    Pitfall(
        "async-driver-in-sync-engine",
        "An asyncio driver URL given to a plain create_engine()",
        "create_engine() builds a synchronous Engine. With an asyncio driver in the URL "
        "(+asyncpg, +aiosqlite...) it still has to wait for that driver, from plain code: "
        "MissingGreenlet on the first connection. Libraries that create their own engine "
        "from your URL hit this often.",
        (
            FixText(
                "give synchronous code a synchronous driver",
                'engine = create_engine("postgresql+psycopg://user@host/db")',
                (LIBRARY, ALEMBIC, BACKGROUND),
            ),
            FixText(
                "or use the async engine everywhere",
                'engine = create_async_engine("postgresql+asyncpg://user@host/db")',
                (FASTAPI,),
            ),
        ),
        "async-driver-sync-engine",
        supporting=(
            "async-url",
            "sync-engine-ctor",
            "await-only",
        ),
        words=(
            "create_engine\\(",
            "engine_from_config",
            "alembic",
            "env\\.py",
            "\\+asyncpg|\\+aiosqlite|\\+aiomysql|\\+asyncmy|\\+psycopg_async",
            "sync(?:hronous)? engine",
            "\\bcelery\\b",
            "\\bsessionmaker\\(",
            "database_exists|create_database|sqlalchemy[_-]utils",
            "(?:database|db) connection (?:check )?failed|wait(?:ing)? for (?:the )?database|"
            "database (?:is |to be )?ready|连接检查|连接失败",
        ),
        confirm=("the create_engine() call (or alembic's env.py) and the URL it is given"),
    ),
    Pitfall(
        "concurrent-session-use",
        "One AsyncSession used by two tasks at once",
        "An AsyncSession and its connection do one thing at a time. asyncio.gather(), "
        "create_task() or a session shared between requests start a second operation "
        "before the first has finished, and the session (or the driver) refuses it.",
        (
            FixText(
                "one session per task",
                "async def load(uid):\n    async with Session() as session:\n"
                "        return await session.get(User, uid)\n"
                "await asyncio.gather(load(1), load(2))",
                (BACKGROUND, LIBRARY),
            ),
            FixText(
                "await one after the other",
                "a = await session.get(User, 1)\nb = await session.get(User, 2)",
                (FASTAPI, PYTEST),
            ),
            FixText(
                "one session per request",
                "async def get_session():\n    async with Session() as session:\n"
                "        yield session",
                (FASTAPI,),
            ),
        ),
        "concurrent-session",
        supporting=("greenlet-spawn",),
        words=(
            "shar(?:e|ed|es|ing)\\s+(?:an?\\s+|one\\s+|the\\s+|\\w+\\s+){0,2}(?:db\\s+|database\\s+)?"
            "sessions?\\b|sessions?\\s+(?:is\\s+|are\\s+|was\\s+|were\\s+|being\\s+)?shared",
            "asyncio\\.gather|\\bgather\\(|\\bgather\\b",
            "create_task|TaskGroup|ensure_future",
            "concurren",
            "in parallel|parallel",
            "at the same time|simultaneous",
            "same session|shared session|share[sd]? (?:a |one |the )?session",
            "another operation",
            "同时|并发|并行",
            "одновременно|параллел",
            "同時|並行|並列",
            "동시",
            "simult[aâ]ne|paralel",
        ),
        confirm=(
            "where the session is shared: asyncio.gather, create_task or a module-level "
            "session used by several requests"
        ),
        strong=1,
    ),
    Pitfall(
        "greenlet-missing",
        "The greenlet package is not installed",
        "SQLAlchemy's asyncio support runs the synchronous ORM inside greenlets. Without "
        "the greenlet package (no wheel for the platform, or a minimal install) every "
        "async call fails before reaching the database.",
        (
            FixText(
                "install the asyncio extra",
                'pip install "sqlalchemy[asyncio]"',
                (FASTAPI, BACKGROUND, PYTEST),
            ),
            FixText("or greenlet itself", "pip install greenlet", (LIBRARY,)),
        ),
        "greenlet-missing",
        supporting=(),
        words=(
            r"greenlet\W{0,2} (?:is |was )?not installed|install(?:ing|ed)? (?:the )?\W?greenlet"
            r"|greenlet\W{0,2} (?:dependency|package|library|wheel)",
            "no module named .?greenlet",
            "(?:安装|缺少|没有|インストール|설치|установ|instala)\\w{0,8}\\W{0,3}greenlet"
            "|greenlet\\W{0,3}\\w{0,4}\\W{0,2}(?:安装|缺少|インストール|설치|установ|instala)",
            "\\bM1\\b|\\bM2\\b|Apple Silicon|arm64|aarch64|s390x|ppc64|musl|Alpine|Windows ARM",
            "\\bwheels?\\b",
            "sqlalchemy\\[asyncio\\]",
            "no longer install|not installed by default|n[ãa]o vir[áa] mais instalado",
            "requirements|pyproject|poetry|pip install|\\bextras?\\b",
        ),
        confirm=(
            "`pip show greenlet` and `python -c 'import greenlet'` in the environment that fails"
        ),
        strong=3,
    ),
    Pitfall(
        "event-or-hook-io",
        "IO inside an ORM event, validator or property",
        "Event listeners, @validates methods, hybrid and plain properties run in "
        "synchronous code. If one reads an unloaded attribute or runs a query, that IO "
        "has no greenlet to run in, unless the hook itself was called inside one.",
        (
            FixText(
                "use only loaded state in the hook",
                '@event.listens_for(User, "before_update")\n'
                "def stamp(mapper, connection, target):\n"
                "    target.updated_by = current_user_id.get()",
                (LIBRARY,),
            ),
            FixText(
                "do the IO in the hook's connection",
                "connection.execute(insert(audit).values(user_id=target.uid))",
                (),
            ),
            FixText(
                "move the IO to async code",
                "await session.flush()\nawait write_audit(session, user)",
                (FASTAPI, BACKGROUND),
            ),
        ),
        None,
        supporting=(),
        words=(
            "listens_for|event\\.listen",
            "@validates",
            "before_flush|after_flush|before_insert|before_update|after_insert|after_update|after_commit",
            "hybrid_property",
            "\\bhooks?\\b",
            "callbacks?",
            "@property",
        ),
        confirm="the listener, validator or property that runs when the error happens",
        strong=3,
    ),
)
(
    EXPIRED,
    LAZY,
    SERIALIZATION,
    SERVER_GENERATED,
    ROLLBACK,
    DETACHED,
    REPR,
    DEFERRED,
    SYNC_API,
    ASYNC_DRIVER,
    CONCURRENT,
    GREENLET,
    HOOK,
) = ALL

BY_ID: dict[str, Pitfall] = {pitfall.id: pitfall for pitfall in ALL}


def ordered_fixes(
    lesson: Pitfall, contexts: tuple[str, ...], kinds: Collection[str] = ()
) -> tuple[FixText, ...]:
    """The lesson's fixes: those answering a signal seen first, then those suiting the
    contexts seen (stable otherwise)."""

    def rank(item: tuple[int, FixText]) -> tuple[bool, int, int]:
        index, fix = item
        hits = [contexts.index(c) for c in fix.contexts if c in contexts]
        answers = any(kind in kinds for kind in fix.kinds)
        return (not answers, min(hits) if hits else len(contexts) + 1, index)

    return tuple(fix for _, fix in sorted(enumerate(lesson.fixes), key=rank))
