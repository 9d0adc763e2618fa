"""The diagnosis engine: inputs as they really arrive, the rules' evidence, hostile input.

The tracebacks here are raised for real (SQLAlchemy against SQLite in memory) and then
dressed the way users paste them: Rich panels, ANSI colours, log prefixes, Windows
paths, IPython arrows, text cut at either end.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
import traceback
from collections.abc import Callable

import pytest
from rich.console import Console
from rich.traceback import Traceback
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from playground.core.diagnose import PITFALLS, RULES, diagnose, render_text
from playground.core.diagnose.meanings import find_signals
from playground.core.diagnose.pitfalls import ALL, BY_ID, HOOK
from playground.core.diagnose.reader import MAX_CHARS, read
from playground.core.mappings import UserWithPosts
from playground.core.models import Model, User

from .conftest import postgres_url


async def _raise_after_commit() -> BaseException:
    """Commit a user, then read an attribute in plain code: the real MissingGreenlet."""
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.create_all)
        session_factory = async_sessionmaker(engine)
        async with session_factory() as session:
            user = User(name="Foo")
            session.add(user)
            await session.commit()
            try:
                print(user.uid)
            except Exception as exc:
                return exc
    finally:
        await engine.dispose()
    raise AssertionError("the read did not fail")


async def _raise_on_unloaded_posts(read: Callable[[UserWithPosts], object]) -> BaseException:
    """Load a user without its posts, then hand it to ``read``; what that raised."""
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.create_all)
        session_factory = async_sessionmaker(engine)
        async with session_factory() as session:
            session.add(UserWithPosts(name="Foo"))
            await session.commit()
        async with session_factory() as session:
            user = (await session.execute(select(UserWithPosts))).scalar_one()
            try:
                read(user)
            except Exception as exc:
                return exc
    finally:
        await engine.dispose()
    raise AssertionError("the read did not fail")


async def _raise_lazy() -> BaseException:
    """Load a user without its posts, then read them: the lazy loader's MissingGreenlet."""
    return await _raise_on_unloaded_posts(lambda user: print(len(user.posts)))


@pytest.fixture(scope="module")
def after_commit() -> str:
    exc = asyncio.run(_raise_after_commit())
    return "".join(traceback.format_exception(exc))


@pytest.fixture(scope="module")
def lazy() -> str:
    exc = asyncio.run(_raise_lazy())
    return "".join(traceback.format_exception(exc))


@pytest.fixture(scope="module")
def after_commit_exc() -> BaseException:
    return asyncio.run(_raise_after_commit())


def test_plain_traceback_names_the_pitfall_the_line_and_the_attribute(after_commit: str):
    diagnosis = diagnose(after_commit)
    assert diagnosis.pitfall == "expired-after-commit"
    assert diagnosis.where is not None and "test_diagnose.py" in diagnosis.where.text
    assert "print(user.uid)" in diagnosis.where.text
    assert diagnosis.attribute == "uid"
    assert diagnosis.command == "playground --scenario after-commit"
    whys = " ".join(item.why for item in diagnosis.evidence)
    assert "_load_expired" in whys


def test_lazy_loader_frames_name_the_relationship(lazy: str):
    diagnosis = diagnose(lazy)
    assert diagnosis.pitfall == "lazy-relationship"
    assert diagnosis.confidence == "high"
    assert diagnosis.attribute == "posts"
    assert diagnosis.command == "playground --scenario lazy-relationship"


@pytest.mark.parametrize("width", [60, 80, 120])
def test_rich_panels_with_locals_are_read(after_commit_exc: BaseException, width: int):
    console = Console(record=True, width=width, file=io.StringIO(), color_system="truecolor")
    exc = after_commit_exc
    console.print(Traceback.from_exception(type(exc), exc, exc.__traceback__, show_locals=True))
    panel = console.export_text(styles=True)
    assert "│" in panel and "\x1b[" in panel
    diagnosis = diagnose(panel)
    assert diagnosis.pitfall == "expired-after-commit"
    assert diagnosis.where is not None and "test_diagnose.py" in diagnosis.where.text
    assert "\x1b" not in render_text(diagnosis)


def test_ansi_colours_log_prefixes_and_windows_paths(after_commit: str):
    dressed = "\n".join(
        f"2024-05-01T10:00:00.123Z web_1  | \x1b[31m{line}\x1b[0m"
        for line in after_commit.replace("/", "\\").splitlines()
    )
    diagnosis = diagnose(dressed)
    assert diagnosis.pitfall == "expired-after-commit"
    assert diagnosis.where is not None and "test_diagnose.py" in diagnosis.where.text


