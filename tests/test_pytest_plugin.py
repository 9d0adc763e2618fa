"""The pytest plugin on real failing tests: a diagnosis section only for this family of errors.

Each case writes a small test file that really runs SQLAlchemy (SQLite through
aiosqlite) and runs pytest on it in a subprocess, as a user's suite would run with the
package installed (the plugin arrives through its ``pytest11`` entry point).
"""

from __future__ import annotations

import pytest

MODEL = """
import asyncio

from sqlalchemy import String
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(80))
"""

EXPIRED_TEST = (
    MODEL
    + """

async def create(email):
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    Session = async_sessionmaker(engine)
    async with Session() as session:
        account = Account(email=email)
        session.add(account)
        await session.commit()
        return account.email


def test_create_returns_the_email():
    assert asyncio.run(create("ada@example.com")) == "ada@example.com"


def test_plain_failure():
    assert 1 + 1 == 3
"""
)


READ_LINE = EXPIRED_TEST.strip().split("\n").index("        return account.email") + 1


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_accounts=EXPIRED_TEST)
    return pytester


def test_a_missing_greenlet_failure_gets_the_pitfall_the_test_line_and_the_fix(
    suite: pytest.Pytester,
):
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert out.count("playground diagnosis") == 1, "only the async-ORM failure gets one"
    result.stdout.fnmatch_lines(
        [
            "*- playground diagnosis -*",
            "Pitfall: expired-after-commit (* confidence)*",
            f"Test line: test_accounts.py:{READ_LINE}  return account.email",
            "*expire_on_commit=False*",
            "See it live: playground --scenario after-commit",
        ]
    )


def test_no_playground_turns_it_off(suite: pytest.Pytester):
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:playground")
    result.assert_outcomes(failed=2)
    assert "playground diagnosis" not in result.stdout.str()


def test_a_passing_suite_is_untouched(pytester: pytest.Pytester):
    pytester.makepyfile(test_ok="def test_ok():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "playground diagnosis" not in result.stdout.str()


REPR_TEST = (
    MODEL
    + """
    def __repr__(self):
        return f"Account({self.email!r})"


async def check_saved():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    Session = async_sessionmaker(engine)
    try:
        async with Session() as session:
            account = Account(email="ada@example.com")
            session.add(account)
            await session.commit()
            assert account is None
    finally:
        await engine.dispose()  # else aiosqlite's thread can keep the process alive


def test_saved():
    asyncio.run(check_saved())
"""
)


def test_an_error_pytest_caught_in_repr_gets_the_repr_pitfall(pytester: pytest.Pytester):
    """pytest formats the object for its assertion message and swallows what __repr__ raised.

    The failure is an AssertionError; the async-ORM error is only in its message.
    """
    pytester.makepyfile(test_repr=REPR_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*raised in repr()*",
            "*- playground diagnosis -*",
            "Pitfall: repr-or-logging (* confidence)*",
        ]
    )
