"""Regenerate the tour's screenshots from real runs, at 80x24.

Usage: python scripts/tour_screenshots.py [--starts DIR]
Writes screenshots/tour-summary.png and tour-lesson.png, lesson 1 after a wrong guess
(needs rsvg-convert: apt-get install librsvg2-bin
fonts-symbola). Every lesson is run for real on a throwaway SQLite database and answered
as a learner might: right, except three lessons answered with "it works". ``--starts DIR``
also writes each lesson's first screen at 80x24 into DIR, to look at, not to commit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.lab import Lab  # noqa: E402
from playground.core.scenarios import DEFAULT_SCENARIO  # noqa: E402
from playground.core.tour import TOUR_NAME, VALUE, Tour, classify  # noqa: E402
from playground.ui.tour import TourApp, TourScreen  # noqa: E402
from tests.pilot import settle  # noqa: E402

OUT = ROOT / "screenshots"
SIZE = (80, 24)
URL = "sqlite+aiosqlite:///playground.db"
"""Relative to a throwaway working folder, so no path of the machine is shown."""
WRONG = ("after-commit", "closed-session", "serialization")
"""The lessons answered "it works", for a summary that shows what a missed lesson says."""


def to_png(svg: Path, png: Path) -> None:
    """Convert with rsvg-convert, keeping the spaces Textual's SVG relies on."""
    text = svg.read_text(encoding="utf-8").replace(
        '<svg class="rich-terminal"', '<svg xml:space="preserve" class="rich-terminal"', 1
    )
    subprocess.run(["rsvg-convert", "-f", "png", "-o", str(png)], input=text.encode(), check=True)


async def answer_every_lesson(progress: Path) -> None:
    """Run each lesson's scenario for real and answer it, as the tour itself would save it."""
    tour = Tour(progress, restart=True)
    lab = Lab(URL)
    await lab.open()
    try:
        for lesson in tour.lessons:
            result = await lab.run(lesson.scenario, TOUR_NAME, lesson.settings())
            real = classify(result)
            picked = real if lesson.name not in WRONG else VALUE
            choice = next((c for c in lesson.choices if c.key == picked.key), lesson.choices[0])
            tour.answer(lesson, choice, result)
            tour.finish(lesson)
    finally:
        await lab.close()


async def summary(workdir: Path) -> None:
    progress = workdir / "tour.json"
    await answer_every_lesson(progress)
    app = TourApp(URL, progress_path=progress)
    async with app.run_test(size=SIZE) as pilot:
        await settle(
            pilot, lambda: app.tour_screen is not None and app.tour_screen.phase == "summary"
        )
        await settle(pilot, lambda: True)
        svg = Path(app.save_screenshot(filename="tour-summary.svg", path=str(workdir)))
    to_png(svg, OUT / "tour-summary.png")
    print((OUT / "tour-summary.png").relative_to(ROOT))


async def past_primer(app: TourApp, pilot: Pilot[None]) -> TourScreen:
    """Wait for the primer, press Enter, and wait for the lesson's question."""
    await settle(pilot, lambda: app.tour_screen is not None and app.tour_screen.phase == "primer")
    screen = app.tour_screen
    assert screen is not None
    await pilot.press("enter")
    await settle(pilot, lambda: screen.phase == "guess")
    return screen


async def lesson_start(name: str, workdir: Path, target: Path) -> None:
    """A lesson's first screen, opened as ``playground tour --lesson NAME`` opens it."""
    app = TourApp(URL, progress_path=workdir / f"{name}.json", lesson=name)
    async with app.run_test(size=SIZE) as pilot:
        screen = await past_primer(app, pilot)
        await settle(pilot, lambda: screen._code_starts != [])
        await settle(pilot, lambda: True)
        svg = Path(app.save_screenshot(filename=f"{name}.svg", path=str(workdir)))
    png = target / f"tour-start-{screen.lesson.number:02d}-{name}.png"  # type: ignore[union-attr]
    to_png(svg, png)
    print(png)


async def lesson_after_wrong_guess(workdir: Path) -> None:
    """Lesson 1 after the guess "it works": the grade, what was raised, and the switches."""
    app = TourApp(URL, progress_path=workdir / "wrong.json", lesson=DEFAULT_SCENARIO)
    async with app.run_test(size=SIZE) as pilot:
        screen = await past_primer(app, pilot)
        await pilot.press("1")  # "it works": wrong with the lesson's own settings
        await settle(pilot, lambda: screen.phase == "fix")
        await settle(pilot, lambda: True)
        svg = Path(app.save_screenshot(filename="tour-lesson.svg", path=str(workdir)))
    (OUT / "tour-lesson.svg").write_text(svg.read_text(encoding="utf-8"), encoding="utf-8")
    to_png(svg, OUT / "tour-lesson.png")
    print((OUT / "tour-lesson.png").relative_to(ROOT))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=Path, help="also write each lesson's first screen here")
    args = parser.parse_args()
    starts = args.starts.resolve() if args.starts else None
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        os.environ["XDG_DATA_HOME"] = tmp  # the learner's own tour.json is never touched
        await summary(Path(tmp))
        await lesson_after_wrong_guess(Path(tmp))
        if starts is not None:
            starts.mkdir(parents=True, exist_ok=True)
            for lesson in Tour(Path(tmp) / "unused.json").lessons:
                await lesson_start(lesson.name, Path(tmp), starts)


if __name__ == "__main__":
    asyncio.run(main())
