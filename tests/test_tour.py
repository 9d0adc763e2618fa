"""The guided tour: lessons from the registry, guesses graded by the real run, resume.

Pilot tests play the tour by keyboard (and a little by mouse) at 80x24. What is right
is never written down: it is what the installed SQLAlchemy really raises on the test's
database, read from the exception chain of a run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url
from textual.widgets import OptionList, Static

from playground.commands.tour import main as tour_main
from playground.core.lab import Lab
from playground.core.results import Script
from playground.core.scenarios import SCENARIOS
from playground.core.tour import (
    MISSING_GREENLET,
    TOUR_NAME,
    VALUE,
    Lesson,
    Progress,
    Tour,
    build_lessons,
    classify,
    cut,
    default_progress_path,
    fold,
)
from playground.ui.tour import TourApp, TourScreen
from playground.ui.tour_text import summary_plain

from .pilot import settle

SIZE = (80, 24)


def screen_of(app: TourApp) -> TourScreen:
    assert app.tour_screen is not None
    return app.tour_screen


def shown(app: TourApp, widget_id: str) -> str:
    """The plain text a Static of the tour shows."""
    return str(screen_of(app).query_one(f"#{widget_id}", Static).content)


def lesson_named(name: str) -> Lesson:
    return next(lesson for lesson in build_lessons() if lesson.name == name)


def wrapped_here(url: str) -> bool:
    """Where MissingGreenlet arrives wrapped: SQLAlchemy 2.1 with aiosqlite, per the README."""
    series = tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2])
    return series >= (2, 1) and make_url(url).get_backend_name() == "sqlite"


async def phase(pilot, app: TourApp, wanted: str) -> None:
    await settle(pilot, lambda: app.tour_screen is not None and app.tour_screen.phase == wanted)


async def begin(pilot, app: TourApp) -> None:
    """Pass the primer a fresh tour opens with (Enter), and wait for the first question."""
    await phase(pilot, app, "primer")
    await pilot.press("enter")
    await phase(pilot, app, "guess")


def outcome(app: TourApp) -> str:
    return shown(app, "tour-outcome-text")


# ---------------------------------------------------------------- the lessons


def test_lessons_are_the_registry_in_teaching_order():
    lessons = build_lessons()
    assert [lesson.name for lesson in lessons] == list(SCENARIOS)
    orders = [lesson.scenario.order for lesson in lessons]
    assert orders == sorted(orders)
    assert [lesson.number for lesson in lessons] == list(range(1, len(lessons) + 1))
    for lesson in lessons:
        keys = [choice.key for choice in lesson.choices]
        assert 3 <= len(keys) <= 6 and len(set(keys)) == len(keys), lesson.name
        assert keys[:2] == [VALUE.key, MISSING_GREENLET.key]


def test_each_excerpt_is_the_working_part_with_the_read_marked():
    for lesson in build_lessons():
        script = lesson.scenario.script(lesson.settings(), "sqlite+aiosqlite://", TOUR_NAME)
        excerpt = lesson.excerpt()
        assert len(excerpt.lines) < len(script.text.splitlines()), lesson.name
        assert not any("# <-" in line for line in excerpt.lines)
        setup = ("await create_tables()", "await engine.dispose()")
        assert not any(line.strip() in setup for line in excerpt.lines), lesson.name
        focus = excerpt.lines[excerpt.focus]
        assert any(word in focus for word in lesson.teaching.focus), lesson.name
        assert excerpt.lines[0] == excerpt.lines[0].lstrip(), "dedented"
        for word in lesson.teaching.depends:
            assert any(word in line for line in excerpt.lines), (lesson.name, word)
        if lesson.scenario.options:
            assert excerpt.changed, f"{lesson.name}: no line marked as one a switch changes"


def test_a_fold_keeps_every_needed_line_and_fits_the_rows_it_is_given():
    """Core's view of a short code box: needed lines always, the rest while rows remain."""
    for lesson in build_lessons():
        excerpt = lesson.excerpt()
        assert excerpt.focus in excerpt.needed
        for word in lesson.teaching.depends:
            assert any(word in excerpt.lines[i] for i in excerpt.needed), (lesson.name, word)
        costs = [2 if len(line) > 74 else int(bool(line.strip())) for line in excerpt.lines]
        everything = sum(costs)
        least = fold(excerpt, 0, costs).rows(costs)
        assert fold(excerpt, everything, costs).folds == ()
        for rows in range(least, everything):
            view = fold(excerpt, rows, costs)
            assert excerpt.needed <= view.shown, (lesson.name, rows)
            assert view.rows(costs) <= rows, (lesson.name, rows)
            for item in view.folds:
                inside = [i for i in range(item.first, item.last + 1) if excerpt.lines[i].strip()]
                assert len(inside) == item.hidden
                if item != view.trailing:  # a marker never takes the place of one short line
                    assert item.hidden > 1 or costs[inside[0]] > 1, (lesson.name, item)
            assert all(excerpt.lines[i].strip() for i in view.shown)


