"""Serialization: a pydantic response model reads a relationship the query never loaded.

This is what FastAPI's ``response_model`` does with an ORM object. pydantic catches the
exception while it reads each attribute and reports only its text, inside a
``ValidationError`` with no exception chain, so SQLAlchemy's own frames never reach
the traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from sqlalchemy.orm import selectinload

from ..explain import committed_rows, error_link, failure, how_raised, short_type
from ..mappings import UserWithPosts
from ..results import ExperimentResult, Explanation, Fix, StateSnapshot
from .api import Program, Run, Scenario, expire_on_commit, fix, variation
from .script import (
    ORM_NAMES,
    TWO_POSTS,
    engine_lines,
    lines,
    load_user_lines,
    marked,
    orm_import,
    sessionmaker_line,
    user_with_posts_model,
    write_then_show,
)

SELECTIN = "selectinload"
FLAT = "flat_model"
JUST_COMMITTED = "just_committed"
EXPIRE = "expire_on_commit"

WRITE_STEP = "async with Session() as session:  # a request creates a user with two posts"
RESPOND = "async with Session() as session:  # a request reads it and responds"
READ_STEP = "user = (await session.execute(query)).scalar_one()"
COMMIT_STEP = "await session.commit()  # the request commits before it responds"
VALIDATE_STEP = "UserOut.model_validate(user, from_attributes=True).model_dump_json()"

FIX_SELECTIN = Fix("load posts in the query", "select(User).options(selectinload(User.posts))")
FIX_FLAT = Fix("respond without the relationship", "class UserOut(BaseModel): uid: int; name: str")
FIX_KEEP = Fix("keep values after the commit", "async_sessionmaker(engine, expire_on_commit=False)")

GRIPE = re.compile(r"^(\S+)\n  Error extracting attribute: (\S+?): (.*)$", re.MULTILINE)
"""One failed field in a ValidationError's text: its location, the error's type, the rest."""


class PostOut(BaseModel):
    """A post as the API returns it."""

    pid: int
    title: str


class UserOut(BaseModel):
    """A user as the API returns it, posts included: the relationship gets read."""

    uid: int
    name: str
    posts: list[PostOut]


class FlatUserOut(BaseModel):
    """A user as the API returns it, without the relationship."""

    uid: int
    name: str


@dataclass(frozen=True)
class FailedField:
    """A field pydantic could not read, as its error text names it."""

    field: str
    error_type: str
    greenlet: bool
    """True when the text pydantic kept mentions MissingGreenlet."""


def failed_fields(text: str) -> list[FailedField]:
    """The fields a ValidationError's text says could not be read, in its order."""
    return [
        FailedField(field, error_type, "MissingGreenlet" in error_type + rest)
        for field, error_type, rest in GRIPE.findall(text)
    ]


def validation_text(result: ExperimentResult) -> str:
    """The ValidationError's full text, which the traceback's last lines carry whole."""
    error = result.outcome.error
    if error is None:
        return ""
    marker = f"{error.outer.type_name}: "
    traceback = error.traceback
    return traceback[traceback.rfind(marker) + len(marker) :] if marker in traceback else ""


