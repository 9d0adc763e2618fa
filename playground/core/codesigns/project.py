"""A project on disk: which files to read, its configuration, its requirements, its noqa.

Files come from the paths given (folders walked, ``.gitignore`` files honoured with the
``pathspec`` library, the usual tool folders skipped), configuration from
``[tool.playground.check]`` in the nearest ``pyproject.toml`` (``exclude``, ``select``,
``ignore``), and ``greenlet-missing`` from the declared requirements.
"""

from __future__ import annotations

import ast
import configparser
import gc
import io
import os
import re
import sys
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pathspec
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PackagingRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from .analyze import Module, Sign, analyze, make_sign

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

SKIPPED_DIRS = frozenset(
    {
        ".bzr",
        ".direnv",
        ".eggs",
        ".git",
        ".git-rewrite",
        ".hg",
        ".mypy_cache",
        ".nox",
        ".pants.d",
        ".pytype",
        ".ruff_cache",
        ".svn",
        ".tox",
        ".venv",
        "__pypackages__",
        "_build",
        "buck-out",
        "dist",
        "node_modules",
        "site-packages",
        "venv",
        "__pycache__",
    }
)
NOQA = re.compile(r"#\s*noqa(?P<colon>:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?")


TEMPLATE = "its line holds template markup, {% or {{: a template of Python, not Python"
"""What a skipped file is when its failing line holds template markup."""


@dataclass(frozen=True)
class Problem:
    """A file that was skipped: unreadable (``read``) or not Python that parses (``parse``)."""

    path: str
    kind: str
    message: str
    line: int = 1
    column: int = 1


@dataclass
class CheckReport:
    """What ``check_paths`` found: the findings to print, the skipped files, and the size."""

    signs: list[Sign] = field(default_factory=list)
    hints: list[Sign] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    lines: int = 0

    @property
    def unreadable(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "read"]


@dataclass
class Config:
    """``[tool.playground.check]``: patterns to exclude and code prefixes to select or ignore."""

    exclude: list[str] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    root: Path | None = None

    def wants(self, code: str) -> bool:
        if self.select and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding a pyproject.toml."""
    here = start if start.is_dir() else start.parent
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def load_config(root: Path | None) -> Config:
    config = Config(root=root)
    if root is None:
        return config
    table = _read_toml(root / "pyproject.toml").get("tool", {}).get("playground", {})
    section = table.get("check", {}) if isinstance(table, dict) else {}
    if isinstance(section, dict):
        for key in ("exclude", "select", "ignore"):
            value = section.get(key, [])
            if isinstance(value, str):
                value = [value]
            if isinstance(value, list):
                setattr(config, key, [str(v) for v in value])
    return config


class Ignores:
    """``.gitignore`` files from the root down, plus the configured excludes."""

    def __init__(self, root: Path, exclude: list[str]) -> None:
        self.root = root
        self.specs: dict[Path, pathspec.PathSpec[Any] | None] = {}
        self.exclude = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None

    def _spec(self, folder: Path) -> pathspec.PathSpec[Any] | None:
        if folder not in self.specs:
            spec = None
            try:
                text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
                spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
            except OSError:
                pass
            self.specs[folder] = spec
        return self.specs[folder]

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """True when an exclude pattern or a .gitignore between the root and ``path`` matches."""
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return False
        suffix = "/" if is_dir else ""
        if self.exclude is not None and self.exclude.match_file("/".join(parts) + suffix):
            return True
        folder = self.root
        for depth in range(len(parts)):
            spec = self._spec(folder)
            if spec is not None and spec.match_file("/".join(parts[depth:]) + suffix):
                return True
            folder = folder / parts[depth]
        return False


def discover(paths: Sequence[Path], config: Config) -> tuple[list[Path], list[Problem]]:
    """The Python files under ``paths``, ignored ones left out; missing paths as problems."""
    files: list[Path] = []
    problems: list[Problem] = []
    for given in paths:
        if not given.exists():
            problems.append(Problem(str(given), "read", "no such file or folder"))
            continue
        if given.is_file():
            files.append(given)
            continue
        root = config.root if config.root is not None else given
        base = given.resolve()
        rooted = root.resolve()
        if rooted != base and rooted not in base.parents:
            rooted = base
        ignores = Ignores(rooted, config.exclude)
        for folder, dirs, names in os.walk(base, onerror=None):
            here = Path(folder)
            dirs[:] = sorted(
                d
                for d in dirs
                if d not in SKIPPED_DIRS
                and not d.endswith(".egg-info")
                and not ignores.ignored(here / d, True)
            )
            for name in sorted(names):
                if name.endswith((".py", ".pyi")) and not ignores.ignored(here / name, False):
                    files.append(_shown(here / name, given, base))
    return files, problems


def _shown(path: Path, given: Path, base: Path) -> Path:
    """The path as the user would write it: under the folder they named."""
    return given / path.relative_to(base)


def read_source(path: Path) -> str:
    """A Python file's text, decoded as Python decodes it (BOM, coding cookie)."""
    data = path.read_bytes()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def suppressed(sign: Sign, lines: list[str]) -> bool:
    """True when the sign's line carries ``# noqa`` or ``# noqa: <its code>``."""
    if not 1 <= sign.line <= len(lines):
        return False
    match = NOQA.search(lines[sign.line - 1])
    if match is None:
        return False
    if match.group("colon") is None:
        return True
    codes = re.split(r"[\s,]+", match.group("codes").upper())
    return any(sign.code.startswith(code) for code in codes if code)


