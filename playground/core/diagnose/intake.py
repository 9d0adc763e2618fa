"""Read a report from a file or a stream, keeping only the tail the diagnosis reads.

A traceback's meaning is at its end, so a 3 GB log costs the same memory as a 4 MB one:
the bytes before the window are counted (for line numbers) and dropped as they stream
by. Byte-order marks are honoured, so what PowerShell's ``2> err.txt`` writes (UTF-16)
reads like any other file.
"""

from __future__ import annotations

import codecs
import os
from dataclasses import dataclass
from typing import BinaryIO

from .reader import MAX_CHARS

WINDOW_BYTES = MAX_CHARS * 4
"""Enough bytes for the reader's character window in any encoding it meets."""
CHUNK = 1 << 20


@dataclass(frozen=True)
class Intake:
    """The text to diagnose and how many lines came before it in the input."""

    text: str
    skipped_lines: int
    encoding: str


def _encoding(head: bytes) -> tuple[str, int]:
    """The encoding a byte-order mark announces (or UTF-8), and the mark's length."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return name, len(bom)
    if len(head) >= 8 and head[1:8:2] == b"\0\0\0\0" and head[0:8:2].count(0) == 0:
        return "utf-16-le", 0  # UTF-16 without a mark: every other byte is zero
    return "utf-8", 0


def _newlines(data: bytes, encoding: str) -> int:
    if encoding.startswith("utf-16"):
        return data.decode(encoding, errors="replace").count("\n")
    return data.count(b"\n")


def read_stream(stream: BinaryIO) -> Intake:
    """Read ``stream`` to its end, keeping only the last ``WINDOW_BYTES`` of it."""
    head = stream.read(CHUNK) or b""
    encoding, mark = _encoding(head)
    kept = bytearray(head[mark:])
    skipped_lines = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        kept += chunk
        if len(kept) > 2 * WINDOW_BYTES:
            cut = _aligned(len(kept) - WINDOW_BYTES, encoding)
            skipped_lines += _newlines(bytes(kept[:cut]), encoding)
            del kept[:cut]
    return _finish(bytes(kept), skipped_lines, encoding, trimmed=skipped_lines > 0)


def read_file(path: str | os.PathLike[str]) -> Intake:
    """Read a file's tail by seeking, counting the newlines before it in chunks."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        encoding, mark = _encoding(head)
        size = handle.seek(0, os.SEEK_END)
        start = max(mark, _aligned(size - WINDOW_BYTES, encoding, mark))
        skipped_lines = 0
        handle.seek(mark)
        position = mark
        while position < start:
            data = handle.read(min(CHUNK, start - position))
            if not data:
                break
            skipped_lines += _newlines(data, encoding)
            position += len(data)
        handle.seek(start)
        return _finish(handle.read(), skipped_lines, encoding, trimmed=start > mark)


def _aligned(offset: int, encoding: str, mark: int = 0) -> int:
    """``offset`` moved to a character boundary for two-byte encodings."""
    offset = max(offset, mark)
    if encoding.startswith("utf-16") and (offset - mark) % 2:
        offset += 1
    return offset


def _finish(data: bytes, skipped_lines: int, encoding: str, trimmed: bool) -> Intake:
    text = data.decode(encoding, errors="replace")
    if trimmed:
        # The first line of the window is cut in the middle: drop it, and count it.
        cut = text.find("\n")
        if cut != -1:
            text = text[cut + 1 :]
            skipped_lines += 1
    return Intake(text, skipped_lines, encoding)
