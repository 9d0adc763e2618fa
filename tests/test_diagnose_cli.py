"""``playground diagnose``: exit codes, JSON, files and standard input, hostile bytes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "diagnose_corpus"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "playground", "diagnose", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def body(name: str) -> str:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("# "))


def test_a_named_pitfall_exits_0_and_prints_the_command(tmp_path: Path):
    path = tmp_path / "tb.txt"
    path.write_text(body("dify-12192.txt"))
    done = run(str(path))
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "Pitfall: closed-session-detached" in out
    assert "playground --scenario closed-session" in out


def test_standard_input_and_json():
    done = run("-", "--json", stdin=body("fastcrud-11.txt").encode())
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["pitfall"] == "sync-api-on-async"
    for key in ("confidence", "evidence", "fixes", "scenario", "command"):
        assert key in data
    assert all({"line", "text", "why"} <= set(item) for item in data["evidence"])
    assert data["command"].startswith("playground --scenario sync-engine-api")


def test_no_pitfall_exits_1_and_says_what_is_missing():
    done = run(stdin=b"it crashed, please help\n")
    assert done.returncode == 1
    out = done.stdout.decode()
    assert "No pitfall recognized" in out
    assert "nothing in the text relates to SQLAlchemy's asyncio layer" in out


@pytest.mark.parametrize("target", ["missing.txt", "."])
def test_unreadable_input_exits_2(tmp_path: Path, target: str):
    done = run(str(tmp_path / target))
    assert done.returncode == 2
    assert b"cannot read" in done.stderr
    assert done.stdout == b""


def test_undecodable_bytes_are_read_not_refused(tmp_path: Path):
    path = tmp_path / "latin1.txt"
    text = body("gpustack-1669.txt").encode() + b"\n\xff\xfe caf\xe9\n"
    path.write_bytes(text)
    done = run(str(path))
    assert done.returncode == 0
    assert b"closed-session-detached" in done.stdout


def test_escape_sequences_in_the_input_come_out_visible(tmp_path: Path):
    path = tmp_path / "evil.txt"
    evil = body("dify-12192.txt").replace(
        "WorkflowRun at", "Workflow\x1b]0;pwned\x07Run\x1b[2J\x08\x00 at"
    )
    path.write_text(evil)
    for args in ((str(path),), (str(path), "--json")):
        done = run(*args)
        assert done.returncode == 0
        assert not any(byte in done.stdout for byte in (b"\x1b", b"\x07", b"\x08", b"\x00"))
    shown = run(str(path)).stdout
    assert b"\\x08\\x00" in shown, "a lone control character is shown as an escape"


def test_the_readme_examples_are_the_real_output():
    """Each README example (a block after ``<!-- diagnose-example -->``), diagnosed now,
    prints the lines shown in the block after it, as the first lines of its output."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    examples = readme.split("<!-- diagnose-example -->")[1:]
    assert len(examples) >= 2
    for example in examples:
        blocks = example.split("```")[1::2]
        given, shown = blocks[0].strip("\n"), blocks[1].strip("\n")
        done = run(stdin=given.encode())
        assert done.returncode == 0
        printed = [line.rstrip() for line in done.stdout.decode().strip("\n").splitlines()]
        assert printed[: len(shown.splitlines())] == shown.splitlines()