def test_a_repr_fix_is_shown_in_its_class_whole():
    lesson = lesson_named("repr-logging")
    lines = lesson.excerpt({"loaded_only_repr": True}).lines
    start = lines.index("class User(Model):")
    assert lines[start + 1].startswith("    def __repr__(self)")
    assert lines[start + 2].startswith("        values = inspect(self).dict")
    assert lines[start + 3].startswith("        return f")


def test_excerpt_of_a_script_without_main_is_its_end():
    script = Script("import asyncio\nx = 1\nprint(x)\n")
    excerpt = cut(script, "nothing here")
    assert excerpt.lines[excerpt.focus] == "print(x)"


def test_choices_follow_what_a_scenario_says_it_shows():
    assert any(
        c.key == "error:DetachedInstanceError" for c in lesson_named("closed-session").choices
    )
    assert any(
        c.key == "error:InvalidRequestError" for c in lesson_named("lazy-relationship").choices
    )


def test_the_hint_ladder_goes_from_the_idea_to_the_switch():
    lesson = lesson_named("after-commit")
    settings = lesson.settings()
    first, second, third = (lesson.hint(level, settings) for level in (1, 2, 3))
    for option in lesson.scenario.options:
        assert option.label not in first  # the first hint never names the answer
    assert first.startswith("Hint 1 of 3") and second.startswith("Hint 2 of 3")
    assert "`" in second  # a line of the code shown
    assert "auto refresh after commit" in third and "2 (auto refresh after commit) on" in third
    hint = lesson_named("lazy-relationship").hint(
        3,
        {"selectinload": True, "awaitable_attrs": True, "refresh_posts": True, "lazy_raise": True},
    )
    assert 'lazy="raise"' in hint and "in the way" in hint


def test_progress_survives_a_round_trip_and_a_broken_file(tmp_path: Path):
    path = tmp_path / "tour.json"
    tour = Tour(path)
    assert tour.current() is tour.lessons[0]
    path.write_text("{not json", encoding="utf-8")
    assert Tour(path).progress.lessons == {}
    hostile = {"guess": 1, "guess_label": "x", "real": "y", "real_label": "z", "right": "yes"}
    path.write_text(json.dumps({"lessons": {"after-commit": hostile}}), encoding="utf-8")
    assert Tour(path).progress.lessons == {}
    assert Progress.from_json(Progress().to_json()).lessons == {}


def test_progress_lives_in_the_data_folder(private_data_dir: Path):
    assert default_progress_path() == private_data_dir / "playground" / "tour.json"


# ---------------------------------------------------------------- pilot tests


