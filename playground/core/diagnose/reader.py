"""Turn pasted text into clean lines and stack frames, whatever decorated it.

Tracebacks arrive wrapped in log prefixes, ANSI colours, Rich panels, IPython arrows
and Windows paths; this module strips all of that so the rules only see frames,
code lines and exception lines. It reads from the end: the final exception line and
the innermost frames are at the bottom, so a huge paste costs at most a fixed window.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from ..names import visible

MAX_CHARS = 1_000_000
"""Only the last this-many characters are read; the end of a traceback is what counts."""
MAX_LINES = 20_000
"""Only the last this-many lines of that window are read."""
MAX_FRAMES = 400
"""Only the innermost this-many frames are kept; deeper stacks are recursion."""
MAX_LINE = 2_000
"""A longer line is cut to this many characters before any pattern looks at it."""

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?|[@-Z\\-_])")
_BARS = "│┃"
_EDGE_HEAD = frozenset(" \t│┃|")
_EDGE_TAIL = frozenset(" \t│┃")
_COMPOSE = re.compile(r"^[\w.-]+\s+\|\s?")
_GROUP = re.compile(r"^(?:\s*\|)+\s?")
_STAMP = re.compile(
    r"^\[?\d{4}-\d\d-\d\d[T ][\d:.,]+(?:Z|[+-]\d\d:?\d\d)?\]?"
    r"(?:\s+[\d,]+)?\s*(?:\[?(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\]?:?\s*)?"
)
_LEVEL = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+")

_STD_FRAME = re.compile(r'File "(?P<path>[^"]{1,500})", line (?P<line>\d+), in (?P<func>[^\s,]+)')
_RICH_TAIL = re.compile(r":(?P<line>\d+) in (?P<func>[\w<>.]+)")
_IPY_FRAME = re.compile(
    r"^(?P<path>(?:[~/\\]|[A-Za-z]:)[^\s]{0,500}\.py|<ipython-input-[^>]*>|Cell In\[\d+\])"
    r"(?:, line (?P<line>\d+))? in (?P<func>[\w<>.]+)"
)
_IPY_ARROW = re.compile(r"^-*> ?\s*(?P<line>\d+)\s(?P<code>.*)$")
_RICH_ARROW = re.compile(r"^[❱>]\s*(?P<line>\d+)\s(?P<code>.*)$")
_LISTING = re.compile(r"^(?:❱|-*>)?\s*\d+(?:\s|$)")
_CARETS = re.compile(r"^\s*[\^~]+\s*$")
_EXCEPTION = re.compile(
    r"^(?P<type>(?:[A-Za-z_]\w*\.){0,6}[A-Za-z_]\w*"
    r"(?:Error|Exception|Greenlet|Exit|Interrupt|Warning|Available|Timeout))"
    r"(?::\s?(?P<message>.*))?$"
)
_CHAIN = (
    "The above exception was the direct cause of the following exception",
    "During handling of the above exception, another exception occurred",
)
LIBRARY_ROOTS = (
    "sqlalchemy",
    "pydantic",
    "pydantic_core",
    "fastapi",
    "starlette",
    "uvicorn",
    "anyio",
    "asyncio",
    "celery",
    "kombu",
    "alembic",
    "_pytest",
    "pytest",
    "pluggy",
    "pytest_asyncio",
    "greenlet",
    "asyncpg",
    "aiosqlite",
    "aiomysql",
    "asyncmy",
    "psycopg",
    "marshmallow",
    "jinja2",
    "logging",
    "contextlib",
    "concurrent",
    "threading",
    "runpy",
    "debugpy",
    "sqlmodel",
    "strawberry",
    "litestar",
    "starlite",
)

QUIET = frozenset(
    {
        "sqlalchemy",
        "pydantic",
        "pydantic_core",
        "asyncpg",
        "aiosqlite",
        "greenlet",
        "python",
        "asyncio",
        "starlette",
        "fastapi",
        "uvicorn",
        "anyio",
        "logging",
        "contextlib",
    }
)
"""Libraries whose own source, printed under their frames, is never read as evidence."""
_PATH_TAIL = re.compile(r"^\S*\.py:\d+ in \S")
_PATH_HEAD = re.compile(r"^[^\s│]*[/\\][^\s│]*(?: in)?$")


@dataclass(frozen=True)
class Line:
    """One line of the input after cleaning, with its 1-based number in the original text."""

    number: int
    text: str
    section: int


@dataclass(frozen=True)
class Frame:
    """One stack frame: where it is, the function, and its source line if shown."""

    number: int
    path: str
    lineno: int
    func: str
    code: str
    section: int
    library: str | None
    """The top-level package for library frames (``sqlalchemy``...), None for user code."""
    caret: str = ""
    """The part of ``code`` the caret line points at, when Python 3.11+ printed one."""

    @property
    def sqlalchemy_module(self) -> str:
        """``orm/strategies.py`` for a SQLAlchemy frame, empty for others."""
        if self.library != "sqlalchemy":
            return ""
        _, _, rest = self.path.rpartition("sqlalchemy/")
        return rest

    @property
    def location(self) -> str:
        return f"{self.path}:{self.lineno}"


@dataclass(frozen=True)
class ExceptionLine:
    """A line that names an exception type, with its message."""

    number: int
    type: str
    message: str
    section: int

    @property
    def short_type(self) -> str:
        return self.type.rpartition(".")[2]


@dataclass(frozen=True)
class Reading:
    """Everything the rules look at: clean lines, frames, exception lines, sections."""

    lines: tuple[Line, ...]
    frames: tuple[Frame, ...]
    exceptions: tuple[ExceptionLine, ...]
    sections: int
    skipped_chars: int
    skipped_lines: int
    cut_lines: int
    text: str
    """The clean lines joined with newlines, for searching."""
    offsets: tuple[int, ...]
    """Where each clean line starts in ``text``."""

    def line_at(self, offset: int) -> Line:
        """The line that holds ``offset`` of ``text``."""
        return self.lines[bisect_right(self.offsets, offset) - 1]

    @property
    def final_exception(self) -> ExceptionLine | None:
        return self.exceptions[-1] if self.exceptions else None


def _strip_edges(text: str) -> str:
    """Drop a Rich panel's side bars: the leading and trailing runs of bars and blanks.

    Done by walking the string rather than with a pattern, which would retry at every
    position of a line made of bars and take time quadratic in its length.
    """
    start = 0
    last_bar = -1
    while start < len(text) and text[start] in _EDGE_HEAD:
        if text[start] in _BARS:
            last_bar = start
        start += 1
    head = 0
    if last_bar >= 0:
        head = last_bar + 1
        if head < len(text) and text[head] in " \t":
            head += 1
    end = len(text)
    first_bar = -1
    while end > head and text[end - 1] in _EDGE_TAIL:
        end -= 1
        if text[end] in _BARS:
            first_bar = end
    tail = len(text)
    if first_bar >= 0:
        tail = first_bar
        if tail > head and text[tail - 1] in " \t":
            tail -= 1
    return text[head:tail]


def rich_frame(text: str) -> tuple[str, str, str] | None:
    """Path, line and function of a Rich-style frame (``path.py:12 in func``) in ``text``.

    Each ``.py:`` is found with ``str.find`` and its path read backwards from there, so a
    long line costs linear time whatever it holds.
    """
    at = text.find(".py:")
    while at != -1:
        tail = _RICH_TAIL.match(text, at + 3)
        if tail is not None:
            begin = at
            while begin > 0 and at - begin < 497 and not text[begin - 1].isspace():
                if text[begin - 1] in _BARS:
                    break
                begin -= 1
            if begin < at:
                return text[begin : at + 3], tail.group("line"), tail.group("func")
        at = text.find(".py:", at + 4)
    return None


def _strip_decorations(raw: str) -> str:
    """Remove what terminals, loggers and pretty printers put around a traceback line."""
    text = visible(_ANSI.sub("", raw).replace("\t", "    ").replace("\xa0", " "))
    if "│" in text or "┃" in text:
        text = _strip_edges(text)
        if text.lstrip().startswith(("╭", "╰")):
            return ""
    if " | " in text[:80] or text.lstrip().startswith("|"):
        text = _COMPOSE.sub("", text, count=1)
        text = _GROUP.sub("", text, count=1)
    if text[:1].isdigit() or text.startswith("["):
        text = _STAMP.sub("", text, count=1)
    return _LEVEL.sub("", text, count=1)


def _library_of(path: str) -> str | None:
    """The package a frame's file belongs to, or None when it looks like the user's code."""
    norm = path.replace("\\", "/")
    for marker in ("site-packages/", "dist-packages/"):
        if marker in norm:
            root = norm.rpartition(marker)[2].split("/", 1)[0]
            return root.removesuffix(".py") or "site-packages"
    if norm.startswith("<") or "/lib/python3" in norm.lower() or "/Lib/" in norm:
        parts = norm.rstrip("/").split("/")
        return parts[-2] if len(parts) > 1 and parts[-2] in LIBRARY_ROOTS else "python"
    head = norm.lstrip("./").split("/", 1)[0]
    if head in LIBRARY_ROOTS:
        return head
    return None


def _caret_span(code_raw: str, caret_raw: str) -> str:
    """The slice of a code line under Python 3.11's ``^^^``/``~~~`` markers."""
    start = len(caret_raw) - len(caret_raw.lstrip())
    end = len(caret_raw.rstrip())
    return code_raw[start:end].strip()


