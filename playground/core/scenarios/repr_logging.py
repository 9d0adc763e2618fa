"""Logging and ``__repr__``: a repr that reads columns, called on an expired object.

``logger.info("saved %r", user)`` formats its message inside the logging machinery,
which catches the error, prints "--- Logging error ---" to stderr and lets the program
go on without the log line. The same repr in an f-string raises where it is written.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..explain import committed_rows, failure, greenlet_error, how_raised
from ..models import TABLE_PREFIX
from ..names import visible
from ..results import LOGGING_ERROR, ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, expire_on_commit, fix, variation
from .script import BASE_IMPORTS, add_user_lines, lab_session_body, lines, marked

FSTRING = "fstring"
EXPIRE = "expire_on_commit"
SAFE_REPR = "loaded_only_repr"
REFRESH = "refresh_after_commit"

LOGGER_NAME = "app"
LOG_FORMAT = "%(levelname)s:%(name)s:%(message)s"
"""logging's own default format, as ``basicConfig`` sets it in the script."""
LOG_LINE = "log line: "
"""The prefix of the run's note that holds a line the log really received."""

COMMIT_STEP = "await session.commit()"
LAZY_CALL = 'logger.info("saved %r", user)'
EAGER_CALL = 'logger.info(f"saved {user!r}")'

FIXES = (
    Fix("repr without IO", "def __repr__(self): values = inspect(self).dict  # loaded only"),
    Fix("reload inside the greenlet", "await session.refresh(user)  # before logging"),
    Fix("keep values", "async_sessionmaker(engine, expire_on_commit=False)"),
)
"""What ends the error, raised or swallowed: a repr that loads nothing comes first."""


class ReprModel(DeclarativeBase):
    """A registry of its own: the lab's users table mapped again, with other reprs.

    Its metadata is never created or dropped; the lab's own models make the table.
    """


class ReadingUser(ReprModel):
    """A user whose ``__repr__`` reads its columns, as most hand-written reprs do."""

    __tablename__ = f"{TABLE_PREFIX}users"

    uid: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]

    def __repr__(self) -> str:
        return f"User(uid={self.uid!r}, name={self.name!r})"


class PeekingUser(ReprModel):
    """A user whose ``__repr__`` shows only the values already loaded, never loading any."""

    __table__ = ReadingUser.__table__

    def __repr__(self) -> str:
        values = inspect(self).dict
        return f"User(uid={values.get('uid', '?')!r}, name={values.get('name', '?')!r})"


class CapturingHandler(logging.Handler):
    """A log handler keeping its lines in memory, and its error reports too, not on stderr.

    ``emit`` does what ``StreamHandler.emit`` does: format, and on any error hand over to
    ``handleError``. That is logging's own, run with ``sys.stderr`` pointed at a buffer
    for the moment it prints (nothing else runs meanwhile), so under the app nothing
    reaches the terminal, and the text is exactly what a program would print.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self.lines: list[str] = []
        self.errors = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        with contextlib.redirect_stderr(self.errors):
            super().handleError(record)


@contextlib.contextmanager
def captured_logger() -> Iterator[tuple[logging.Logger, CapturingHandler]]:
    """The scenario's logger, at INFO, writing only to a capturing handler while inside."""
    logger = logging.getLogger(LOGGER_NAME)
    handler = CapturingHandler()
    saved = (logger.level, logger.propagate)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield logger, handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


