"""Input built to break the diagnosis: huge, pathological, closed streams, odd encodings.

The time bounds are generous ceilings against quadratic blow-ups (the inputs below took
3.7-5.1 s each before the reader walked them in linear time), not performance claims.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from playground.core.diagnose import diagnose, render_text
from playground.core.diagnose.intake import WINDOW_BYTES, read_file

GREENLET = (
    "sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call "
    "await_only() here. Was IO attempted in an unexpected place?"
)


def _lines(unit: str, total: int = 1_000_000) -> str:
    line = (unit * (1999 // len(unit) + 1))[:1999]
    return (line + "\n") * (total // 2000)


SHAPES = {
    "long words ending near Error": _lines("Erro"),
    "panel bars": _lines("x" + "│" * 30),
    "paths before .py:": _lines("a" * 300 + ".py:x in y "),
    "frame openings": _lines('File "'),
    "spaces": " " * 1_000_000,
    "one 1 MB line": "x" * 1_000_000,
    "escape openings": _lines("\x1b["),
    "wrapped markers": _lines("eError: (sqlalchemy.exc.MissingGreenlet)"),
    "one escaped line of frames": "Traceback (most recent call last):\\n"
    + '  File \\"x.py\\", line 1, in f\\n' * 30_000,
    "escaped newlines": "Traceback (most recent call last):" + "\\n" * 500_000,
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_pathological_megabyte_finishes_quickly(shape: str):
    started = time.perf_counter()
    diagnose(SHAPES[shape])
    assert time.perf_counter() - started < 2.0


def test_ten_megabytes_of_traceback_like_text_finishes_quickly():
    frame = '  File "/srv/app/jobs.py", line 12, in run\n    name = user.name\n'
    text = frame * 90_000 + " " * 500_000 + 'File "' * 50_000 + "x" * 1_000_000 + "\n"
    text += frame * 40_000 + GREENLET + "\n"
    assert len(text) > 10_000_000
    started = time.perf_counter()
    diagnosis = diagnose(text)
    assert time.perf_counter() - started < 2.0
    assert diagnosis.exception is not None and "MissingGreenlet" in diagnosis.exception


@pytest.mark.parametrize(
    "breaker", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\r"]
)
def test_line_numbers_are_an_editors_after_odd_breaks(breaker: str):
    text = f"first{breaker}still the first line\n" + "\n" * 5 + GREENLET + "\n"
    diagnosis = diagnose(text)
    assert any(item.line == 7 for item in diagnosis.evidence), diagnosis.evidence


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200b", "\u2028", "\n"])
def test_direction_and_invisible_characters_come_out_escaped(char: str):
    path = f'  File "/srv/app/a{char}b.py", line 3, in handler\n    return user.name\n'
    diagnosis = diagnose(path + GREENLET.replace("unexpected", f"un{char}expected"))
    for line in render_text(diagnosis).splitlines():
        assert char not in line


def test_a_utf16_file_is_read(tmp_path: Path):
    text = '  File "/srv/app/jobs.py", line 3, in run\n    print(user.name)\n' + GREENLET + "\n"
    for encoding, bom in (("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(bom + text.replace("\n", "\r\n").encode(encoding))
        intake = read_file(path)
        assert intake.text.replace("\r\n", "\n") == text
        assert diagnose(intake.text).exception is not None


def test_a_big_file_keeps_its_line_numbers(tmp_path: Path):
    path = tmp_path / "big.log"
    filler = "INFO something happened\n" * (WINDOW_BYTES // 10)
    path.write_text(filler + GREENLET + "\n")
    intake = read_file(path)
    assert len(intake.text) <= WINDOW_BYTES
    diagnosis = diagnose(intake.text, intake.skipped_lines)
    lines = filler.count("\n") + 1
    assert any(item.line == lines for item in diagnosis.evidence), diagnosis.evidence


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "playground", "diagnose", *args],
        capture_output=True,
        timeout=120,
        **kwargs,
    )


def test_closed_standard_input_is_one_line_and_status_2():
    done = run(stdin=subprocess.DEVNULL, pass_fds=(), preexec_fn=lambda: os.close(0))
    assert done.returncode == 2
    assert done.stderr.count(b"\n") == 1 and b"standard input is closed" in done.stderr


def test_closed_standard_output_is_one_line_and_status_2():
    done = subprocess.run(
        [sys.executable, "-m", "playground", "diagnose"],
        input=GREENLET.encode(),
        stdout=None,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.count(b"\n") == 1 and b"standard output is closed" in done.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line_and_status_2():
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "playground", "diagnose"],
            input=GREENLET.encode(),
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=120,
        )
    assert done.returncode == 2
    assert done.stderr.count(b"\n") == 1 and b"cannot write" in done.stderr


def test_an_ascii_terminal_gets_escapes_not_a_traceback():
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = run(input=("Ärger: " + GREENLET + " 中文\n").encode(), env=env)
    assert done.returncode in (0, 1)
    assert b"Traceback" not in done.stderr
    assert b"\\xc4" in done.stdout or b"\\u4e2d" in done.stdout


def test_an_endless_stream_is_read_in_constant_memory():
    script = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (700 << 20, 700 << 20));"
        "from playground.commands.diagnose import main; sys.exit(main(['-']))"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None
        chunk = b"\0" * (1 << 20)
        for _ in range(1024):  # one gigabyte
            proc.stdin.write(chunk)
        proc.stdin.close()
        proc.wait(timeout=120)
        assert proc.stderr is not None
        err = proc.stderr.read()
    assert proc.returncode in (0, 1), err
    assert b"Traceback" not in err


def test_ctrl_c_while_reading_a_terminal_is_one_line_and_status_2():
    """At a terminal it says it is reading standard input; Ctrl+C ends it with one line."""
    import pty
    import select
    import signal

    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, its standard input a terminal
        # A job started in the background inherits SIGINT ignored, and Python then never
        # raises KeyboardInterrupt: give the command the terminal's usual Ctrl+C.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.execv(sys.executable, [sys.executable, "-m", "playground", "diagnose"])
    seen = b""
    deadline = time.monotonic() + 60
    while b"Ctrl+D" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            seen += os.read(fd, 4096)
    assert b"reading a traceback from standard input" in seen
    os.kill(pid, signal.SIGINT)
    status = None
    deadline = time.monotonic() + 30
    while status is None and time.monotonic() < deadline:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = code
        else:
            time.sleep(0.05)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
        pytest.fail("Ctrl+C did not end the command within 30 s")
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                break
            seen += os.read(fd, 4096)
    except OSError:
        pass  # the terminal closed with the child
    os.close(fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 2, status
    assert b"Traceback" not in seen
    assert b"interrupted while reading" in seen