def split_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: broken at ``\\n`` only (``\\r\\n`` counts as one).

    ``str.splitlines`` also breaks at form feeds, ``\\x1c``-``\\x1e``, ``\\x85`` and
    U+2028, which would shift every line number after them.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


_ESCAPED_TRACE = re.compile(r'Traceback \(most recent call last\):\\r?\\n|\\n\s*File \\?["\']')
"""A traceback written into one line with its newlines escaped (a JSON log, a repr)."""
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|[nrt\"'\\/])")
_ESCAPES = {"n": "\n", "r": "", "t": "\t", '"': '"', "'": "'", "\\": "\\", "/": "/"}


def _unescape(match: re.Match[str]) -> str:
    code = match.group(0)[1:]
    if code[0] == "u":
        point = int(code[1:], 16)
        return "\ufffd" if 0xD800 <= point <= 0xDFFF else chr(point)  # no lone surrogates
    return _ESCAPES[code]


def _expand_escaped(raw_lines: list[str]) -> tuple[list[str], list[int]]:
    """Lines of a traceback that a JSON log or a repr wrote as one line with ``\\n``.

    Structured loggers (JSON to stdout, as containers and cloud logs keep them) store the
    traceback as one string; unescaped, its frames read like any other. Returned beside
    the lines: the index of the line each came from, so line numbers stay the paste's.
    """
    lines: list[str] = []
    origins: list[int] = []
    for origin, raw in enumerate(raw_lines):
        pieces = [raw]
        if "\\n" in raw and _ESCAPED_TRACE.search(raw):
            pieces = _ESCAPE.sub(_unescape, raw).split("\n")
        lines.extend(pieces)
        origins.extend([origin] * len(pieces))
    return lines, origins


