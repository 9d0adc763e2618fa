"""Each lesson against real runs: fair grading, fixes that fix, variations that do not.

Every outcome here comes from running the scenario with the installed SQLAlchemy on the
test's database (SQLite always, PostgreSQL when ``PLAYGROUND_TEST_PG_URL`` is set).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from playground.core.lab import Lab
from playground.core.results import ExperimentResult
from playground.core.tour import (
    MISSING_GREENLET,
    TOUR_NAME,
    VALUE,
    Lesson,
    Tour,
    build_lessons,
    classify,
    first_error_line,
    grade,
    wrapper_of,
    wrapping_note,
)

LESSONS = build_lessons()
NAMES = [lesson.name for lesson in LESSONS]


def lesson_named(name: str) -> Lesson:
    return next(lesson for lesson in LESSONS if lesson.name == name)


def wrapped_here(url: str) -> bool:
    """Where MissingGreenlet arrives wrapped: SQLAlchemy 2.1 with aiosqlite."""
    series = tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2])
    return series >= (2, 1) and make_url(url).get_backend_name() == "sqlite"


async def run(lab: Lab, lesson: Lesson, **flips: bool) -> ExperimentResult:
    return await lab.run(lesson.scenario, TOUR_NAME, lesson.settings(flips))


# -------------------------------------------------------------------- grading


async def test_missing_greenlet_is_right_whatever_wraps_it(lab: Lab):
    """The pitfall is graded, not its wrapping: bare or inside StatementError, same answer."""
    after = await run(lab, lesson_named("after-commit"))
    error = after.outcome.error
    assert error is not None and error.involves_missing_greenlet
    if wrapped_here(lab.url.render_as_string()):
        assert error.chain[0].type_name == "sqlalchemy.exc.StatementError"
        assert wrapper_of(after) == "StatementError"
    else:
        assert error.chain[0].type_name == "sqlalchemy.exc.MissingGreenlet"
        assert wrapper_of(after) == ""
    assert grade(after, MISSING_GREENLET).right and not grade(after, VALUE).right
    assert "StatementError" not in {choice.label for choice in lesson_named("after-commit").choices}

    sync = await run(lab, lesson_named("async-driver-sync-engine"))
    assert sync.outcome.error is not None
    assert sync.outcome.error.chain[0].type_name == "sqlalchemy.exc.MissingGreenlet"  # bare
    assert grade(sync, MISSING_GREENLET).right


async def test_the_wrapping_is_taught_once_then_referred_to(lab: Lab, tmp_path: Path):
    tour = Tour(tmp_path / "tour.json")
    first = lesson_named("after-commit")
    later = lesson_named("rollback")
    result = await run(lab, first)
    note = tour.note(first, result)
    assert note.startswith("Note: here MissingGreenlet")
    assert "except MissingGreenlet" in note
    assert tour.note(first, result, new_only=True) == ""  # not again in the same lesson
    again = tour.note(later, await run(lab, later))
    if wrapper_of(result):
        assert again == "Inside StatementError again, as in lesson 1: the same pitfall."
    else:
        assert again == ""
    assert Tour(tmp_path / "tour.json").progress.taught  # remembered across sessions
    # Another shape seen earlier is not this one: the first of this shape is explained.
    other = "bare" if wrapper_of(result) else "wrapped"
    fresh = wrapping_note(result, {other: 7}, 8)
    assert fresh.startswith("Note: here") and "again" not in fresh


def test_lesson_nine_asks_what_the_learner_observes():
    lesson = lesson_named("repr-logging")
    assert "stderr" in lesson.question and "print" in lesson.question
    labels = [lesson.label_of(choice) for choice in lesson.choices]
    assert all("uid" in label for label in labels), labels


async def test_lesson_nine_is_graded_by_what_appears(lab: Lab):
    lesson = lesson_named("repr-logging")
    result = await run(lab, lesson)
    real = classify(result)
    assert result.outcome.error is None and result.stderr  # it printed, and stderr has a trace
    assert real.key == "stderr"
    assert "then the uid" in lesson.label_of(real)


def test_no_question_reads_like_a_template():
    for lesson in LESSONS:
        assert "reading the" not in lesson.question and "reading await" not in lesson.question
        assert lesson.question.endswith("?"), lesson.name


# -------------------------------------------------------- fixes and variations


@pytest.mark.parametrize("name", NAMES)
async def test_each_fix_reaches_the_fixed_outcome(lab: Lab, tmp_path: Path, name: str):
    """Every fix switch, alone in its fixing position, makes the read work and completes."""
    lesson = lesson_named(name)
    tour = Tour(tmp_path / "tour.json")
    default = await run(lab, lesson)
    if not tour.needs_fix(lesson, default):
        pytest.skip(f"{name} works as written: nothing to fix")
    tour.answer(lesson, VALUE, default)
    for option in lesson.fixes:
        if lesson.settings()[option.key] == option.fixing_value:
            continue
        flips = {option.key: bool(option.fixing_value)}
        result = await run(lab, lesson, **flips)
        judged = tour.fix_run(lesson, result, lesson.settings(flips))
        assert judged.works and judged.fixed, (name, option.key, classify(result))
        assert judged.fixes == (option,)


@pytest.mark.parametrize("name", NAMES)
async def test_no_variation_completes_a_lesson(lab: Lab, tmp_path: Path, name: str):
    """A variation alone never finishes the lesson, even when its run happens to pass."""
    lesson = lesson_named(name)
    tour = Tour(tmp_path / "tour.json")
    default = await run(lab, lesson)
    if not tour.needs_fix(lesson, default):
        pytest.skip(f"{name} works as written: it is done with the guess")
    tour.answer(lesson, VALUE, default)
    for option in lesson.variations:
        flips = {option.key: not option.default}
        result = await run(lab, lesson, **flips)
        judged = tour.fix_run(lesson, result, lesson.settings(flips))
        assert not judged.fixed, (name, option.key)
        if judged.works:
            assert judged.variation_passed and judged.variations == (option,)
    assert not tour.is_done(lesson), name


async def test_pool_pre_ping_off_passes_but_is_no_fix(lab: Lab, tmp_path: Path):
    """The case the issue saw: two tasks still share one session, so nothing is fixed."""
    lesson = lesson_named("concurrent-session")
    option = next(o for o in lesson.scenario.options if o.key == "pool_pre_ping")
    assert option in lesson.variations
    result = await run(lab, lesson, pool_pre_ping=False)
    judged = Tour(tmp_path / "t.json").fix_run(lesson, result, lesson.settings({option.key: False}))
    assert not judged.fixed


def test_every_lesson_has_a_fix_or_works_and_says_which_switch_is_which():
    for lesson in LESSONS:
        kinds = {option.key: option.fixing_value for option in lesson.scenario.options}
        assert set(kinds) == {o.key for o in lesson.fixes} | {o.key for o in lesson.variations}
        assert lesson.fixes, lesson.name


# --------------------------------------------------------------- after a run


async def test_the_error_line_and_sql_are_the_real_ones(lab: Lab):
    from playground.core.tour import attempted_sql

    result = await run(lab, lesson_named("after-commit"))
    error = result.outcome.error
    assert error is not None
    line = first_error_line(result)
    assert (
        line
        == f"{error.chain[0].type_name.rsplit('.', 1)[-1]}: "
        + (error.chain[0].message.splitlines()[0])
    )
    sql = attempted_sql(result)
    assert sql.startswith("SELECT ") and "playground_users" in sql
