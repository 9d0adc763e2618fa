"""Code pasted with little or no error text: the diagnosis reads it with the code signs.

These are the forms people paste when they ask "why does this fail?": a few lines, no
traceback. The same signs ``playground check`` reports point to the pitfall and the line.
"""

from __future__ import annotations

import pytest

from playground.core.diagnose import diagnose

CASES = {
    "create_all on an async engine": (
        'engine = create_async_engine("postgresql+asyncpg://u@h/db")\n'
        "Base.metadata.create_all(engine)\n",
        "sync-api-on-async",
        2,
    ),
    "create_engine with an async driver": (
        "from sqlalchemy import create_engine, text\n"
        'engine = create_engine("postgresql+asyncpg://user:pw@localhost/app")\n'
        "with engine.connect() as conn:\n"
        '    conn.execute(text("select 1"))\n',
        "async-driver-in-sync-engine",
        2,
    ),
    "gather over one session": (
        "async def main():\n"
        "    async with Session() as session:\n"
        "        await asyncio.gather(load_user(session, 1), load_user(session, 2))\n",
        "concurrent-session-use",
        3,
    ),
    "a response model over a relationship": (
        "class UserOut(BaseModel):\n"
        "    model_config = ConfigDict(from_attributes=True)\n"
        "    id: int\n"
        "    posts: list[PostOut]\n"
        "\n"
        "class User(Base):\n"
        '    __tablename__ = "users"\n'
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        '    posts: Mapped[list["Post"]] = relationship()\n'
        "\n"
        '@app.get("/users/{uid}")\n'
        "async def get_user(uid: int, session: AsyncSession = Depends(get_session)):\n"
        "    user = await session.get(User, uid)\n"
        "    return UserOut.model_validate(user)\n",
        "serialization-lazy",
        14,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_code_alone_names_the_pitfall_and_the_line(name: str):
    text, pitfall, line = CASES[name]
    diagnosis = diagnose(text)
    assert diagnosis.pitfall == pitfall, diagnosis.reason
    assert diagnosis.where is not None and diagnosis.where.line == line
    assert "your code" in diagnosis.where.why
    assert diagnosis.confidence in ("low", "medium"), "code alone is never sure"


def test_code_beside_a_bare_message_is_read_with_it():
    code = CASES["gather over one session"][0]
    text = (
        "Getting this in production, any idea?\n```python\n"
        + code
        + "```\nsqlalchemy.exc.InvalidRequestError: This session is provisioning a new "
        "connection; concurrent operations are not permitted\n"
    )
    diagnosis = diagnose(text)
    assert diagnosis.pitfall == "concurrent-session-use"
    assert diagnosis.confidence == "high"
    assert any("your code" in item.why for item in diagnosis.evidence)


def test_code_of_another_library_is_not_taken_for_sqlalchemy():
    text = (
        "async def t():\n"
        "    async with db.transaction():\n"
        "        await Model.query.gino.first()\n"
        "await asyncio.gather(*[t() for i in range(5)])\n"
        "asyncpg.exceptions._base.InterfaceError: cannot perform operation: another "
        "operation is in progress\n"
        "(gino 0.8.3)\n"
    )
    assert diagnose(text).pitfall is None