def test_ipython_arrows_are_frames(after_commit: str):
    """IPython prints 'path in func' and '---> N code' instead of File lines."""
    out = []
    for line in after_commit.splitlines():
        m = re.match(r'  File "(.+)", line (\d+), in (\S+)', line)
        if m:
            out.append(f"{m.group(1)} in {m.group(3)}(self)")
            out.append(f"---> {m.group(2)} <code>")
        elif not line.startswith("    "):
            out.append(line)
    diagnosis = diagnose("\n".join(out))
    assert diagnosis.pitfall == "expired-after-commit"
    assert diagnosis.where is not None and "test_diagnose.py" in diagnosis.where.text


def test_only_the_final_line(after_commit: str):
    final = after_commit.strip().splitlines()[-1]
    diagnosis = diagnose(final)
    # MissingGreenlet alone has a dozen causes: a guess, honestly labelled, and what to add.
    assert diagnosis.confidence == "low"
    assert {diagnosis.pitfall, diagnosis.alternatives[0]} == {
        "lazy-relationship",
        "expired-after-commit",
    }
    assert "frames" in diagnosis.confirm
    assert any("stack frames" in item for item in diagnosis.missing)


def _frames_only(tb: str) -> str:
    """The last section of a traceback, without its final exception line and after."""
    last = tb.rpartition("Traceback (most recent call last):")[2]
    kept = []
    for line in last.splitlines():
        if line and not line.startswith(" "):
            break
        kept.append(line)
    return "Traceback (most recent call last):" + "\n".join(kept)


def test_text_cut_before_the_final_line_says_so(lazy: str):
    frames_only = _frames_only(lazy)
    assert "MissingGreenlet:" not in frames_only, "no exception line names it"
    diagnosis = diagnose(frames_only)
    assert "the final exception line is missing" in diagnosis.missing[0]
    assert diagnosis.pitfall == "lazy-relationship"
    # SQLAlchemy's own ``raise exc.MissingGreenlet(`` under the innermost frame says it.
    assert diagnosis.confidence == "high"
    without_raise = frames_only.rpartition("raise exc.MissingGreenlet")[0].rstrip()
    assert "MissingGreenlet" not in without_raise
    guess = diagnose(without_raise)
    assert guess.pitfall == "lazy-relationship"
    assert guess.confidence == "low", "only the loader's frames say it"


def test_a_cut_text_with_the_cause_still_in_it_is_sure(lazy: str):
    cause = (
        "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; "
        "can't call await_only() here.\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
    )
    diagnosis = diagnose(cause + _frames_only(lazy))
    assert "the final exception line is missing" in diagnosis.missing[0]
    assert diagnosis.pitfall == "lazy-relationship"
    assert diagnosis.confidence == "high"


def test_json_has_the_documented_keys(after_commit: str):
    data = diagnose(after_commit).to_json()
    for key in ("pitfall", "confidence", "evidence", "fixes", "scenario", "command"):
        assert key in data
    assert {"line", "text", "why"} <= set(data["evidence"][0])
    json.dumps(data)


def test_every_pitfall_is_one_record_with_a_lesson_rules_and_words():
    assert set(ALL) == {rule.pitfall for rule in RULES}
    assert PITFALLS == tuple(pitfall.id for pitfall in ALL)
    for pitfall in ALL:
        assert BY_ID[pitfall.id] is pitfall
        assert pitfall.title and pitfall.explanation and pitfall.fixes
        assert pitfall.words and pitfall.confirm
        assert 0 <= pitfall.strong <= len(pitfall.words)
    assert HOOK.scenario is None


def test_a_pitfall_without_a_scenario_says_so():
    text = (
        "Traceback (most recent call last):\n"
        '  File "/venv/lib/python3.12/site-packages/sqlalchemy/event/attr.py", line 497,'
        " in __call__\n"
        "    fn(*args, **kw)\n"
        '  File "/app/models.py", line 12, in stamp\n'
        "    target.updated_by = target.owner.name\n"
        '  File "/venv/lib/python3.12/site-packages/sqlalchemy/orm/strategies.py", line 978,'
        " in _load_for_state\n"
        "    return self._emit_lazyload(\n"
        "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call "
        "await_only() here. Was IO attempted in an unexpected place?\n"
    )
    diagnosis = diagnose(text)
    assert diagnosis.pitfall == "event-or-hook-io"
    assert diagnosis.command is None
    assert "no live scenario yet" in render_text(diagnosis)


def test_library_frames_source_is_not_read_as_evidence():
    """SQLAlchemy's own code under its frame mentions rollback; that is not the user's."""
    text = (
        "Traceback (most recent call last):\n"
        '  File "/srv/app.py", line 3, in main\n'
        "    print(user.name)\n"
        '  File "/v/site-packages/sqlalchemy/orm/attributes.py", line 575, in __get__\n'
        "    return self.impl.get(state, dict_)\n"
        '  File "/v/site-packages/sqlalchemy/orm/state.py", line 833, in _load_expired\n'
        "    except (exc.PendingRollbackError, IntegrityError):\n"
        "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called\n"
    )
    assert diagnose(text).pitfall == "expired-after-commit"