async def test_wrong_guess_then_the_fix_on_the_second_try(db_url: str):
    app = TourApp(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot, app)
        screen = screen_of(app)
        assert screen.lesson is not None and screen.lesson.name == "after-commit"
        assert "▶ print(user.uid)" in shown(app, "tour-code-text")
        await pilot.press("1")  # "it works": the default settings fail on every setup
        await phase(pilot, app, "fix")
        text = outcome(app)
        assert text.startswith("✗ Not this time. You said: it works")
        assert screen.last_result is not None
        error = screen.last_result.outcome.error
        assert error is not None
        assert classify(screen.last_result).label in text
        first = error.chain[0].message.splitlines()[0]
        assert f"Raised: {error.chain[0].type_name.rsplit('.', 1)[-1]}: {first}" in text
        assert "SQL it tried: SELECT " in text and "Why: " in text
        assert "Note: here MissingGreenlet" in text  # the wrapping, taught in lesson 1

        await pilot.press("h")  # before a try of one's own: why there is nothing yet
        assert shown(app, "tour-status").startswith("No hint yet")
        await pilot.press("r")  # first try: nothing changed, still failing
        await settle(pilot, lambda: screen.phase == "fix" and screen.wrong_tries == 1)
        assert outcome(app).startswith("✗ Still failing: MissingGreenlet")
        assert " again." in outcome(app).splitlines()[0]  # it really was seen before
        await pilot.press("h")
        assert shown(app, "tour-status").startswith("Hint 1 of 3 (the idea)")
        await pilot.press("h")
        assert shown(app, "tour-status").startswith("Hint 2 of 3 (where)")
        await pilot.press("h")
        assert "2 (auto refresh after commit) on" in shown(app, "tour-status")
        await pilot.press("2", "r")  # second try: the refresh switch
        await phase(pilot, app, "solved")
        assert outcome(app).startswith("✓ Fixed: it works now (fix: auto refresh after commit).")
        record = screen.tour.record(screen.lesson)
        assert record is not None and record.done and not record.right and record.fix_runs == 2

        # The switches stay live after success: break it again, then fix it the other way.
        await pilot.press("2", "r")
        await settle(pilot, lambda: screen.phase == "solved" and "Still failing" in outcome(app))
        await pilot.press("1", "r")  # expire_on_commit off: the other fix
        await settle(pilot, lambda: screen.phase == "solved" and "✓ Fixed" in outcome(app))
        assert "expire_on_commit" in outcome(app).splitlines()[0]
        await pilot.press("n")
        await phase(pilot, app, "guess")
        assert screen.lesson.name == list(SCENARIOS)[1]


async def test_the_right_guess_is_the_pitfall_whatever_wraps_it(db_url: str):
    app = TourApp(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot, app)
        lesson = screen_of(app).lesson
        assert lesson is not None
        await pilot.press(str(lesson.choices.index(MISSING_GREENLET) + 1))
        await phase(pilot, app, "fix")
        assert outcome(app).startswith(f"✓ Right: {MISSING_GREENLET.label}")
        assert "score 1/1" in shown(app, "tour-title")
        wrapped = "Note: here MissingGreenlet arrives inside StatementError" in outcome(app)
        assert wrapped != ("Note: here MissingGreenlet is raised bare" in outcome(app))
        assert wrapped == wrapped_here(db_url)


async def test_a_variation_that_passes_says_so_and_the_lesson_stays_open(tmp_path: Path):
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}", lesson="concurrent-session")
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot, app)
        screen = screen_of(app)
        lesson = screen.lesson
        assert lesson is not None and lesson.name == "concurrent-session"
        await pilot.press("1")
        await settle(pilot, lambda: screen.phase == "fix")
        keys = [option.key for option in lesson.scenario.options]
        await pilot.press(str(keys.index("pool_pre_ping") + 1), "r")
        await settle(pilot, lambda: outcome(app).startswith(("✓ It passed", "✗ Still")))
        if "✓ It passed, but nothing was fixed" in outcome(app):
            assert "pool_pre_ping=True is a variation" in outcome(app)
        assert screen.phase == "fix" and not screen.tour.is_done(lesson)
        await pilot.press(str(keys.index("session_per_task") + 1), "r")
        await settle(pilot, lambda: screen.phase == "solved")
        assert outcome(app).startswith("✓ Fixed: it works now (fix: a session per task).")


