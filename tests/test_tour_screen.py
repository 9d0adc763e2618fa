"""The tour at 80x24: every lesson's lines on screen, the code box scrolled to what matters.

One pilot per lesson, opened directly with ``lesson=`` as ``playground tour --lesson``
does; runs are real (SQLite in a temporary folder). Code taller than the box is folded:
the lines the answer depends on stay, the rest goes behind "… N lines" markers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from playground.commands.tour import main as tour_main
from playground.core.tour import Tour, build_lessons, default_progress_path, differing
from playground.ui.tour import TourApp, TourScreen
from playground.ui.tour_text import printed_text, wrap_hanging

from .pilot import settle

SIZE = (80, 24)
LESSONS = build_lessons()


def code_view(screen: TourScreen) -> tuple[str, list[int], int, int]:
    """The code box's text, each excerpt line's first row, and the rows in view."""
    box = screen.query_one("#tour-code", VerticalScroll)
    text = str(screen.query_one("#tour-code-text", Static).content)
    starts = screen._code_starts
    top = round(box.scroll_y)
    return text, starts, top, top + box.scrollable_content_region.height


def in_view(screen: TourScreen, index: int) -> bool:
    """True when excerpt line ``index`` is drawn (not folded) and all its rows are in view."""
    text, starts, top, bottom = code_view(screen)
    view = screen._code_view
    if view is not None and index not in view.shown:
        return False
    rows = len(text.splitlines())
    end = starts[index + 1] if index + 1 < len(starts) else rows
    end = max(end, starts[index] + 1)
    return top <= starts[index] and end <= bottom


def rows_in_view(screen: TourScreen) -> str:
    """The code box's rows in view, as one string (wrapped rows joined by a space)."""
    text, _, top, bottom = code_view(screen)
    return " ".join(row[2:].strip() for row in text.splitlines()[top:bottom])


async def open_lesson(pilot, app: TourApp) -> TourScreen:
    """Pass the primer, wait for the question and for the code box to settle."""
    await settle(pilot, lambda: app.tour_screen is not None and app.tour_screen.phase == "primer")
    screen = app.tour_screen
    assert screen is not None
    said = str(screen.query_one("#tour-status", Static).content)
    await pilot.press("enter")
    await settle(pilot, lambda: screen.phase == "guess")
    assert screen.lesson is not None
    assert said == f"Enter or n starts lesson {screen.lesson.number}."
    await settle(pilot, lambda: "▶" in str(screen.query_one("#tour-code-text", Static).content))
    await settle(pilot, lambda: in_view(screen, screen._excerpt.focus))  # type: ignore[union-attr]
    return screen


@pytest.mark.parametrize("name", [lesson.name for lesson in LESSONS])
async def test_each_lesson_shows_its_question_line_and_what_the_answer_depends_on(
    tmp_path: Path, name: str
):
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}", lesson=name)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot, app)
        lesson = screen.lesson
        assert lesson is not None and lesson.name == name
        excerpt = screen._excerpt
        assert excerpt is not None
        assert excerpt.focus in excerpt.needed
        # The box is laid out in passes: wait for every needed line (a failure times out
        # here), then check the layout stays so once the screen is idle.
        await settle(pilot, lambda: all(in_view(screen, i) for i in excerpt.needed))
        for _ in range(3):
            await pilot.pause()
        text, starts, top, bottom = code_view(screen)
        marked = excerpt.lines[excerpt.focus].strip()
        row = next(line for line in text.splitlines() if line.startswith("▶"))
        assert row[1:].strip().startswith(marked[:20])
        assert any(word in marked for word in lesson.teaching.focus)
        for index in sorted(excerpt.needed):
            assert in_view(screen, index), f"{name}: {excerpt.lines[index]!r} is not in view"
        seen = " ".join(rows_in_view(screen).split())
        for word in lesson.teaching.depends:
            assert " ".join(word.split()) in seen, f"{name}: {word!r} is not in view"
        # Nothing is scrolled out of view at the start; what is folded is said under the box.
        box = screen.query_one("#tour-code", VerticalScroll)
        view = screen._code_view
        folds = view.folds if view is not None else ()
        assert ("… " in text) == any(fold != view.trailing for fold in folds)  # type: ignore[union-attr]
        await settle(pilot, lambda: ("f: all code" in str(box.border_subtitle)) == bool(folds))
        assert top == 0 and "↑" not in str(box.border_subtitle)
        title = str(screen.query_one("#tour-title", Static).content)
        assert Text(title).cell_len <= SIZE[0] - 2 and lesson.title in title
        assert str(screen.query_one("#tour-question", Static).content) == lesson.question
        # Everything asked is on screen: the question and every choice, above the footer.
        choices = screen.query_one("#tour-choices")
        assert choices.region.bottom <= SIZE[1] - 1
        assert choices.region.height >= len(lesson.choices)


