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
        ("sqlite+aiosqlite:////dev/null", "not a regular file"),
        ("sqlite+aiosqlite:///{tmp}", "not a regular file"),
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


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused start: status 2, nothing on stdout, no traceback."""
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("playground: ")
    return line


@pytest.mark.parametrize("print_script", [False, True], ids=["start", "print-script"])
def test_a_url_that_does_not_parse_is_not_echoed_with_its_password(print_script: bool):
    typed = "postgresql+asyncpg://alice:S3cr3t@host:notaport/db?password=Qz9&sslpassword=Wv8"
    line = one_line(run_cli("--db", typed, *(["--print-script"] if print_script else [])))
    assert "not a database URL" in line and "alice:***@host:notaport/db" in line
    for secret in ("S3cr3t", "Qz9", "Wv8"):
        assert secret not in line


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:///plain.db", "not an asyncio driver"),
        ("postgresql://u@localhost/db", "not an asyncio driver"),
        ("postgresql+nosuchdriver://u@localhost/db", "unknown database driver"),
        ("", "the database URL is empty"),
    ],
    ids=["sync-sqlite", "no-driver", "unknown-driver", "empty"],
)
def test_print_script_refuses_a_url_the_script_could_not_use(url: str, says: str):
    assert says in one_line(run_cli("--print-script", "--db", url))


def test_print_script_without_the_driver_installed():
    code = (
        "import sys; sys.modules['asyncpg'] = None\n"
        "from playground.__main__ import main\n"
        "sys.exit(main(['--print-script', '--db', 'postgresql+asyncpg://u@127.0.0.1/db']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert 'pip install "sqlalchemy-async-playground[postgres]"' in one_line(result)


def test_print_script_drops_a_password_given_as_a_query_parameter():
    url = "postgresql+asyncpg://alice@db.example:5432/lab?password=S3cr3t&ssl=require"
    result = run_cli("--print-script", "--db", url)
    assert result.returncode == 0 and "S3cr3t" not in result.stdout + result.stderr
    assert "'postgresql+asyncpg://alice@db.example:5432/lab?ssl=require'" in result.stdout


def test_empty_db_does_not_name_the_default_file(private_data_dir: Path):
    line = one_line(run_cli("--db", ""))
    assert "empty" in line and "playground.db" not in line and str(private_data_dir) not in line


def test_escapes_in_a_path_are_shown_not_sent_to_the_terminal(tmp_path: Path):
    title = "\x1b]0;pwned\x07"
    line = one_line(run_cli("--db", f"sqlite+aiosqlite:///{tmp_path}/{title}/x.db"))
    assert "\x1b" not in line and "\x07" not in line
    assert "\\x1b]0;pwned\\x07" in line


def test_a_newline_in_a_path_keeps_the_error_on_one_line(tmp_path: Path):
    line = one_line(run_cli("--db", f"sqlite+aiosqlite:///{tmp_path}/two\nlines/x.db"))
    assert "two\\nlines" in line


def test_an_unknown_switch_is_shown_escaped():
    result = run_cli("--\x1b[2Jwipe")
    assert result.returncode == 2 and "\x1b" not in result.stderr
    assert "\\x1b[2Jwipe is not a switch" in result.stderr


def test_starting_in_a_deleted_folder_is_one_line(tmp_path: Path):
    gone = tmp_path / "gone"
    gone.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "playground", "--db", "sqlite+aiosqlite://"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=gone,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        preexec_fn=gone.rmdir,
    )
    assert "current folder no longer exists" in one_line(result)