def read(text: str, skipped_lines: int = 0) -> Reading:
    """Read ``text`` from its end, within fixed bounds, into lines, frames and exceptions.

    ``skipped_lines`` counts the lines that came before ``text`` in the input (when the
    caller kept only a tail), so line numbers are those of the whole input.
    """
    skipped_chars = max(0, len(text) - MAX_CHARS)
    window = text[skipped_chars:]
    skipped_lines += text.count("\n", 0, skipped_chars) if skipped_chars else 0
    raw_lines = split_lines(window)
    if skipped_chars and len(raw_lines) > 1:
        raw_lines = raw_lines[1:]  # the first one is cut in the middle
        skipped_lines += 1
    raw_lines, origins = _expand_escaped(raw_lines)
    if len(raw_lines) > MAX_LINES:
        raw_lines, origins = raw_lines[-MAX_LINES:], origins[-MAX_LINES:]
    skipped_lines += origins[0] if origins else 0
    origins = [origin - origins[0] for origin in origins]

    cleaned: list[str] = []
    cut = 0
    for raw in raw_lines:
        if len(raw) > MAX_LINE:
            raw = raw[:MAX_LINE]
            cut += 1
        cleaned.append(_strip_decorations(raw))
    _join_wrapped_paths(cleaned)
    lines: list[Line] = []
    section = 0
    for index, clean in enumerate(cleaned):
        if any(marker in clean for marker in _CHAIN):
            section += 1
        lines.append(Line(skipped_lines + origins[index] + 1, clean, section))

    frames, library_code = _frames(lines)
    exceptions = tuple(
        ExceptionLine(
            line.number, m.group("type"), (m.group("message") or "").strip(), line.section
        )
        for line in lines
        if (m := _EXCEPTION.match(line.text.strip())) and not line.text.startswith(" " * 4)
    )
    offsets: list[int] = []
    position = 0
    for i, line in enumerate(lines):
        offsets.append(position)
        position += (0 if i in library_code else len(line.text)) + 1
    return Reading(
        lines=tuple(lines),
        frames=frames,
        exceptions=exceptions,
        sections=section + 1,
        skipped_chars=skipped_chars,
        skipped_lines=skipped_lines,
        cut_lines=cut,
        text="\n".join("" if i in library_code else line.text for i, line in enumerate(lines)),
        offsets=tuple(offsets),
    )