async def test_the_code_box_follows_the_line_a_switch_changed(tmp_path: Path):
    """Lesson 8's code is longer than the box at 80x24: whatever line a switch changes is
    unfolded and brought into view, one switch after another, each flipped on then off."""
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}", lesson="serialization")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot, app)
        lesson = screen.lesson
        assert lesson is not None
        await pilot.press("1")
        await settle(pilot, lambda: screen.phase == "fix")
        box = screen.query_one("#tour-code", VerticalScroll)
        start = screen._excerpt
        assert start is not None and len(start.lines) > box.scrollable_content_region.height
        hidden_before = 0
        moved: set[int] = set()
        for number in range(1, len(lesson.scenario.options) + 1):
            for _ in ("on", "off"):
                before = screen._excerpt
                assert before is not None
                hidden_before += not all(in_view(screen, i) for i in before.changed)
                await pilot.press(str(number))
                after = screen._excerpt
                assert after is not None and after is not before
                changed = sorted(differing(before, after))
                moved.add(number) if changed else None  # turning some off only removes lines
                for index in changed:
                    await settle(pilot, lambda index=index: in_view(screen, index))
        assert moved == set(range(1, len(lesson.scenario.options) + 1))
        assert hidden_before, "some line a switch changes was out of view before its flip"


async def test_f_unfolds_all_the_code_and_page_keys_scroll_it(tmp_path: Path):
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}", lesson="serialization")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot, app)
        excerpt = screen._excerpt
        assert excerpt is not None
        box = screen.query_one("#tour-code", VerticalScroll)
        text = str(screen.query_one("#tour-code-text", Static).content)
        assert "… " in text and len(text.splitlines()) < len(excerpt.lines)
        await pilot.press("f")  # all of it: scrolled to the line in question
        await settle(pilot, lambda: screen._code_view is None)
        await settle(pilot, lambda: in_view(screen, excerpt.focus) and box.scroll_y > 0)
        text = str(screen.query_one("#tour-code-text", Static).content)
        assert "… " not in text
        flat = " ".join(text.split())
        assert all(" ".join(line.split()) in flat for line in excerpt.lines)
        await settle(pilot, lambda: "f: fold" in str(box.border_subtitle))
        assert "↑" in str(box.border_subtitle)
        start = box.scroll_y
        await pilot.press("pageup")
        await settle(pilot, lambda: box.scroll_y < start)
        assert screen.phase == "guess"
        await pilot.press("f")  # folded again: every needed line back in view
        await settle(pilot, lambda: screen._code_view is not None)
        await settle(pilot, lambda: all(in_view(screen, i) for i in excerpt.needed))
        assert screen.phase == "guess"


# ---------------------------------------------------------------- --lesson


async def test_a_lesson_opened_by_name_keeps_the_others(tmp_path: Path):
    first, second = LESSONS[0], LESSONS[1]
    path = default_progress_path()
    record = {
        "guess": "value",
        "guess_label": "x",
        "real": "value",
        "real_label": "x",
        "right": True,
        "done": True,
    }
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "lessons": {second.name: record}}), "utf-8")
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}", lesson="lazy-relationship")
    async with app.run_test(size=SIZE) as pilot:
        await settle(
            pilot, lambda: app.tour_screen is not None and app.tour_screen.phase == "guess"
        )
        screen = app.tour_screen
        assert screen is not None and screen.lesson is not None
        assert screen.lesson.name == "lazy-relationship"
        await pilot.press("2")  # MissingGreenlet
        await settle(pilot, lambda: screen.phase in ("fix", "solved"))
        await pilot.press("q")
    saved = json.loads(path.read_text("utf-8"))["lessons"]
    assert saved[second.name] == {**record, "backend": "", "sqlalchemy": "", "fix_runs": 0}
    assert saved["lazy-relationship"]["guess"] == "missing-greenlet"
    assert first.name not in saved
    # Without --lesson the tour goes on from the first lesson not finished.
    assert Tour(path).current() is not None
    assert Tour(path).current().name == first.name  # type: ignore[union-attr]