class Serialization(Scenario):
    """Load a user with ``select()`` and hand it to a pydantic model, as FastAPI would."""

    group = "Serializing and logging"
    order = 70
    title = "Serializing with pydantic"
    shows = (
        "pydantic's `ValidationError` (`get_attribute_error`) with MissingGreenlet only as "
        "text and no exception chain; fixed by `selectinload` or a response model without "
        "the relationship; after a commit neither helps"
    )
    summary = "select() a user, then UserOut.model_validate(user, from_attributes=True)"
    read_expression = "UserOut.model_validate(user, from_attributes=True).model_dump_json()"
    uses_lab_session = False
    options = (
        fix(SELECTIN, "selectinload(User.posts)", "load posts with the user", "selectin"),
        fix(FLAT, "model without posts", "UserOut has no posts field", "flat"),
        variation(
            JUST_COMMITTED, "commit before responding", "await session.commit() first", "commit"
        ),
        expire_on_commit(),
    )

    async def run(self, run: Run) -> object:
        settings = run.settings
        session_factory = run.session_factory(settings[EXPIRE])
        uid = await run.write_user_with_posts(WRITE_STEP, session_factory)
        cls: Any = UserWithPosts  # mapped over the lab's Table: mypy sees no columns
        loaders = [selectinload(cls.posts)] if settings[SELECTIN] else []
        model: type[BaseModel] = FlatUserOut if settings[FLAT] else UserOut
        async with run.read_back(
            cls, uid, READ_STEP, *loaders, opening=RESPOND, session_factory=session_factory
        ) as (session, user):
            if settings[JUST_COMMITTED]:
                await run.awaited(COMMIT_STEP, session.commit())
            # What FastAPI does with a response_model: plain code, no greenlet around it.
            return run.read(
                VALIDATE_STEP,
                lambda: model.model_validate(user, from_attributes=True).model_dump_json(),
            )

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        before = _before_validation(result)
        if error is None:
            return self._explain_success(result, before)
        fields = failed_fields(validation_text(result))
        if not error.outer.type_name.endswith("ValidationError") or not fields:
            return failure(result, how_raised(error))
        expired = set(before.expired) if before else set()
        unloaded = set(before.unloaded) if before else set()
        named = ", ".join(f.field for f in fields)
        plural = "s" if len(fields) > 1 else ""
        why = [
            f"pydantic read each field with getattr; reading {named} raised, pydantic caught "
            f"it and reported it as a ValidationError of type get_attribute_error, keeping "
            f"only its text ({_kinds(fields)}).",
            _chain_sentence(result),
        ]
        for failed in fields:
            why.append(_field_sentence(failed.field, expired, unloaded))
        why.append(_sql_sentence(result))
        committed = result.setting(JUST_COMMITTED)
        if committed and expired:
            sentence = "The commit expired what the SELECT had loaded"
            if "posts" in expired and result.setting(SELECTIN):
                sentence += ", the posts selectinload brought included, so it did not help"
            if result.setting(FLAT):
                sentence += "; the model without posts still reads uid and name"
            why.append(sentence + ".")
            if not (result.setting(SELECTIN) or result.setting(FLAT)):
                why.append(
                    "expire_on_commit=False keeps the columns through the commit; posts then "
                    "still needs selectinload, or a response model without it."
                )
        why.append(committed_rows(result))
        fixes = (FIX_KEEP,) if committed and expired else (FIX_SELECTIN, FIX_FLAT)
        headline = f"ValidationError: {named} could not be read (MissingGreenlet, as text only)"
        short = (
            f"pydantic swallowed the MissingGreenlet from field{plural} {named}; "
            "no SQLAlchemy frame in the traceback"
        )
        return Explanation(headline, short, tuple(why), fixes, _pydantic_notes(fields))

    def _explain_success(
        self, result: ExperimentResult, before: StateSnapshot | None
    ) -> Explanation:
        loaded = sorted(key for key, _ in before.loaded) if before else []
        if result.setting(FLAT):
            why = "The response model has no posts field, so pydantic read only uid and name"
        else:
            why = "The response model reads posts, and selectinload had loaded them with the user"
        why += (
            f"; the object already held {', '.join(loaded) or 'nothing'} when pydantic read "
            "it, so no read needed IO."
        )
        notes: tuple[str, ...] = ()
        if result.setting(JUST_COMMITTED):
            notes = ("The commit before responding expired nothing: expire_on_commit is off.",)
        return Explanation(
            f"{result.outcome.expression} = {result.outcome.value}",
            "every field pydantic read was already loaded",
            (why,),
            notes=notes,
        )

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        selectin, flat = chosen[SELECTIN], chosen[FLAT]
        *columns, posts = field_lines(UserOut)
        posts_field = (
            marked(f"    # {posts.strip()}  (left out of the response model)")
            if flat
            else marked(posts, False)
        )
        reads = lines(
            load_user_lines(8, "selectinload(User.posts)" if selectin else None),
            marked(f"        {COMMIT_STEP}") if chosen[JUST_COMMITTED] else None,
            "        # FastAPI's response_model does this with the returned object:",
            "        print(UserOut.model_validate(user, from_attributes=True).model_dump_json())",
        )
        body = f"""
{engine_lines(sessionmaker_line(chosen[EXPIRE]))}

{user_with_posts_model()}

class PostOut(BaseModel):
{lines(*field_lines(PostOut))}


class UserOut(BaseModel):
{lines(*columns, posts_field)}

{write_then_show("create_user", f"User(name=name, {TWO_POSTS})", reads, name)}"""
        imports = (
            "from pydantic import BaseModel",
            "from sqlalchemy import ForeignKey, select",
            "from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine",
            orm_import(ORM_NAMES, "selectinload", selectin),
        )
        return body, imports