def _join_wrapped_paths(cleaned: list[str]) -> None:
    """Rejoin a frame's path that Rich wrapped over several lines of a narrow panel.

    Rich breaks anywhere, dropping the space at the break: ``.../attributes.py:5`` then
    ``75 in __get__``, or ``.../state.py:833 in`` then ``_load_expired``.
    """
    for index in range(len(cleaned) - 1):
        head = cleaned[index].strip()
        if not head or len(head) > 600 or not _PATH_HEAD.match(head) or _PATH_TAIL.match(head):
            continue
        joined = head
        for look in range(index + 1, min(index + 4, len(cleaned))):
            tail = cleaned[look].strip()
            if not tail or tail.count(" ") > 2:
                break
            whole = next(
                (joined + sep + tail for sep in ("", " ") if _PATH_TAIL.match(joined + sep + tail)),
                None,
            )
            if whole is not None:
                cleaned[index] = whole
                for blank in range(index + 1, look + 1):
                    cleaned[blank] = ""
                break
            if " " in tail.removesuffix(" in"):
                break
            joined += tail


def _frames(lines: list[Line]) -> tuple[tuple[Frame, ...], set[int]]:
    """Find the stack frames in every style the reader knows.

    Also returns the indexes of lines that are library source shown under a frame
    (SQLAlchemy's own code mentions IntegrityError, rollback...), so that text
    meanings never read them as the user's words.
    """
    found: list[Frame] = []
    library_code: set[int] = set()
    for index, line in enumerate(lines):
        text = line.text
        if 'File "' in text:
            matches = list(_STD_FRAME.finditer(text))
            for position, m in enumerate(matches):
                tail_end = matches[position + 1].start() if position + 1 < len(matches) else None
                code = text[m.end() : tail_end].strip()
                caret = ""
                if not code:
                    code, caret = _next_code(lines, index)
                frame = _frame(line, m.group("path"), m.group("line"), m.group("func"), code, caret)
                found.append(frame)
                if frame.library in QUIET and code and not text[m.end() :].strip():
                    library_code.update((index + 1, index + 2) if caret else (index + 1,))
            continue
        stripped = text.strip()
        if " in " not in stripped:
            continue
        rich = rich_frame(stripped) if ".py:" in stripped else None
        styled = None
        if rich:
            styled = _frame(line, *rich, _arrow_code(lines, index, _RICH_ARROW), "")
        elif ".py" in stripped or "<ipython" in stripped or "Cell In" in stripped:
            ipython = _IPY_FRAME.match(stripped)
            if ipython:
                styled = _frame(
                    line,
                    ipython.group("path"),
                    ipython.group("line"),
                    ipython.group("func"),
                    _arrow_code(lines, index, _IPY_ARROW),
                    "",
                )
        if styled is not None:
            found.append(styled)
            if styled.library in QUIET:
                library_code.update(_listing(lines, index))
    return tuple(found[-MAX_FRAMES:]), library_code


def _listing(lines: list[Line], index: int) -> list[int]:
    """The numbered source lines Rich or IPython print under the frame at ``index``."""
    marked: list[int] = []
    for look in range(index + 1, min(index + 24, len(lines))):
        text = lines[look].text.strip()
        if _LISTING.match(text):
            marked.append(look)
        elif 'File "' in text or (".py:" in text and rich_frame(text)):
            break
        elif _IPY_FRAME.match(text):
            break
    return marked


def _frame(
    line: Line, raw_path: str, number: str | None, func: str, code: str, caret: str
) -> Frame:
    path = raw_path.replace("\\", "/")
    return Frame(
        number=line.number,
        path=path,
        lineno=int(number) if number else 0,
        func=func,
        code=code,
        section=line.section,
        library=_library_of(path),
        caret=caret,
    )


def _next_code(lines: list[Line], index: int) -> tuple[str, str]:
    """The source line printed under a standard frame, and the caret span if any."""
    if index + 1 >= len(lines):
        return "", ""
    following = lines[index + 1].text
    stripped = following.strip()
    if not stripped or 'File "' in following or _EXCEPTION.match(stripped):
        return "", ""
    caret = ""
    if index + 2 < len(lines) and _CARETS.match(lines[index + 2].text):
        caret = _caret_span(following, lines[index + 2].text)
    return stripped, caret


def _arrow_code(lines: list[Line], index: int, arrow: re.Pattern[str]) -> str:
    """The highlighted source line of a Rich or IPython frame, looked for just below it."""
    for look in range(index + 1, min(index + 14, len(lines))):
        text = lines[look].text.strip()
        m = arrow.match(text)
        if m:
            return re.sub(r"^[│\s]+", "", m.group("code")).strip()
        if 'File "' in text or (".py:" in text and rich_frame(text)):
            break
        if _IPY_FRAME.match(text):
            break
    return ""