def test_an_unknown_lesson_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]):
    assert tour_main(["--lesson", "no-such-lesson"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("playground: no lesson named no-such-lesson") and err.count("\n") == 1
    assert "lazy-relationship" in err


# ----------------------------------------------------------- small defects


def test_wrapped_code_lines_keep_their_indent():
    line = Text(
        "        print(UserOut.model_validate(user, from_attributes=True).model_dump_json())"
    )
    rows = wrap_hanging(line, 40)
    assert len(rows) > 1
    assert all(row.cell_len <= 40 for row in rows)
    assert all(row.plain.startswith(" " * 12) for row in rows[1:])
    assert "".join(row.plain.strip() for row in rows).replace(" ", "") == line.plain.replace(
        " ", ""
    )


async def test_printed_is_what_print_writes(tmp_path: Path):
    """The timestamp is shown as print shows it, not as datetime.datetime(...)."""
    from playground.core.lab import Lab

    lab = Lab(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}")
    await lab.open()
    try:
        lesson = next(item for item in LESSONS if item.name == "server-defaults")
        result = await lab.run(lesson.scenario, "Ada", {"refresh_after_update": True})
    finally:
        await lab.close()
    shown = printed_text(result)
    assert result.outcome.error is None
    assert "datetime.datetime(" not in shown and shown[:2] == "20", shown


# ------------------------------------------------------------ the classroom


def test_serve_lesson_needs_the_tour_and_a_known_name(capsys: pytest.CaptureFixture[str]):
    from playground.commands.serve import main as serve_main

    assert serve_main(["--lesson", "lazy-relationship"]) == 2
    assert capsys.readouterr().err == "playground serve: --lesson lazy-relationship needs --tour\n"
    assert serve_main(["--tour", "--lesson", "no-such-lesson"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("playground serve: --lesson no-such-lesson names no lesson: ")
    assert "lazy-relationship" in err and err.count("\n") == 1


def test_a_served_tab_hands_the_lesson_to_the_tour(tmp_path: Path):
    """A session process (as the server starts it) passes ``--lesson`` on to the tour."""
    import os
    import subprocess
    import sys

    module = "playground.commands.serve_session"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PLAYGROUND")}
    done = subprocess.run(
        [sys.executable, "-m", module, "tour", "--lesson", "no-such-lesson"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 2
    assert "no lesson named no-such-lesson" in done.stderr


async def test_every_hint_of_lesson_four_is_shown_whole_at_80x24(tmp_path: Path):
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}", lesson="rollback")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot, app)
        await pilot.press("1")
        await settle(pilot, lambda: screen.phase == "fix")
        await pilot.press("r")  # a try of one's own, still failing: hints open
        await settle(pilot, lambda: screen.phase == "fix" and screen.wrong_tries == 1)
        status = screen.query_one("#tour-status", Static)
        for level in (1, 2, 3):
            await pilot.press("h")
            text = Text(str(status.content))
            await settle(pilot, lambda: status.region.bottom <= SIZE[1] - 1)
            rows = len(text.wrap(app.console, status.content_region.width))

            def whole(rows: int = rows) -> bool:
                return status.content_region.height >= rows

            await settle(pilot, whole)
            assert str(status.content).startswith(f"Hint {level} of 3"), level


async def test_again_only_after_a_real_earlier_occurrence(tmp_path: Path):
    """Lesson 6 with lazy="raise": InvalidRequestError is new the first time, then 'again'."""
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}", lesson="lazy-relationship")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lesson(pilot, app)
        lesson = screen.lesson
        assert lesson is not None
        await pilot.press("2")
        await settle(pilot, lambda: screen.phase == "fix")
        outcome = screen.query_one("#tour-outcome-text", Static)
        keys = [option.key for option in lesson.scenario.options]
        await pilot.press(str(keys.index("lazy_raise") + 1), "r")
        await settle(pilot, lambda: str(outcome.content).startswith("✗ Still failing"))
        first = str(outcome.content).splitlines()[0]
        assert first == "✗ Still failing: InvalidRequestError, this time."
        await pilot.press("r")
        await settle(pilot, lambda: screen.wrong_tries == 2)
        assert str(outcome.content).splitlines()[0] == "✗ Still failing: InvalidRequestError again."