async def click_when_steady(pilot, app: TourApp, selector: str, offset=(0, 0)) -> None:
    """Click ``selector`` once the layout has settled where it shows (the tour refits the
    code box over a few refreshes after each change)."""
    widget = screen_of(app).query_one(selector)
    seen: list[object] = []

    def steady() -> bool:
        seen.append(widget.region)
        return len(seen) > 2 and seen[-1] == seen[-2] == seen[-3] and widget.region.height > 0

    await settle(pilot, steady)
    await pilot.click(selector, offset=offset)


async def test_a_lesson_by_mouse(tmp_path: Path):
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}")
    async with app.run_test(size=SIZE) as pilot:
        await phase(pilot, app, "primer")
        await click_when_steady(pilot, app, "#tour-start-button")
        await phase(pilot, app, "guess")
        await click_when_steady(pilot, app, "#tour-choices", offset=(4, 0))  # the first choice
        await phase(pilot, app, "fix")
        screen = screen_of(app)
        await click_when_steady(pilot, app, "#tour-switches", offset=(4, 1))  # the second
        assert screen.settings["auto_refresh"] is True
        await click_when_steady(pilot, app, "#tour-run-button")
        await phase(pilot, app, "solved")
        await click_when_steady(pilot, app, "#tour-next-button")
        await phase(pilot, app, "guess")
        assert screen.lesson is not None and screen.lesson.number == 2


async def test_resume_after_quitting_in_the_middle(db_url: str):
    app = TourApp(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot, app)
        await pilot.press("1")  # "it works": wrong on every setup
        await phase(pilot, app, "fix")
        await pilot.press("q")  # quit before fixing it
    saved = json.loads(default_progress_path().read_text(encoding="utf-8"))
    assert saved["lessons"]["after-commit"]["done"] is False

    app = TourApp(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await phase(pilot, app, "fix")  # straight back to "make it work", no primer
        assert "Welcome back" in shown(app, "tour-status")
        said = outcome(app)
        guessed = "Earlier you guessed: it works: the value is read, no error. The run:"
        assert said.startswith(guessed)
        assert "right: " not in said
        await pilot.press("2", "r")
        await phase(pilot, app, "solved")
        await pilot.press("n")
        await phase(pilot, app, "guess")
        await pilot.press("escape")

    app = TourApp(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await phase(pilot, app, "guess")
        assert screen_of(app).lesson.number == 2  # type: ignore[union-attr]
        assert "score 0/1" in shown(app, "tour-title")

    app = TourApp(db_url, restart=True)
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot, app)
        assert screen_of(app).lesson.number == 1  # type: ignore[union-attr]


async def test_quitting_right_after_a_guess_keeps_it(tmp_path: Path):
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}")
    async with app.run_test(size=SIZE) as pilot:
        await begin(pilot, app)
        await pilot.press("1", "q")  # the run is still in flight when q arrives
    saved = json.loads(default_progress_path().read_text(encoding="utf-8"))
    assert saved["lessons"]["after-commit"]["guess"] == VALUE.key
    assert not list(default_progress_path().parent.glob("*.tmp"))