def check_paths(
    paths: Sequence[str | Path],
    *,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    config: Config | None = None,
) -> CheckReport:
    """Check the files and folders of one project; never raises on a bad file.

    The cyclic garbage collector is paused meanwhile: the trees of every file stay alive
    until the end, and its full sweeps over them made the time grow faster than the size.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _check_paths(paths, select, ignore, config)
    finally:
        if collecting:
            gc.enable()


def _check_paths(
    paths: Sequence[str | Path],
    select: Sequence[str],
    ignore: Sequence[str],
    config: Config | None,
) -> CheckReport:
    given = [Path(p) for p in paths] or [Path(".")]
    if config is None:
        config = load_config(find_root(given[0].resolve()))
    if select:
        config.select = [s.upper() for s in select]
    if ignore:
        config.ignore = config.ignore + [s.upper() for s in ignore]
    files, problems = discover(given, config)
    report = CheckReport(problems=list(problems))
    modules: list[Module] = []
    sources: dict[str, list[str]] = {}
    for path in files:
        shown = str(path)
        try:
            source = read_source(path)
        except (OSError, UnicodeDecodeError, SyntaxError, LookupError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            report.problems.append(Problem(shown, "read", reason))
            continue
        report.files += 1
        report.lines += source.count("\n") + 1
        try:
            tree = ast.parse(source, filename=shown)
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", 1) or 1
            column = getattr(exc, "offset", 1) or 1
            message = f"SyntaxError: {getattr(exc, 'msg', str(exc))}"
            failed = source.splitlines()[line - 1] if 0 < line <= source.count("\n") + 1 else ""
            if "{%" in failed or "{{" in failed:
                message = TEMPLATE  # a cookiecutter or Jinja template of Python, not Python
            report.problems.append(Problem(shown, "parse", message, line, column))
            continue
        except RecursionError:
            report.problems.append(Problem(shown, "parse", "too deeply nested to read"))
            continue
        modules.append(Module(shown, tree, source))
        sources[shown] = source.splitlines()
    root = config.root if config.root is not None else _common_folder(given)
    try:
        signs, facts = analyze(modules, alembic_url=_alembic_url)
    except RecursionError:
        signs, facts = [], None
    if facts is not None and any(_shipped(path) for path, _ in facts.eager_asyncio_imports):
        signs.extend(_greenlet(root))
    for sign in sorted(signs, key=lambda s: (s.path, s.line, s.column, s.code)):
        if not config.wants(sign.code):
            continue
        lines = sources.get(sign.path)
        if lines is None:
            lines = _lines_of(sign.path)
        if suppressed(sign, lines):
            continue
        (report.signs if sign.strength == "finding" else report.hints).append(sign)
    report.problems.sort(key=lambda p: (p.path, p.line))
    return report


def _lines_of(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _common_folder(paths: Iterable[Path]) -> Path:
    folders = [p if p.is_dir() else p.parent for p in paths]
    return folders[0] if folders else Path(".")


def _alembic_url(env_path: str) -> str | None:
    """``sqlalchemy.url`` of the alembic.ini beside or above an alembic env.py."""
    folder = Path(env_path).resolve().parent
    for candidate in (folder, *list(folder.parents)[:2]):
        ini = candidate / "alembic.ini"
        if ini.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            try:
                parser.read(ini, encoding="utf-8")
            except (configparser.Error, OSError, UnicodeDecodeError):
                return None
            for section in parser.sections():
                if parser.has_option(section, "sqlalchemy.url"):
                    return parser.get(section, "sqlalchemy.url")
            return None
    return None


@dataclass(frozen=True)
class Requirement:
    path: Path
    line: int
    name: str
    extras: frozenset[str]
    versions: str = ""
    """The version specifier as written (``>=2.0.14,<2.1.0``), empty when none."""

    def allows_2_1(self) -> bool:
        """Whether the specifier lets SQLAlchemy 2.1 or later in; an unreadable one
        (poetry's ``^2.0``) is taken to."""
        try:
            specifier = SpecifierSet(self.versions)
        except InvalidSpecifier:
            return True
        return any(specifier.contains(release, prereleases=True) for release in _LATER)


_LATER = [f"2.1.{n}" for n in range(100)] + [f"2.{n}.0" for n in range(2, 20)] + ["3.0", "4.0"]
"""Releases from 2.1 on, enough of them to meet any specifier that admits one."""


def _requirement(text: str) -> tuple[str, frozenset[str], str] | None:
    match = REQUIREMENT.match(text)
    if match is None:
        return None
    name = match.group(1).lower().replace("_", "-")
    extras = match.group(2) or ""
    versions = text[match.end() :].split(";", 1)[0].strip().strip("()").strip()
    return (
        name,
        frozenset(e.strip().lower() for e in extras.strip("[]").split(",") if e.strip()),
        versions,
    )


def _line_of(lines: list[str], needle: str, entry: str | None = None) -> int:
    """The line that declares a requirement: its exact entry first, else its name."""
    if entry:
        for number, text in enumerate(lines, start=1):
            if entry in text:
                return number
    pattern = re.compile(r"""(^|["'\s])""" + re.escape(needle) + r"""($|[\s\[<>=!~;"',])""", re.I)
    for number, text in enumerate(lines, start=1):
        if pattern.search(text):
            return number
    return 1


def declared_requirements(root: Path) -> list[Requirement]:
    """The requirements a project declares: pyproject, requirements*.txt, setup.cfg."""
    found: list[Requirement] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = _read_toml(pyproject)
        lines = _lines_of(str(pyproject))
        project = data.get("project", {})
        entries: list[str] = []
        if isinstance(project, dict):
            entries += [str(d) for d in project.get("dependencies", []) or []]
            for group in (project.get("optional-dependencies", {}) or {}).values():
                entries += [str(d) for d in group or []]
        for entry in entries:
            parsed = _requirement(entry)
            if parsed:
                found.append(Requirement(pyproject, _line_of(lines, parsed[0], entry), *parsed))
        poetry = data.get("tool", {}).get("poetry", {})
        if isinstance(poetry, dict):
            tables = [poetry.get("dependencies", {})]
            tables += [g.get("dependencies", {}) for g in (poetry.get("group", {}) or {}).values()]
            for table in tables:
                for name, spec in (table or {}).items():
                    extras = spec.get("extras", []) if isinstance(spec, dict) else []
                    version = spec.get("version", "") if isinstance(spec, dict) else spec
                    key = name.lower().replace("_", "-")
                    found.append(
                        Requirement(
                            pyproject,
                            _line_of(lines, name, f"{name} ="),
                            key,
                            frozenset(str(e).lower() for e in extras),
                            "" if version == "*" else str(version),
                        )
                    )
    for requirements in sorted(root.glob("requirements*.txt")) + sorted(
        root.glob("requirements/*.txt")
    ):
        lines = _lines_of(str(requirements))
        for number, text in enumerate(lines, start=1):
            text = text.split("#", 1)[0].strip()
            if not text or text.startswith("-"):
                continue
            parsed = _requirement(text)
            if parsed:
                found.append(Requirement(requirements, number, *parsed))
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
            requires = parser.get("options", "install_requires", fallback="")
        except (configparser.Error, UnicodeDecodeError):
            requires = ""
        lines = _lines_of(str(setup_cfg))
        for text in requires.splitlines():
            parsed = _requirement(text.strip())
            if parsed:
                line = _line_of(lines, parsed[0], text.strip())
                found.append(Requirement(setup_cfg, line, *parsed))
    return found


ASYNCIO_EXTRAS = frozenset(
    {"asyncio", "postgresql-asyncpg", "aiomysql", "aioodbc", "asyncmy", "aiosqlite"}
)
"""SQLAlchemy's extras that pull in its asyncio extra (and so greenlet)."""


def _shipped(path: str) -> bool:
    """Whether a file runs as the project's own code when it is installed: not a test
    (run with the test requirements) and not a template copied into other projects."""
    parts = Path(path).parts
    name = parts[-1] if parts else ""
    return not (
        set(parts[:-1]) & {"tests", "test", "templates"}
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _brings_greenlet(name: str, extras: frozenset[str], seen: set[str]) -> bool:
    """Whether the installed distribution ``name`` (with these extras) requires greenlet,
    or SQLAlchemy's asyncio extra, itself or through what it requires.

    fastapi-users[sqlalchemy] brings ``sqlalchemy[asyncio]``: a project that declares it
    has greenlet. Read from installed metadata only, never by importing; a distribution
    that is not installed here brings nothing that can be seen.
    """
    if name in seen:
        return False
    seen.add(name)
    try:
        requires = metadata.requires(name) or []
    except (metadata.PackageNotFoundError, ValueError):
        return False
    for text in requires:
        try:
            wanted = PackagingRequirement(text)
        except InvalidRequirement:
            continue
        if wanted.marker is not None and not any(
            wanted.marker.evaluate({"extra": extra}) for extra in (*extras, "")
        ):
            continue
        key = canonicalize_name(wanted.name)
        asked = frozenset(canonicalize_name(e) for e in wanted.extras)
        if key == "greenlet" or (key == "sqlalchemy" and asked & ASYNCIO_EXTRAS):
            return True
        if _brings_greenlet(key, asked, seen):
            return True
    return False


def _greenlet(root: Path) -> list[Sign]:
    """greenlet-missing: sqlalchemy is declared without [asyncio] and greenlet is not."""
    requirements = declared_requirements(root)
    names = {r.name for r in requirements}
    if "greenlet" in names:
        return []
    plain = [r for r in requirements if r.name == "sqlalchemy"]
    extras = {e.replace("_", "-") for r in plain for e in r.extras}
    if not plain or extras & ASYNCIO_EXTRAS:
        return []
    seen: set[str] = {"sqlalchemy"}  # its own greenlet marker is what the message explains
    if any(_brings_greenlet(r.name, r.extras, seen) for r in requirements):
        return []
    first = plain[0]
    shown = str(first.path)
    try:
        shown = str(first.path.relative_to(Path.cwd()))
    except ValueError:
        pass
    module = Module(shown, ast.Module(body=[], type_ignores=[]), "")
    said = (
        "the code imports sqlalchemy.ext.asyncio, but the requirements name sqlalchemy "
        "without the [asyncio] extra and without greenlet "
    )
    if any(r.allows_2_1() for r in plain):
        said += "(SQLAlchemy 2.1 no longer installs greenlet)"
        confidence = "high"
    else:
        # Below 2.1, SQLAlchemy itself requires greenlet, but only on the machines its
        # marker lists: an Apple Silicon Mac reports arm64, which is not among them.
        said += (
            "(SQLAlchemy 2.0 installs greenlet only on the machines it lists; an Apple "
            "Silicon Mac, arm64, is not one of them)"
        )
        confidence = "medium"
    return [make_sign(module, [], "greenlet-missing", (first.line, 1), said, confidence)]
