"""Saved progress that survives: partly bad files, hostile files, failed saves.

Each case writes a real ``tour.json`` (or puts something else in its place) and opens
a real ``Tour`` on it; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.core.tour import Progress, Tour, build_lessons

LESSONS = build_lessons()
GOOD = {
    "guess": "value",
    "guess_label": "it works",
    "real": "missing-greenlet",
    "real_label": "MissingGreenlet",
    "right": False,
    "done": True,
}


def write(path: Path, data: object) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_round_trip_keeps_every_field(tmp_path: Path):
    path = tmp_path / "tour.json"
    tour = Tour(path)
    assert tour.current() is tour.lessons[0] and tour.load_message == ""
    tour.progress.lessons[LESSONS[0].name] = Progress.from_json(
        json.dumps({"lessons": {LESSONS[0].name: GOOD}})
    ).lessons[LESSONS[0].name]
    tour.progress.taught["wrapped"] = 1
    assert tour.save()
    again = Tour(path)
    assert again.progress == tour.progress and again.load_message == ""


def test_a_partly_bad_file_keeps_every_valid_record_and_a_backup(tmp_path: Path):
    path = tmp_path / "tour.json"
    names = [lesson.name for lesson in LESSONS]
    lessons = {
        names[0]: GOOD,
        names[1]: {**GOOD, "written_by": "a newer version"},  # an extra field: kept
        names[2]: None,  # a null record
        names[3]: {key: value for key, value in GOOD.items() if key != "real"},  # missing
        names[4]: {**GOOD, "right": "yes"},  # wrong type
    }
    original = "\ufeff" + json.dumps({"version": 1, "lessons": lessons})  # with a BOM
    path.write_text(original, encoding="utf-8")
    tour = Tour(path)
    assert set(tour.progress.lessons) == {names[0], names[1]}
    message = tour.load_message
    assert message.count("\n") == 0
    assert "kept 2 lessons" in message
    for name in names[2:5]:
        assert name in message
    backup = path.with_name("tour.json.bak")
    assert backup.read_text(encoding="utf-8") == original
    assert f"kept as {backup.name}" in message
    # The next save keeps what was valid, and a second bad load never overwrites the backup.
    assert tour.save()
    assert set(json.loads(path.read_text("utf-8"))["lessons"]) == {names[0], names[1]}
    path.write_text("{broken", encoding="utf-8")
    Tour(path)
    assert backup.read_text(encoding="utf-8") == original
    assert path.with_name("tour.json.bak1").read_text(encoding="utf-8") == "{broken"


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe{}", b"[" * 50000, b"{not json", b"[]", b'{"lessons": 3}', b"\x00" * 10],
    ids=["invalid-utf8", "deep-nesting", "not-json", "a-list", "lessons-not-a-table", "nul"],
)
def test_an_unreadable_file_is_a_fresh_start_with_a_message(tmp_path: Path, content: bytes):
    path = tmp_path / "tour.json"
    path.write_bytes(content)
    tour = Tour(path)
    assert tour.progress.lessons == {}
    assert tour.load_message.endswith(".") and "starting afresh" in tour.load_message
    assert tour.load_message.count("\n") == 0
    assert path.with_name("tour.json.bak").read_bytes() == content


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_its_place_never_hangs(tmp_path: Path):
    """Opened in a child with a deadline, so a hang fails the test instead of stalling it."""
    path = tmp_path / "tour.json"
    os.mkfifo(path)
    code = (
        "import sys; from pathlib import Path; from playground.core.tour import Tour; "
        "t = Tour(Path(sys.argv[1])); print(t.load_message); print(len(t.progress.lessons))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    message, count = done.stdout.splitlines()
    assert "is not a regular file: starting afresh" in message and count == "0"
    assert not path.exists() or path.is_file()


def test_a_folder_in_its_place_is_said_and_saving_reports_it(tmp_path: Path):
    path = tmp_path / "tour.json"
    path.mkdir()
    tour = Tour(path)
    assert "not a regular file" in tour.load_message
    assert not tour.save()
    assert tour.save_problem is not None and str(path) in tour.save_problem
    assert [p.name for p in tmp_path.iterdir()] == ["tour.json"]  # no temporary file left


def test_a_failed_save_is_reported_and_leaves_no_temporary_file(tmp_path: Path):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "tour.json"
    tour = Tour(path)
    assert tour.save()
    folder.chmod(0o500)  # read-only folder: the temporary file cannot be made
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user that writes anywhere")
        assert not tour.save()
        assert tour.save_problem is not None and "Progress not saved" in tour.save_problem
    finally:
        folder.chmod(0o700)
    assert sorted(p.name for p in folder.iterdir()) == ["tour.json"]
    assert tour.save() and tour.save_problem is None


def test_a_save_under_a_file_fails_and_says_why(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be", encoding="utf-8")
    tour = Tour(blocker / "tour.json")
    assert not tour.save()
    assert tour.save_problem is not None and tour.save_problem.startswith("Progress not saved")


async def test_a_failed_save_is_on_screen_right_after_the_guess(tmp_path: Path):
    from textual.widgets import Static

    from playground.ui.tour import TourApp

    from .pilot import settle

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    app = TourApp(f"sqlite+aiosqlite:///{tmp_path / 'lab.db'}", progress_path=blocker / "tour.json")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.tour_screen
        assert screen is not None
        await settle(pilot, lambda: screen.phase == "primer")
        await pilot.press("enter")
        await settle(pilot, lambda: screen.phase == "guess")
        await pilot.press("1")
        await settle(pilot, lambda: screen.phase == "fix")
        status = str(screen.query_one("#tour-status", Static).content)
        assert "Progress not saved to" in status
        await pilot.press("q")