def field_lines(model: type[BaseModel]) -> list[str]:
    """A response model's fields as the script declares them, from the model the lab uses.

    The script's models are written from these, so the script validates what the lab did.
    """
    return [
        f"    {field}: {annotation_text(info.annotation)}"
        for field, info in model.model_fields.items()
    ]


def annotation_text(annotation: Any) -> str:
    """``int``, ``list[PostOut]``: a field's type as source text."""
    arguments = get_args(annotation)
    if not arguments:
        return str(annotation.__name__)
    inner = ", ".join(annotation_text(argument) for argument in arguments)
    return f"{get_origin(annotation).__name__}[{inner}]"


def _before_validation(result: ExperimentResult) -> StateSnapshot | None:
    """The user's state just before pydantic read it."""
    for step in (COMMIT_STEP, READ_STEP):
        found = next((s for s in result.states if s.step == step), None)
        if found is not None:
            return found
    return None


def _kinds(fields: list[FailedField]) -> str:
    kinds = sorted({f.error_type for f in fields})
    greenlet = all(f.greenlet for f in fields)
    shown = " and ".join(kinds)
    if greenlet and kinds != ["MissingGreenlet"]:
        return f"the text names {shown} with MissingGreenlet inside"
    return f"the text names {shown}"


def _chain_sentence(result: ExperimentResult) -> str:
    error = result.outcome.error
    assert error is not None
    if len(error.chain) == 1:
        return (
            "The ValidationError has no __cause__ and no __context__: the chain stops there, "
            "so the traceback ends in pydantic's model_validate and shows no SQLAlchemy frame. "
            "`except MissingGreenlet:` cannot catch it; the only trace is the message."
        )
    linked = " → ".join(short_type(link.type_name) for link in error.chain)
    return f"The exception chain is {linked}."


def _field_sentence(field: str, expired: set[str], unloaded: set[str]) -> str:
    root = field.split(".", 1)[0]
    if root in expired:
        return (
            f"{field} was expired (the commit had thrown its value away): reading it needed a "
            "SELECT to reload it, outside the greenlet."
        )
    if root in unloaded:
        return (
            f"{field} was never loaded (a lazy relationship): reading it needed a SELECT, "
            "outside the greenlet."
        )
    return f"{field} could not be read."


def _sql_sentence(result: ExperimentResult) -> str:
    """Where the refused SELECT shows: in the SQL list, marked as attempted, or nowhere."""
    tried = [s for s in result.sql if s.step == VALIDATE_STEP and s.sql.startswith("SELECT")]
    if tried:
        plural = "s" if len(tried) > 1 else ""
        return (
            f"The SQL list shows {len(tried)} SELECT{plural} under the validation step, marked "
            "attempted: the ORM built it, but the await that would have run it was refused, so "
            "it never reached the database."
        )
    return "No SELECT shows: the refusal came before the statement was built."


def _pydantic_notes(fields: list[FailedField]) -> tuple[str, ...]:
    greenlet = any(f.greenlet for f in fields)
    more = "https://errors.pydantic.dev/latest/v/get_attribute_error"
    if greenlet:
        return (f"pydantic's page: {more}", f"MissingGreenlet: {error_link('xd2s')}")
    return (f"pydantic's page: {more}",)


SCENARIO = Serialization()