# Hostile input: bounded work, a clear message, nothing interpreted.


def test_empty_input():
    diagnosis = diagnose("")
    assert diagnosis.pitfall is None
    assert diagnosis.missing[0].startswith("the input is empty: paste a traceback")


def test_ten_megabytes_reads_only_the_tail(after_commit: str):
    big = "x" * (10 * 1024 * 1024) + "\n" + after_commit
    diagnosis = diagnose(big)
    assert diagnosis.pitfall == "expired-after-commit"
    assert any("earlier lines skipped" in note for note in diagnosis.notes)
    assert len(read(big).text) <= MAX_CHARS


def test_one_endless_line_is_cut():
    diagnosis = diagnose("MissingGreenlet " * 1_000_000)
    assert diagnosis.confidence == "low"
    assert any("cut" in note for note in diagnosis.notes)


def test_binary_bytes_and_nul():
    data = bytes(range(256)) * 4000 + b"\x00" * 10_000
    diagnosis = diagnose(data.decode("utf-8", errors="replace"))
    assert diagnosis.pitfall is None
    text = render_text(diagnosis)
    assert "\x00" not in text and "\x1b" not in text


def test_escape_sequences_never_reach_the_output(after_commit: str):
    hostile = after_commit.replace(
        "print(user.uid)", "print(user.uid)  \x1b]52;c;aGk=\x07\x1b[2J\x9b31m"
    )
    diagnosis = diagnose(hostile)
    assert diagnosis.pitfall == "expired-after-commit"
    rendered = render_text(diagnosis) + json.dumps(diagnosis.to_json(), ensure_ascii=False)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", rendered)


def test_many_short_lines_and_many_frames_finish():
    frames = '  File "/a.py", line 1, in f\n    x.y\n' * 200_000
    diagnosis = diagnose(frames)
    assert diagnosis.pitfall is None
    assert "the final exception line is missing" in diagnosis.missing[0]


def test_sqlalchemys_own_listeners_are_not_a_user_hook():
    """A pool's connect hook runs through the event dispatcher too; only a listener of
    someone's own code makes it an event hook."""
    text = (
        "Traceback (most recent call last):\n"
        '  File "/app/seed.py", line 9, in <module>\n'
        "    with engine.connect() as conn:\n"
        '  File "/v/site-packages/sqlalchemy/pool/base.py", line 960, in __connect\n'
        "    pool.dispatch.connect.for_modify(pool.dispatch)._exec_w_sync_on_first_run(\n"
        '  File "/v/site-packages/sqlalchemy/event/attr.py", line 497, in __call__\n'
        "    fn(*args, **kw)\n"
        '  File "/v/site-packages/sqlalchemy/engine/create.py", line 679, in first_connect\n'
        "    dialect.initialize(c)\n"
        "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call "
        "await_only() here. Was IO attempted in an unexpected place?\n"
    )
    assert "event-dispatch" not in {signal.kind for signal in find_signals(read(text))}
    assert diagnose(text).pitfall == "async-driver-in-sync-engine"


def test_a_listener_registered_on_the_sync_engine_is_not_the_sync_api_misused():
    text = (
        "engine = create_async_engine(URL)\n"
        '@event.listens_for(engine.sync_engine, "connect")\n'
        "def on_connect(dbapi_connection, record): ...\n"
        "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call "
        "await_only() here. Was IO attempted in an unexpected place?\n"
    )
    assert "sync-engine-attr" not in {signal.kind for signal in find_signals(read(text))}


def test_expire_on_commit_false_is_not_a_commit_that_expired_anything():
    def kinds(text: str) -> set[str]:
        return {signal.kind for signal in find_signals(read(text))}

    assert "commit" not in kinds("Session = async_sessionmaker(engine, expire_on_commit=False)\n")
    assert "commit" not in kinds("even with `expire_on_commit=False` set in database.py\n")
    assert "commit" in kinds("Session = async_sessionmaker(engine, expire_on_commit=True)\n")
    assert "commit" in kinds("await session.commit()\n")


def test_prose_about_tasks_sharing_a_session_is_concurrent_use():
    text = (
        "Our SQLAlchemy AsyncSession is made once at worker start-up, so jobs running at "
        "the same time end up sharing a worker session; some of them fail.\n"
    )
    assert diagnose(text).pitfall == "concurrent-session-use"


