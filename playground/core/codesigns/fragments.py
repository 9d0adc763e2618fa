"""Signs in a piece of pasted code that may not be a whole file, or not even parse.

Tried in order: the text as it is; dedented (code copied from inside a function); with
the lines that break parsing blanked one by one (a traceback line, a prompt, a cut
statement), which keeps every line number; and last a scan of the tokens for the few
signs a single line can show (an async driver URL in ``create_engine``, ``create_all``
on an engine, ``expire_on_commit``).
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import time
import tokenize
from dataclasses import replace

from .analyze import Module, Sign, analyze, make_sign
from .syntax import is_async_url

MAX_REPAIRS = 40
REPAIR_SECONDS = 0.5
MAX_TEXT = 256_000
"""A longer paste is read from its last MAX_TEXT characters (where the code near an error
usually is), cut at a line start; line numbers still count from the top of the paste."""
PROMPT = re.compile(r"^(\s*)(>>>|\.\.\.)( |$)")
FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _parse(source: str) -> ast.Module | None:
    try:
        tree = compile(source, "<paste>", "exec", flags=FLAGS, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return tree if isinstance(tree, ast.Module) else None


def tolerant_parse(source: str) -> tuple[ast.Module | None, str]:
    """A tree for ``source`` or its nearest parseable variant, and the text it came from."""
    text = source.replace("\r\n", "\n")
    text = "\n".join(PROMPT.sub(r"\1", line) for line in text.split("\n"))
    tree = _parse(text)
    if tree is not None:
        return tree, text
    dedented = textwrap.dedent(text)
    tree = _parse(dedented)
    if tree is not None:
        return tree, dedented
    lines = dedented.split("\n")
    deadline = time.monotonic() + REPAIR_SECONDS
    for _ in range(MAX_REPAIRS):
        if time.monotonic() > deadline:
            break
        candidate = "\n".join(lines)
        try:
            compile(candidate, "<paste>", "exec", flags=FLAGS, dont_inherit=True)
        except SyntaxError as exc:
            number = (exc.lineno or 0) - 1
            if not 0 <= number < len(lines):
                number = len(lines) - 1
            if number < 0 or not lines[number].strip():
                # The error is reported past the text (an open block): blank the last line.
                filled = [i for i, line in enumerate(lines) if line.strip()]
                if not filled:
                    return None, text
                number = filled[-1]
            lines[number] = _neutral(lines, number)
            continue
        except (ValueError, RecursionError, MemoryError):
            return None, text
        tree = _parse(candidate)
        return tree, candidate
    return None, text


def _neutral(lines: list[str], number: int) -> str:
    """A stand-in for a broken line: ``pass`` where a block needs a body, else nothing."""
    previous = next((lines[i] for i in range(number - 1, -1, -1) if lines[i].strip()), "").rstrip()
    if previous.endswith(":"):
        indent = len(previous) - len(previous.lstrip()) + 4
        return " " * indent + "pass"
    return ""


def _token_signs(source: str, path: str) -> list[Sign]:
    """The signs a token scan can still see in text that does not parse."""
    module = Module(path, ast.Module(body=[], type_ignores=[]), source)
    signs: list[Sign] = []
    tokens: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            tokens.append(token)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    for index, token in enumerate(tokens):
        if token.type != tokenize.NAME:
            continue
        ahead = [t for t in tokens[index + 1 : index + 8] if t.type != tokenize.NL]
        line, column = token.start[0], token.start[1] + 1
        if token.string == "create_engine" and len(ahead) >= 2 and ahead[0].string == "(":
            if ahead[1].type == tokenize.STRING and is_async_url(ahead[1].string.strip("\"'rbf")):
                signs.append(
                    make_sign(
                        module,
                        [],
                        "async-driver-in-sync-engine",
                        (line, column),
                        "create_engine() given an async driver URL",
                        "high",
                    )
                )
        elif token.string in ("create_all", "drop_all") and ahead and ahead[0].string == "(":
            signs.append(
                make_sign(
                    module,
                    [],
                    "sync-api-on-async",
                    (line, column),
                    f"{token.string}() called directly, not through conn.run_sync()",
                    "low",
                    "hint",
                )
            )
        elif token.string == "expire_on_commit" and len(ahead) >= 2 and ahead[1].string == "True":
            signs.append(
                make_sign(
                    module,
                    [],
                    "expired-after-commit",
                    (line, column),
                    "expire_on_commit=True: every commit expires the session's objects",
                    "low",
                    "hint",
                )
            )
    return signs


def signs_in_text(source: str, path: str = "<paste>") -> list[Sign]:
    """Signs in one piece of Python that may be a fragment; never raises.

    Without the factory in sight, a session is taken to expire on commit (SQLAlchemy's
    default), so a read after ``await session.commit()`` counts, at medium confidence.
    """
    return signs_in_pieces([(path, source)])


def signs_in_pieces(pieces: list[tuple[str, str]]) -> list[Sign]:
    """Signs in several pieces of one paste (its files or code blocks), read as one project.

    A query in one piece and the model it loads in another are read together, as
    ``playground check`` reads a project's files. Each sign keeps its piece's path, and
    its line counts from that piece's top. Never raises.
    """
    try:
        modules: list[Module] = []
        signs: list[Sign] = []
        skipped: dict[str, int] = {}
        budget = MAX_TEXT
        for path, whole in reversed(pieces):
            source = whole
            if len(source) > budget:
                cut = source.find("\n", len(source) - budget)
                cut = len(source) - budget if cut < 0 else cut + 1
                skipped[path] = source.count("\n", 0, cut)
                source = source[cut:]
            budget -= len(source)
            tree, text = tolerant_parse(source)
            if tree is None:
                signs.extend(_token_signs(source, path))
            else:
                modules.append(Module(path, tree, text))
            if budget <= 0:
                break
        if modules:
            found, _ = analyze(modules[::-1], assume_default=True)
            signs.extend(found)
        signs = [replace(sign, line=sign.line + skipped.get(sign.path, 0)) for sign in signs]
        return sorted(signs, key=lambda s: (s.path, s.line, s.column, s.code))
    except (RecursionError, MemoryError):
        return []