async def test_the_summary_lists_wrong_guesses_with_their_commands(db_url: str):
    lessons = build_lessons()
    # Every lesson but the last answered in an earlier session, two of them wrongly.
    progress = {
        "version": 1,
        "lessons": {
            lesson.name: {
                "guess": "value",
                "guess_label": VALUE.label,
                "real": "value" if index > 1 else "missing-greenlet",
                "real_label": VALUE.label if index > 1 else MISSING_GREENLET.label,
                "right": index > 1,
                "done": True,
            }
            for index, lesson in enumerate(lessons[:-1])
        },
    }
    path = default_progress_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(progress), encoding="utf-8")
    app = TourApp(db_url)
    async with app.run_test(size=SIZE) as pilot:
        await phase(pilot, app, "guess")
        screen = screen_of(app)
        last = lessons[-1]
        assert screen.lesson is not None and screen.lesson.name == last.name
        await pilot.press("1")
        await settle(pilot, lambda: screen.phase in ("fix", "solved"))
        right_last = screen.tour.record(last).right  # type: ignore[union-attr]
        while screen.phase == "fix":
            option = next(o for o in last.scenario.options if o.fix)
            await pilot.press(str(last.scenario.options.index(option) + 1), "r")
            await settle(pilot, lambda: screen.phase in ("fix", "solved"))
        await pilot.press("n")
        await phase(pilot, app, "summary")
        assert screen.summary is not None
        summary = summary_plain(screen.summary)
        right = len(lessons) - 3 + int(right_last)
        assert f"{right} of {len(lessons)} predicted right" in summary
        for lesson in lessons:  # every pitfall: its fix in one line and its command
            assert f"{lesson.number}. {lesson.title}" in summary
            assert f"live playground --scenario {lesson.name}" in summary
            flat = " ".join(summary.split())
            assert " ".join(lesson.teaching.fix_line.split("  #")[0].split()) in flat
        assert summary.count("you said: ") == 2 + (not right_last)
        await pilot.press("t")
        await phase(pilot, app, "guess")
        assert screen.lesson.number == 1


async def test_walk_every_lesson_with_the_right_answers(db_url: str):
    """Every lesson once: the right answer is read from a live run of the same scenario."""
    lessons = build_lessons()
    lab = Lab(db_url)
    await lab.open()
    try:
        real = {
            lesson.name: classify(await lab.run(lesson.scenario, TOUR_NAME)) for lesson in lessons
        }
    finally:
        await lab.close()
    app = TourApp(db_url)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await begin(pilot, app)
        for lesson in lessons:
            await phase(pilot, app, "guess")
            assert screen.lesson is not None and screen.lesson.name == lesson.name
            assert real[lesson.name] in lesson.choices, lesson.name
            await pilot.press(str(lesson.choices.index(real[lesson.name]) + 1))
            await settle(pilot, lambda: screen.phase in ("fix", "solved"))
            assert outcome(app).startswith("✓ Right"), lesson.name
            options = lesson.scenario.options
            for fix in lesson.fixes:
                if screen.phase != "fix":
                    break
                number = str(options.index(fix) + 1)
                runs = screen.tour.record(lesson).fix_runs  # type: ignore[union-attr]
                await pilot.press(number, "r")  # this fix in its fixing position

                def ran(lesson: Lesson = lesson, runs: int = runs) -> bool:
                    record = screen.tour.record(lesson)
                    done = screen.phase in ("fix", "solved")
                    return done and record is not None and record.fix_runs > runs

                await settle(pilot, ran)
                if screen.phase == "fix":
                    await pilot.press(number)  # and back again, before the next one
            assert screen.phase == "solved", lesson.name
            await pilot.press("n")
        await phase(pilot, app, "summary")
        assert screen.summary is not None
        summary = summary_plain(screen.summary)
        assert f"{len(lessons)} of {len(lessons)} predicted right" in summary
        assert "you said" not in summary


async def test_the_tour_screen_pushed_on_the_playground(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.lab.engine is not None)
        app.push_screen(TourScreen(app.lab.url))
        await settle(pilot, lambda: isinstance(app.screen, TourScreen))
        tour = app.screen
        assert isinstance(tour, TourScreen)
        await settle(pilot, lambda: tour.phase == "primer")
        await pilot.press("enter")
        await settle(pilot, lambda: tour.phase == "guess")
        assert tour.query_one("#tour-choices", OptionList).has_focus
        await pilot.press("escape")
        await settle(pilot, lambda: not isinstance(app.screen, TourScreen))
        await settle(pilot, lambda: tour.lab.engine is None)  # its own lab, closed on leaving
        assert app.lab.engine is not None  # the playground's lab is untouched


# ------------------------------------------------------------ command line


def test_a_bad_database_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]):
    assert tour_main(["--db", "nosuchdriver://x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("playground: ") and err.count("\n") == 1