def test_sqlalchemy_api_names_make_a_text_about_sqlalchemy():
    """A pull request that never writes "SQLAlchemy" still names its hooks."""
    text = (
        "The audit before_flush hook called get_history() on every relationship, which "
        "lazy-loads the unloaded ones during the flush.\n"
    )
    assert diagnose(text).pitfall == "event-or-hook-io"


def test_a_failed_connection_check_at_start_up_points_to_a_sync_engine():
    text = (
        "Database connection failed: greenlet_spawn has not been called; can't call "
        "await_only() here.\nWaiting for database to be ready...\n"
    )
    diagnosis = diagnose(text)
    assert diagnosis.pitfall == "async-driver-in-sync-engine"
    assert diagnosis.confidence == "low"


HAS_TABLE_PROGRAM = """
import asyncio, sys
from sqlalchemy.ext.asyncio import create_async_engine

async def main():
    engine = create_async_engine(sys.argv[1])
    try:
        async with engine.connect() as conn:
            print(await conn.dialect.{call})
    finally:
        await engine.dispose()  # else aiosqlite's thread can keep the process alive

asyncio.run(main())
"""


def _stderr_of(program: str, url: str, tmp_path) -> str:
    """Run a small program for real and return what it printed on stderr."""
    script = tmp_path / "program.py"
    script.write_text(program, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    return done.stderr


def test_a_dialect_method_handed_an_async_connection_is_the_sync_api(tmp_path):
    """SQLAlchemy refuses the AsyncConnection by naming its class."""
    stderr = _stderr_of(
        HAS_TABLE_PROGRAM.replace("{call}", 'has_table(conn, "users")'),
        "sqlite+aiosqlite://",
        tmp_path,
    )
    assert "got <class 'sqlalchemy.ext.asyncio." in stderr
    assert diagnose(stderr).pitfall == "sync-api-on-async"


def test_a_library_call_left_unawaited_on_an_async_connection_is_the_sync_api(tmp_path):
    """PostgreSQL's has_schema() calls connection.scalar() and never awaits what it gets."""
    stderr = _stderr_of(
        HAS_TABLE_PROGRAM.replace("{call}", 'has_schema(conn, "public")'),
        postgres_url(),
        tmp_path,
    )
    assert "coroutine 'AsyncConnection.scalar' was never awaited" in stderr
    diagnosis = diagnose(stderr)
    assert diagnosis.pitfall == "sync-api-on-async"


def test_a_missing_await_in_ones_own_code_is_not_blamed_on_a_library():
    text = (
        "/srv/app/jobs.py:14: RuntimeWarning: coroutine 'AsyncSession.execute' was never "
        "awaited\n  rows = session.execute(stmt)\n"
    )
    assert "async-call-in-library" not in {signal.kind for signal in find_signals(read(text))}


def test_a_traceback_in_a_json_log_line_is_read_like_any_other(after_commit: str, lazy: str):
    """Structured logs keep the traceback as one escaped string; its line is the evidence."""
    for traceback_text, pitfall in (
        (after_commit, "expired-after-commit"),
        (lazy, "lazy-relationship"),
    ):
        record = {"level": "error", "logger": "app", "exc_info": traceback_text}
        text = "INFO started\n" + json.dumps(record) + "\nINFO shutting down\n"
        diagnosis = diagnose(text)
        assert diagnosis.pitfall == pitfall
        assert diagnosis.where is not None and diagnosis.where.line == 2
        assert "test_diagnose.py" in diagnosis.where.text


def test_a_traceback_in_a_repr_is_read_too(lazy: str):
    text = f"worker failed: {lazy!r}\n"
    diagnosis = diagnose(text)
    assert diagnosis.pitfall == "lazy-relationship"
    assert diagnosis.where is not None and "test_diagnose.py" in diagnosis.where.text


def test_escapes_outside_a_traceback_are_left_as_they_are():
    reading = read('{"msg": "a\\nb", "path": "C:\\\\temp\\\\new"}\n')
    assert [line.text for line in reading.lines] == [
        '{"msg": "a\\nb", "path": "C:\\\\temp\\\\new"}'
    ]


@pytest.mark.filterwarnings("ignore:Usage of the 'Session.add\\(\\)' operation:Warning")
async def test_a_commit_refused_by_the_state_guard_is_not_an_earlier_commit() -> None:
    """Two tasks commit one session; the paste stops before the final line.

    ``await session.commit()`` is on the failing stack, so it is the call that was refused,
    not a commit whose expiry a later read ran into: what is left is the state guard.
    """
    from tests.generated_cases import before_final

    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.create_all)
        session = async_sessionmaker(engine)()

        async def add(name: str) -> None:
            session.add(User(name=name))
            await session.commit()

        failures = [
            error
            for error in await asyncio.gather(add("a"), add("b"), return_exceptions=True)
            if isinstance(error, BaseException)
        ]
        await session.close()
    finally:
        await engine.dispose()
    assert failures, "SQLAlchemy let both tasks commit one session"
    text = "".join(traceback.format_exception(failures[0]))
    assert "_raise_for_prerequisite_state" in text
    cut = diagnose(before_final(text))
    assert cut.pitfall == "concurrent-session-use", cut.reason


