"""The command line as a user meets it: flags, clear one-line errors, the printed script."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from playground import __version__


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "playground", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_version_and_help():
    assert run_cli("--version").stdout.strip() == f"playground {__version__}"
    help_text = run_cli("--help").stdout
    for flag in ("--db", "--no-expire-on-commit", "--auto-refresh", "--print-script"):
        assert flag in help_text


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "not a database URL"),
        ("nosuchdb+nodriver://x", "unknown database driver"),
        ("sqlite:///plain.db", "not an asyncio driver"),
        ("sqlite+aiosqlite:///{tmp}/a-file/below/it.db", "cannot open SQLite file"),
    ],
)
def test_bad_database_is_one_clear_line(tmp_path: Path, url: str, says: str):
    (tmp_path / "a-file").write_text("not a folder")
    result = run_cli("--db", url.format(tmp=tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("playground: ") and says in lines[0]


def test_print_script_follows_the_flags():
    on = run_cli("--print-script").stdout
    off = run_cli("--print-script", "--no-expire-on-commit", "--auto-refresh").stdout
    refresh = re.compile(r"^\s+await session\.refresh\(user\)", re.M)
    assert "expire_on_commit=True)" in on and not refresh.search(on)
    assert "expire_on_commit=False)" in off and refresh.search(off)
    compile(on, "script.py", "exec")
