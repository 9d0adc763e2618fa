"""Regenerate the README's screenshots from the real app, on a throwaway database.

Usage: python scripts/screenshots.py   (writes screenshots/*.svg, and *.png where
rsvg-convert is installed: apt-get install librsvg2-bin fonts-symbola)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playground.core.scenarios import DEFAULT_SCENARIO, SCENARIOS  # noqa: E402
from playground.ui.app import make_app  # noqa: E402
from tests.pilot import add, settle  # noqa: E402

OUT = ROOT / "screenshots"
Steps = Callable[[Pilot[None]], Awaitable[None]]


async def nothing(pilot: Pilot[None]) -> None:
    await settle(pilot, lambda: pilot.app.lab.engine is not None)  # type: ignore[attr-defined]


async def missing_greenlet(pilot: Pilot[None]) -> None:
    await add(pilot, "Foo")


async def fix_expire(pilot: Pilot[None]) -> None:
    await add(pilot, "Foo")
    await pilot.press("f2")
    await add(pilot, "Bar")


async def fix_refresh(pilot: Pilot[None]) -> None:
    await add(pilot, "Foo")
    await pilot.press("f3")
    await add(pilot, "Baz")


async def details(pilot: Pilot[None]) -> None:
    await add(pilot, "Foo")
    await pilot.press("f6")
    await pilot.pause()


async def script(pilot: Pilot[None]) -> None:
    await pilot.press("f2", "f7")
    await pilot.pause()


async def one_run(pilot: Pilot[None]) -> None:
    await add(pilot, "Foo")


SHOTS: list[tuple[str, tuple[int, int], Steps, str]] = [
    ("fresh-start", (100, 32), nothing, DEFAULT_SCENARIO),
    ("missing-greenlet", (100, 32), missing_greenlet, DEFAULT_SCENARIO),
    ("fix-expire-on-commit-off", (100, 32), fix_expire, DEFAULT_SCENARIO),
    ("fix-refresh", (100, 32), fix_refresh, DEFAULT_SCENARIO),
    ("details", (100, 40), details, DEFAULT_SCENARIO),
    ("script", (100, 40), script, DEFAULT_SCENARIO),
    ("missing-greenlet-80x24", (80, 24), missing_greenlet, DEFAULT_SCENARIO),
    *((f"scenario-{name}", (100, 32), one_run, name) for name in SCENARIOS),
]


async def shoot(
    name: str, size: tuple[int, int], steps: Steps, scenario: str, workdir: Path
) -> Path:
    # A file named relative to a throwaway working folder: the header shows no path of
    # the machine, and scenarios that open a second connection see the same data.
    (workdir / "playground.db").unlink(missing_ok=True)
    app = make_app("sqlite+aiosqlite:///playground.db", scenario=scenario, exports_dir=workdir)
    async with app.run_test(size=size) as pilot:
        await steps(pilot)
        await settle(pilot, lambda: True)
        path = Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT)))
    return path


def to_png(svg: Path) -> None:
    """Convert with rsvg-convert, keeping the spaces Textual's SVG relies on."""
    text = svg.read_text(encoding="utf-8").replace(
        '<svg class="rich-terminal"', '<svg xml:space="preserve" class="rich-terminal"', 1
    )
    subprocess.run(
        ["rsvg-convert", "-f", "png", "-o", str(svg.with_suffix(".png"))],
        input=text.encode(),
        check=True,
    )


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        for name, size, steps, scenario in SHOTS:
            svg = await shoot(name, size, steps, scenario, Path(tmp))
            if shutil.which("rsvg-convert"):
                to_png(svg)
            print(svg.relative_to(ROOT))


if __name__ == "__main__":
    asyncio.run(main())