def test_a_dropped_driver_coroutine_alone_is_still_a_guess() -> None:
    """What is left of a MissingGreenlet in a pytest summary is its coroutine warning."""
    text = (
        "FAILED test_library.py::test_titles - sqlalchemy.exc.StatementEr...\n"
        "  RuntimeWarning: coroutine 'Connection.cursor' was never awaited\n"
    )
    diagnosis = diagnose(text)
    assert diagnosis.pitfall == "lazy-relationship"
    assert diagnosis.confidence == "low"


@pytest.mark.parametrize(
    ("columns", "want"),
    [
        ("documents.content", "deferred-column"),
        ("members.bio, members.website", "deferred-column"),
        ("tickets.revision", "server-default-onupdate"),
        ("users.updated_at", "server-default-onupdate"),
    ],
)
def test_a_partial_reload_leans_on_what_its_columns_are_named(columns: str, want: str) -> None:
    """Only some columns reloaded: large values are what one defers, the rest most often
    come from the database."""
    table = columns.split(".", 1)[0]
    text = (
        "sqlalchemy.exc.StatementError: (sqlalchemy.exc.MissingGreenlet) greenlet_spawn has "
        "not been called; can't call await_() here. Was IO attempted in an unexpected place?\n"
        f"[SQL: SELECT {columns} \nFROM {table} \nWHERE {table}.id = ?]\n"
        "[parameters: [{'pk_1': 1}]]\n"
    )
    assert diagnose(text).pitfall == want


async def test_a_plain_with_or_for_on_an_asyncio_object_is_the_sync_api() -> None:
    """Python refuses ``with AsyncSession()`` and ``for`` over an async result on the
    user's own line; the answer says so, offers async with / async for first, and does
    not ask for SQLAlchemy frames that such a traceback never has."""
    from sqlalchemy import text as sql
    from sqlalchemy.ext.asyncio import AsyncSession

    engine = create_async_engine("sqlite+aiosqlite://")
    errors: list[BaseException] = []
    try:
        try:
            with AsyncSession(engine):  # type: ignore[attr-defined]
                pass
        except (TypeError, AttributeError) as error:  # AttributeError: __enter__ before 3.11
            errors.append(error)
        async with AsyncSession(engine) as session:
            result = await session.stream(sql("select 1"))
            try:
                for _row in result:  # type: ignore[attr-defined]
                    pass
            except TypeError as refused:
                errors.append(refused)
            await result.close()
    finally:
        await engine.dispose()
    assert len(errors) == 2
    for caught in errors:
        diagnosis = diagnose("".join(traceback.format_exception(caught)))
        assert diagnosis.pitfall == "sync-api-on-async", diagnosis.reason
        assert diagnosis.confidence == "high"
        assert diagnosis.fixes[0].code.startswith("async with")
        assert diagnosis.where is not None
        assert not any("SQLAlchemy's own frames" in lack for lack in diagnosis.missing)


async def test_an_object_handed_to_another_session_is_a_detached_object() -> None:
    """Adding or refreshing, in a second session, an object the first one holds is refused;
    the answer is the detached-object pitfall, with merge() first."""
    engine = create_async_engine("sqlite+aiosqlite://")
    errors: list[BaseException] = []
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.create_all)
        factory = async_sessionmaker(engine)
        async with factory() as first, factory() as second:
            user = User(name="a")
            first.add(user)
            await first.flush()
            try:
                second.add(user)
            except Exception as error:  # noqa: BLE001 - the refusal is what is diagnosed
                errors.append(error)
            try:
                await second.refresh(user)
            except Exception as refused:  # noqa: BLE001
                errors.append(refused)
    finally:
        await engine.dispose()
    assert len(errors) == 2
    for caught in errors:
        diagnosis = diagnose("".join(traceback.format_exception(caught)))
        assert diagnosis.pitfall == "closed-session-detached", diagnosis.reason
        assert "merge(" in diagnosis.fixes[0].code


def test_a_sync_driver_in_create_async_engine_is_named_in_the_answer() -> None:
    """Not one of the pitfalls, but the answer says what the URL needs."""
    try:
        create_async_engine("sqlite:///unused.db")
    except Exception as error:  # noqa: BLE001
        text = "".join(traceback.format_exception(error))
    else:
        pytest.fail("create_async_engine accepted a synchronous driver")
    diagnosis = diagnose(text)
    assert diagnosis.pitfall is None
    assert "sqlite+aiosqlite://" in diagnosis.reason


