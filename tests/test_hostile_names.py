"""Hostile names, generated: no crash, stored exactly as accepted, shown literally."""

from __future__ import annotations

import asyncio
import io
import re
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from playground.core.lab import Lab
from playground.core.names import MAX_NAME_LENGTH, name_problem, paste_problem, visible
from playground.core.scenarios import SCENARIOS
from playground.ui.render import log_entry, preview

NASTY = [
    "[bold red]x[/]",
    "[link=https://example.com]click[/link]",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://example.com\x07link\x1b]8;;\x07",
    "\x1b]52;c;aGk=\x07",
    "nul\x00byte",
    "\x9b31m C1 CSI",
    "\u202eright-to-left",
    "zero\u200bwidth",
    "🙂" * 40,
    "`code` *md* <b>html</b>",
]

names = st.one_of(
    st.text(),
    st.sampled_from(NASTY),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=20)),
    st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=4), st.integers(500, 3000)),
)


@pytest.fixture(scope="module")
def lab_loop() -> Iterator[tuple[asyncio.Runner, Lab]]:
    """One in-memory lab on one event loop, shared by every generated example."""
    with asyncio.Runner() as runner:
        lab = Lab("sqlite+aiosqlite://")
        runner.run(lab.open())
        yield runner, lab
        runner.run(lab.close())


def rendered(text: Text) -> str:
    """What a terminal would be sent for ``text``, minus colours."""
    console = Console(width=20_000, record=True, color_system=None, file=io.StringIO())
    console.print(text, soft_wrap=True)
    return console.export_text()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=names)
def test_any_name(lab_loop: tuple[asyncio.Runner, Lab], name: str):
    runner, lab = lab_loop
    before = runner.run(lab.fetch_users(limit=1_000_000))
    problem = name_problem(name)
    if problem is not None:
        assert (
            not name.strip()
            or len(name) > MAX_NAME_LENGTH
            or any(unicodedata.category(c) == "Cc" for c in name)
        )
        assert "\x1b" not in problem and all(c.isprintable() for c in problem)
        return
    result = runner.run(lab.run(SCENARIOS["after-commit"], name, {"expire_on_commit": False}))
    after = runner.run(lab.fetch_users(limit=1_000_000))
    assert after[:-1] == before, "nothing else in the database changed"
    assert after[-1] == (int(result.outcome.value or 0), name), "stored exactly as typed"

    entry = rendered(log_entry(result, SCENARIOS["after-commit"].explain(result)))
    cell = rendered(Text(visible(name)))
    for shown in (entry, cell):
        assert not any(unicodedata.category(c) in ("Cc",) and c != "\n" for c in shown)
    assert repr(preview(name)) in entry, "the name appears literally, markup and all"
    assert visible(name) in cell.replace("\n", "")


@settings(max_examples=300, deadline=None)
@given(text=names)
def test_a_paste_is_refused_at_its_first_control_character(text: str):
    """A refused paste names the character and where it is; an accepted one has none."""
    problem = paste_problem(text)
    if problem is None:
        assert all(unicodedata.category(c) != "Cc" for c in text)
        assert len(text) <= MAX_NAME_LENGTH
        return
    if len(text) > MAX_NAME_LENGTH:
        assert f"{len(text):,} characters" in problem
        return
    found = re.search(r"at position (\d+) of ([\d,]+)", problem)
    assert found is not None, problem
    position, length = int(found[1]), int(found[2].replace(",", ""))
    assert length == len(text)
    char = text[position - 1]
    assert unicodedata.category(char) == "Cc"
    assert all(unicodedata.category(c) != "Cc" for c in text[: position - 1])
    assert ("a line break" in problem) == (char in "\r\n")
    assert char in "\r\n" or visible(char) in problem
    assert all(c.isprintable() for c in problem)
