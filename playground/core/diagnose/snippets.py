"""Find the Python code in a paste and read the signs in it with the static check's core.

People paste their code beside the error, fenced or not, whole files or a few lines.
The code-signs module (shared with ``playground check``) reads each piece tolerantly;
here the pieces are found and their signs' line numbers moved to the paste's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .reader import Reading

MAX_CODE = 200_000
"""At most this many characters of code are read from one paste."""
_FENCE = re.compile(r"^\s*(```|~~~)")
_CODE_LINE = re.compile(
    r"^\s*(?:async def |def |class |@\w|from [\w.]+ import |import \w|await |async with |"
    r"return |\w[\w.\[\]]* *(?::[^=]+)?= |\w[\w.]*\(.*\)\s*$)"
)


_CONTINUES = re.compile(r"$|[ \t]|[)\]}]|#|\"\"\"|'''")
"""Lines that go on a run of code: indented or blank, a closing bracket at the margin (the
end of a call split over lines), a comment, a docstring's quotes."""


@dataclass(frozen=True)
class CodeSign:
    """A sign of a pitfall in the pasted code, on a line of the paste."""

    pitfall: str
    line: int
    text: str
    message: str
    confidence: str
    finding: bool
    """True for what the static check would report; False for weak evidence (a hint)."""


def code_blocks(reading: Reading) -> list[tuple[int, str]]:
    """Runs of lines that look like code: fenced blocks, else runs of code-like lines.

    Each comes with the 1-based line number (in the paste) of its first line.
    """
    lines = reading.lines
    blocks: list[tuple[int, list[str]]] = []
    fenced = False
    current: list[str] = []
    start = 0
    any_fence = False
    for line in lines:
        if _FENCE.match(line.text):
            any_fence = True
            if fenced:
                blocks.append((start, current))
                current = []
            else:
                start = line.number + 1
            fenced = not fenced
            continue
        if fenced:
            current.append(line.text)
    if fenced and current:
        blocks.append((start, current))
    if not any_fence:
        run: list[str] = []
        run_start = 0
        for line in lines:
            text = line.text
            if _CODE_LINE.match(text) or (run and _CONTINUES.match(text)):
                if not run:
                    run_start = line.number
                run.append(text)
            else:
                if sum(1 for t in run if t.strip()) >= 2:
                    blocks.append((run_start, run))
                run = []
        if sum(1 for t in run if t.strip()) >= 2:
            blocks.append((run_start, run))
    out: list[tuple[int, str]] = []
    budget = MAX_CODE
    for first, body in blocks:
        code = "\n".join(body)
        if budget <= 0:
            break
        out.append((first, code[:budget]))
        budget -= len(code)
    return out


def code_signs(reading: Reading, blocks: list[tuple[int, str]] | None = None) -> list[CodeSign]:
    """The signs of every pitfall in the code the paste holds (its ``code_blocks``)."""
    from ..codesigns.fragments import signs_in_pieces

    found: list[CodeSign] = []
    texts = {line.number: line.text for line in reading.lines}
    if blocks is None:
        blocks = code_blocks(reading)
    # A piece is named by where it starts: a finding may name another piece in its message.
    firsts = {f"the code at line {first}": first for first, _ in blocks}
    pieces = [(f"the code at line {first}", code) for first, code in blocks]
    for sign in signs_in_pieces(pieces):
        if sign.path in firsts:
            line = firsts[sign.path] + sign.line - 1
            found.append(
                CodeSign(
                    sign.pitfall,
                    line,
                    texts.get(line, "").strip(),
                    sign.message,
                    sign.confidence,
                    sign.strength == "finding",
                )
            )
    return found