async def test_sql_from_an_after_commit_listener_is_a_hook_and_a_rolled_back_state_is_not(
    tmp_path,
) -> None:
    """The committed state refuses SQL run by an after_commit listener (a hook); the
    inactive state that a rollback leaves is worded alike but is no hook."""
    from sqlalchemy import event

    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.create_all)
        async with async_sessionmaker(engine)() as session:

            @event.listens_for(session.sync_session, "after_commit")
            def audit(sync_session) -> None:  # type: ignore[no-untyped-def]
                sync_session.execute(select(User))

            session.add(User(name="a"))
            with pytest.raises(Exception) as raised:
                await session.commit()
    finally:
        await engine.dispose()
    text = "".join(traceback.format_exception(raised.value))
    assert "is in 'committed' state" in text
    assert diagnose(text).pitfall == "event-or-hook-io"

    inactive = (
        "sqlalchemy.exc.InvalidRequestError: This session is in 'inactive' state, due to the "
        "SQL transaction being rolled back; no further SQL can be emitted within this "
        "transaction.\n"
    )
    kinds = {signal.kind for signal in find_signals(read(inactive))}
    assert "committed-state" not in kinds
    assert "rollback" in kinds


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (
            "sqlalchemy_utils database_exists(settings.DATABASE_URL) raises MissingGreenlet "
            "at start-up",
            "async-driver-in-sync-engine",
        ),
        (
            "MissingGreenlet when I expand the user object in the PyCharm debugger",
            "repr-or-logging",
        ),
    ],
)
def test_prose_naming_what_builds_a_sync_engine_or_formats_an_object(text: str, want: str) -> None:
    """sqlalchemy-utils makes a synchronous engine from the URL it gets; a debugger shows an
    object by reading its attributes."""
    assert diagnose(text + "\n").pitfall == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("greenletがインストールされていないので ValueError になる", "greenlet-missing"),
        ("服务器上 greenlet 没有安装，启动时报错", "greenlet-missing"),
        ("提交后访问 user.name 报 MissingGreenlet", "expired-after-commit"),
        (
            "MissingGreenlet: after I closed the session the handler read order.items",
            "closed-session-detached",
        ),
        ("MissingGreenlet when my to_dict() reads user.posts", "serialization-lazy"),
    ],
)
def test_prose_in_other_words_and_languages(text: str, want: str) -> None:
    """Mechanism words in prose, in English and other languages, weigh as usual; a
    Japanese particle right after "greenlet" does not hide the word."""
    assert diagnose(text + "\n").pitfall == want


async def test_a_result_method_called_on_the_session_is_a_wrong_name_not_the_sync_api() -> None:
    """``session.scalar_one()`` does not exist on any session (it is a result's method);
    ``session.query()`` exists on the sync Session only. SQLAlchemy's classes decide."""
    from sqlalchemy.ext.asyncio import AsyncSession

    engine = create_async_engine("sqlite+aiosqlite://")
    errors: dict[str, BaseException] = {}
    try:
        async with AsyncSession(engine) as session:
            for name in ("scalar_one", "query"):
                try:
                    getattr(session, name)(select(User))
                except AttributeError as error:
                    errors[name] = error
    finally:
        await engine.dispose()
    wrong = diagnose("".join(traceback.format_exception(errors["scalar_one"])))
    assert wrong.pitfall is None
    assert "wrong method name" in wrong.reason
    sync = diagnose("".join(traceback.format_exception(errors["query"])))
    assert sync.pitfall == "sync-api-on-async"


async def test_another_sqlalchemy_error_is_named_as_such_not_as_a_pitfall() -> None:
    """A nested begin(), a one-row query finding none, a bare SQL string: SQLAlchemy names
    each problem itself; beside code that commits and rolls back, the answer is still none,
    with the problem said in words."""
    from sqlalchemy import text as sql
    from sqlalchemy.ext.asyncio import AsyncSession

    engine = create_async_engine("sqlite+aiosqlite://")
    errors: list[BaseException] = []
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.create_all)
        async with AsyncSession(engine) as session:
            await session.execute(sql("select 1"))
            try:
                await session.begin()
            except Exception as error:  # noqa: BLE001 - each refusal is diagnosed
                errors.append(error)
            try:
                (await session.execute(select(User))).scalar_one()
            except Exception as error:  # noqa: BLE001
                errors.append(error)
            try:
                await session.execute("select 1")  # type: ignore[call-overload]
            except Exception as error:  # noqa: BLE001
                errors.append(error)
    finally:
        await engine.dispose()
    assert len(errors) == 3
    code = "await session.commit()\nexcept Exception:\n    await session.rollback()\n"
    for caught in errors:
        text = "".join(traceback.format_exception(caught))
        diagnosis = diagnose(text + code)
        assert diagnosis.pitfall is None, (diagnosis.pitfall, text)
        assert "another problem" in diagnosis.reason