class ReprLogging(Scenario):
    """Commit a user, log it with ``%r``, and go on; or format it in an f-string."""

    group = "Serializing and logging"
    order = 75
    title = "Logging an expired object"
    shows = (
        '`logger.info("saved %r", user)` swallows MissingGreenlet: '
        '"--- Logging error ---" on stderr, the line lost, the program goes on; an f-string '
        "raises it; fixed by a repr of loaded values only or a refresh"
    )
    summary = 'commit a user, then logger.info("saved %r", user), then carry on'
    read_expression = "uid"
    options = (
        variation(FSTRING, "f-string message", 'logger.info(f"saved {user!r}")', "f-string"),
        expire_on_commit(fix_off=True),
        fix(SAFE_REPR, "repr of loaded values", "__repr__ reads inspect(self).dict", "safe repr"),
        fix(REFRESH, "refresh after commit", "await session.refresh(user)", "refresh"),
    )

    async def run(self, run: Run) -> object:
        settings = run.settings
        session = run.session
        cls: Any = PeekingUser if settings[SAFE_REPR] else ReadingUser
        user = cls(name=run.user_input)
        with run.step("user = User(name=...)"):
            run.track(user)
        run.step("session.add(user)")
        session.add(user)
        with run.step("await session.flush(); uid = user.uid"):
            await session.flush()
            uid: int = user.uid
        with run.step(COMMIT_STEP):
            await session.commit()
            run.record_commit(user, run.user_input)
        if settings[REFRESH]:
            await run.refresh(user)
        with captured_logger() as (logger, handler):
            if settings[FSTRING]:
                # The f-string is built before logging is called: nothing catches its error.
                run.read(EAGER_CALL, lambda: logger.info(f"saved {user!r}"))
            else:
                run.read(LAZY_CALL, lambda: logger.info("saved %r", user))
        for line in handler.lines:
            run.note(LOG_LINE + line)
        if handler.errors.getvalue():
            run.stderr.append(handler.errors.getvalue())
        run.step("print(uid)  # the program goes on")
        return uid

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        logged = [n[len(LOG_LINE) :] for n in result.notes if n.startswith(LOG_LINE)]
        if error is not None:
            if error.involves_missing_greenlet:
                return greenlet_error(
                    result,
                    "MissingGreenlet from __repr__, raised by the f-string",
                    "the f-string called repr(user) before logging ran; nothing caught it",
                    (
                        f"The commit expired {_expired_by_commit(result)}; the f-string "
                        "called repr(user) right where it is written, and the repr read uid, "
                        "which needed a SELECT outside the greenlet.",
                        "logging was never even called: an f-string is built before the call, "
                        "so its error propagates like any other and stops the program.",
                    ),
                    FIXES,
                )
            return failure(result, how_raised(error))
        if LOGGING_ERROR in result.stderr:
            return self._explain_swallowed(result)
        how = "the object still held its values"
        if result.setting(SAFE_REPR):
            how = "the repr showed only what was loaded and loaded nothing"
        if result.setting(REFRESH):
            how = "refresh() had reloaded the values inside the greenlet"
        if not result.setting(EXPIRE):
            how = "expire_on_commit=False kept the values through the commit"
        return Explanation(
            f"logged, then {result.outcome.expression} = {result.outcome.value}",
            f"the log line was written: {how}",
            (
                f"The log received: {visible(logged[0])}" if logged else "Nothing was logged.",
                f"repr(user) needed no IO: {how}.",
            ),
        )

    def _explain_swallowed(self, result: ExperimentResult) -> Explanation:
        text = result.stderr
        raised = re.findall(r"^(sqlalchemy\.exc\.\w+): ", text, re.MULTILINE)
        refused = raised[-1].rsplit(".", 1)[-1] if raised else "an exception"
        reports = text.count(LOGGING_ERROR)
        twice = "Unable to print the message and arguments" in text
        why = [
            f"The commit expired {_expired_by_commit(result)}. logging formats the message "
            "only when a handler writes it, so repr(user) ran inside the handler, read uid, "
            "and needed a SELECT outside the greenlet.",
            f"The handler caught the {refused} and printed {reports} logging error report"
            f"{'s' if reports > 1 else ''} to stderr; logger.info returned normally, the "
            "program went on, and the line never reached the log.",
        ]
        if twice:
            why.append(
                "Even the report's own 'Arguments:' line failed: printing the arguments calls "
                "repr(user) again, so stderr says 'Unable to print the message and arguments'."
            )
        why += [
            "Nothing raised, so no except clause or error handler sees it; the only trace is "
            "the report on stderr, easy to miss among other output.",
            committed_rows(result),
        ]
        every = text.splitlines()
        # Frame lines are indented; the unindented ones tell the story (types, SQL, advice).
        excerpt = [visible(line) for line in every if line.strip() and not line[0].isspace()]
        heading = (
            f"What stderr received ({len(every)} lines; frames left out here; the script "
            "prints them all):"
        )
        return Explanation(
            "Logging error: the log line was lost, the program went on",
            f"logging caught {refused} from __repr__ and wrote '{LOGGING_ERROR}' to stderr",
            tuple(why),
            FIXES,
            (heading, *excerpt),
        )

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        if chosen[SAFE_REPR]:
            repr_lines = lines(
                marked("    def __repr__(self) -> str:  # shows what is loaded, loads nothing"),
                marked("        values = inspect(self).dict"),
                marked(
                    "        return f\"User(uid={values.get('uid', '?')!r}, "
                    "name={values.get('name', '?')!r})\""
                ),
            )
        else:
            repr_lines = lines(
                marked("    def __repr__(self) -> str:", False),
                marked('        return f"User(uid={self.uid!r}, name={self.name!r})"', False),
            )
        steps = lines(
            add_user_lines(f"User(name={name!r})", 8),
            marked("        await session.refresh(user)") if chosen[REFRESH] else None,
            marked(f"        {EAGER_CALL}")
            if chosen[FSTRING]
            else marked(f"        {LAZY_CALL}", False),
            "        print(uid)  # the program goes on",
        )
        logger_lines = f"""
logging.basicConfig(level=logging.INFO)
logger = logging.getLogger({LOGGER_NAME!r})
"""
        body = logger_lines + lab_session_body(chosen[EXPIRE], steps, "", repr_lines)
        imports = lines(
            "import logging",
            "",
            marked("from sqlalchemy import inspect") if chosen[SAFE_REPR] else None,
            *BASE_IMPORTS,
        )
        return body, (imports,)


def _expired_by_commit(result: ExperimentResult) -> str:
    """The attributes the commit expired, as the state snapshot after it shows."""
    after = next((s for s in result.states if s.step == COMMIT_STEP), None)
    return " and ".join(after.expired) if after and after.expired else "nothing"


SCENARIO = ReprLogging()