async def test_a_file_name_or_an_import_is_not_prose_about_a_mechanism():
    """pytest's ``--tb=line`` prints the innermost frame's file first: SQLAlchemy's
    ``util/concurrency.py`` is no word for concurrent use, and an import of
    ``relationship`` is no word for lazy loading; the same words in the message count."""
    from playground.core.diagnose.guess import find_words

    error = await _raise_after_commit()
    innermost = traceback.extract_tb(error.__traceback__)[-1]
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    line = f"{innermost.filename}:{innermost.lineno}: {name}: {error}"
    assert "concurrency" in innermost.filename
    pasted = f"from sqlalchemy.orm import relationship\n{line}\n"
    assert not {word.pitfall.id for word in find_words(read(pasted))}
    assert diagnose(pasted).pitfall != "concurrent-session-use"
    spoken = pasted + "It happens when two tasks use the session concurrently, via lazy loading.\n"
    found = {word.pitfall.id for word in find_words(read(spoken))}
    assert {"concurrent-session-use", "lazy-relationship"} <= found


def test_two_patterns_on_the_same_words_are_one_word():
    """The words "lazy load" are both a lazy load and the word lazy: they weigh once, so
    a serializer named beside them is not outweighed by a double count; the word lazy
    elsewhere in the text still counts on its own."""
    from playground.core.diagnose.guess import find_words

    once = "The pydantic schema triggers a lazy load of reminders, raising MissingGreenlet."
    lazy = [w for w in find_words(read(once)) if w.pitfall.id == "lazy-relationship"]
    assert len(lazy) == 1
    twice = once + "\nSetting lazy='selectin' on the relationship made it go away."
    lazy = [w for w in find_words(read(twice)) if w.pitfall.id == "lazy-relationship"]
    assert len(lazy) >= 2
    assert diagnose(once).pitfall == "serialization-lazy"


def test_a_method_the_installed_release_has_is_an_older_release_not_a_misuse():
    """An asyncio class said to lack a method the installed SQLAlchemy's class has (early
    1.4's async_scoped_session had no scalars()) needs an upgrade, not async code; a
    name the class really lacks (the sync session's query) is still the sync API."""
    from sqlalchemy.ext.asyncio import AsyncSession, async_scoped_session

    assert hasattr(async_scoped_session, "scalars")
    assert not hasattr(AsyncSession, "query")
    older = diagnose("AttributeError: 'async_scoped_session' object has no attribute 'scalars'")
    assert older.pitfall is None
    assert "upgrading SQLAlchemy" in older.reason
    for text in (
        "AttributeError: 'AsyncSession' object has no attribute 'query'",
        "AttributeError: 'async_scoped_session' object has no attribute 'query'",
    ):
        assert diagnose(text).pitfall == "sync-api-on-async", text


async def _raise_validation(from_orm: bool) -> BaseException:
    """Validate a pydantic model from a user whose posts were never loaded (the real
    ValidationError around a MissingGreenlet), or from a dict that lacks a field."""
    from playground.core.scenarios.serialization import UserOut

    if from_orm:
        return await _raise_on_unloaded_posts(
            lambda user: UserOut.model_validate(user, from_attributes=True)
        )
    try:
        UserOut.model_validate({"uid": 1, "name": "Foo"})
    except Exception as exc:
        return exc
    raise AssertionError("the validation did not fail")


def _cut_after_validation_line(text: str) -> str:
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if "validation error for" in line)
    return "\n".join(lines[: first + 1])


def test_a_validation_error_from_orm_attributes_cut_before_its_details_is_a_serializer():
    """Cut just under pydantic's first line, the ValidationError that wraps a
    MissingGreenlet no longer names it; the model built from the ORM object still points at
    the serializer, as a low guess that asks for the lines under it. A dict's validation
    error cut the same way relates to nothing of SQLAlchemy."""
    orm = "".join(traceback.format_exception(asyncio.run(_raise_validation(True))))
    assert "MissingGreenlet" in orm and "from_attributes=True" in orm
    whole = diagnose(orm)
    assert whole.pitfall == "serialization-lazy"
    cut = diagnose(_cut_after_validation_line(orm))
    assert "MissingGreenlet" not in _cut_after_validation_line(orm)
    assert (cut.pitfall, cut.confidence) == ("serialization-lazy", "low")
    assert any("lines under the ValidationError" in lack for lack in cut.missing)
    plain = "".join(traceback.format_exception(asyncio.run(_raise_validation(False))))
    assert "Field required" in plain
    assert diagnose(_cut_after_validation_line(plain)).pitfall is None


async def _asyncio_mistakes() -> dict[str, str]:
    """Commit the common asyncio-API mistakes that are none of the pitfalls, for real, and
    keep what each prints: the error line, or the warning a dropped coroutine leaves."""
    import gc
    import warnings

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    printed: dict[str, str] = {}
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Model.metadata.create_all)
        factory = async_sessionmaker(engine)
        async with factory() as session:
            pending = session.execute(select(User))
            try:
                pending.scalars()  # type: ignore[attr-defined]
            except AttributeError as exc:
                printed["no await on execute"] = f"AttributeError: {exc}"
            pending.close()
        try:
            async with async_sessionmaker(engine) as session:  # type: ignore[attr-defined]
                pass
        except (TypeError, AttributeError) as exc:
            # Python 3.10 says only AttributeError: __aenter__; the frame shows the line.
            printed["the factory in async with"] = "".join(traceback.format_exception(exc))
        async with factory() as session:
            session.add_all([User(uid=1, name="a"), User(uid=1, name="b")])
            try:
                await session.flush()
            except Exception:
                pass
            try:
                await session.execute(select(User))
            except Exception as exc:
                printed["used after a failed flush"] = "".join(traceback.format_exception(exc))
        from playground.core.scenarios.serialization import UserOut

        async with factory() as session, session.begin():
            user = User(uid=2, name="c")
            session.add(user)
            await session.commit()
            try:
                UserOut.model_validate(user, from_attributes=True)
            except Exception as exc:
                printed["commit inside begin()"] = "".join(traceback.format_exception(exc))
        gc.collect()  # earlier tests' dropped coroutines warn now, not in the block below
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            async with factory() as session:
                session.commit()  # type: ignore[unused-coroutine]
            gc.collect()
        printed["no await on commit"] = "\n".join(
            f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}"
            for w in caught
            if "AsyncSession.commit" in str(w.message)
        )
        sync_engine = create_engine("sqlite://")
        Model.metadata.create_all(sync_engine)
        with Session(sync_engine) as sync_session:
            try:
                await sync_session.execute(select(User))  # type: ignore[misc]
            except TypeError as exc:
                printed["await on a sync session"] = "".join(traceback.format_exception(exc))
        sync_engine.dispose()
    finally:
        await engine.dispose()
    return printed


def test_asyncio_mistakes_outside_the_pitfalls_are_none_and_named():
    """A missing await, the session factory in async with, a session used after a failed
    flush, an awaited synchronous result, a commit inside ``session.begin()`` followed by a
    serializer's read: each really raised, each answered none with its own problem in
    words, never "nothing relates to SQLAlchemy"."""
    printed = asyncio.run(_asyncio_mistakes())
    expected = {
        "no await on execute": "scalars() is a method of the result",
        "the factory in async with": "async with factory() as session",
        "used after a failed flush": "without rollback()",
        "no await on commit": "was not awaited",
        "await on a sync session": "a synchronous Session or Connection ran the statement",
        "commit inside begin()": "drop the inner commit() and let the block commit",
    }
    assert set(printed) == set(expected)
    for case, words in expected.items():
        diagnosis = diagnose(printed[case])
        assert diagnosis.pitfall is None, (case, diagnosis.pitfall)
        assert words in diagnosis.reason, (case, diagnosis.reason)
        assert diagnosis.missing == (), (case, diagnosis.missing)  # nothing more to ask for


def test_a_serializer_and_an_unloaded_relationship_named_together_are_one_pitfall():
    """Prose that names a serializer and a relationship it read (in any language) is the
    serializer reading the relationship; a database "schema" is no serializer, and the
    relationship alone stays a lazy load."""
    both = (
        "start_session() returned the raw ORM object and MissingGreenlet was raised when "
        "FastAPI read the relationship `answers`."
    )
    assert diagnose(both).pitfall == "serialization-lazy"
    assert diagnose("The pydantic model reads a relationship: MissingGreenlet.").pitfall == (
        "serialization-lazy"
    )
    alone = "MissingGreenlet when the handler reads the relationship `answers`."
    assert diagnose(alone).pitfall == "lazy-relationship"
    database = "After a schema migration, reading relationship `answers`: MissingGreenlet."
    assert diagnose(database).pitfall == "lazy-relationship"


def test_french_prose_about_an_object_expired_by_a_commit():
    """ "expiré" is the French for expired: beside a commit, the read after it reloads."""
    text = (
        "Premier appel: `commit()` → l'objet `user_deck` est expiré; à l'itération "
        "suivante, `user_deck.deck_pk` lève MissingGreenlet."
    )
    assert diagnose(text).pitfall == "expired-after-commit"
