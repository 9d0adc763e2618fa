"""``playground check``: output formats, exit status, noqa, configuration, files it skips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.__main__ import main as playground_main
from playground.commands.check import main as check_main
from playground.core.codesigns import CODES, Sign, check_paths, signs_in_text

EXPIRED = """\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

engine = create_async_engine("sqlite+aiosqlite://")
Session = async_sessionmaker(engine)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


async def rename(uid: int, name: str) -> str:
    async with Session() as session:
        user = await session.get(User, uid)
        user.name = name
        await session.commit()
        return user.name{noqa}
"""
CLEAN = EXPIRED.replace(
    "async_sessionmaker(engine)", "async_sessionmaker(engine, expire_on_commit=False)"
)


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    """A small project on disk: a pyproject.toml plus the given files."""
    files = {"pyproject.toml": '[project]\nname = "demo"\n', **files}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = check_main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_text_output_has_ruff_lines_the_fix_and_the_live_command(tmp_path, capsys):
    root = project(tmp_path, {"app.py": EXPIRED.format(noqa="")})
    status, out, _ = run(capsys, str(root))
    assert status == 1
    lines = out.splitlines()
    path = str(root / "app.py")
    assert lines[0].startswith(f"{path}:23:16: AOR101 user.name is read after commit() at line 22")
    assert lines[1].strip().startswith("fix: ") and "expire_on_commit=False" in lines[1]
    assert lines[2].strip() == "see it live: playground --scenario after-commit"
    assert lines[-1] == "Found 1 finding in 1 file."


def test_no_findings_exit_zero(tmp_path, capsys):
    root = project(tmp_path, {"app.py": CLEAN.format(noqa="")})
    status, out, _ = run(capsys, str(root))
    assert (status, out) == (0, "No findings in 1 file.\n")


def test_json_format(tmp_path, capsys):
    root = project(tmp_path, {"app.py": EXPIRED.format(noqa="")})
    status, out, _ = run(capsys, "--format", "json", str(root))
    assert status == 1
    [finding] = json.loads(out)
    assert finding["path"] == str(root / "app.py")
    assert (finding["line"], finding["column"], finding["code"]) == (23, 16, "AOR101")
    assert finding["pitfall"] == "expired-after-commit"
    assert finding["scenario"] == "after-commit"
    assert "user.name" in finding["message"] and finding["fix"]


def test_github_format(tmp_path, capsys):
    root = project(tmp_path, {"app.py": EXPIRED.format(noqa="")})
    status, out, _ = run(capsys, "--format", "github", str(root))
    assert status == 1
    [line] = out.splitlines()
    assert line.startswith("::error title=AOR101 (expired-after-commit),file=")
    assert ",line=23,col=16::AOR101 user.name is read" in line


def test_sarif_format(tmp_path, capsys):
    root = project(tmp_path, {"app.py": EXPIRED.format(noqa="")})
    status, out, _ = run(capsys, "--format", "sarif", str(root))
    assert status == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    run_ = log["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == [c.code for c in CODES]
    [result] = run_["results"]
    assert result["ruleId"] == "AOR101"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 23, "startColumn": 16}


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("  # noqa: AOR101", True),
        ("  # noqa: E501, AOR101", True),
        ("  # noqa", True),
        ("  # NOQA:AOR1", True),
        ("  # noqa: AOR102", False),
    ],
)
def test_noqa(tmp_path, capsys, comment, suppressed):
    root = project(tmp_path, {"app.py": EXPIRED.format(noqa=comment)})
    status, _, _ = run(capsys, str(root))
    assert status == (0 if suppressed else 1)


def test_config_exclude_select_ignore(tmp_path, capsys):
    root = project(
        tmp_path,
        {
            "app.py": EXPIRED.format(noqa=""),
            "legacy/old.py": EXPIRED.format(noqa=""),
        },
    )
    pyproject = root / "pyproject.toml"
    base = pyproject.read_text()
    assert run(capsys, str(root))[2] == "" and len(check_paths([root]).signs) == 2
    pyproject.write_text(base + '[tool.playground.check]\nexclude = ["legacy/"]\n')
    assert [s.path for s in check_paths([root]).signs] == [str(root / "app.py")]
    pyproject.write_text(base + '[tool.playground.check]\nignore = ["AOR101"]\n')
    assert run(capsys, str(root))[0] == 0
    pyproject.write_text(base + '[tool.playground.check]\nselect = ["AOR102", "AOR11"]\n')
    assert run(capsys, str(root))[0] == 0
    pyproject.write_text(base)
    assert run(capsys, "--ignore", "aor1", str(root))[0] == 0
    assert run(capsys, "--select", "AOR101", str(root))[0] == 1


def test_gitignore_is_honoured(tmp_path, capsys):
    root = project(
        tmp_path,
        {
            ".gitignore": "build_out/\n*_generated.py\n",
            "app.py": CLEAN.format(noqa=""),
            "build_out/copy.py": EXPIRED.format(noqa=""),
            "pkg/models_generated.py": EXPIRED.format(noqa=""),
            "pkg/.gitignore": "local.py\n",
            "pkg/local.py": EXPIRED.format(noqa=""),
            ".venv/lib/site.py": EXPIRED.format(noqa=""),
        },
    )
    report = check_paths([root])
    assert report.signs == [] and report.files == 1
    # A file named on the command line is checked even when ignored, as ruff does.
    assert len(check_paths([root / "build_out" / "copy.py"]).signs) == 1


def test_a_file_that_does_not_parse_is_reported_and_skipped(tmp_path, capsys):
    root = project(
        tmp_path,
        {"broken.py": "def f(:\n    pass\n", "app.py": EXPIRED.format(noqa="")},
    )
    status, out, err = run(capsys, str(root))
    assert status == 1
    assert "AOR101" in out
    assert f"{root / 'broken.py'}:1:7: cannot parse, skipped (SyntaxError:" in err
    version = ".".join(map(str, sys.version_info[:2]))
    assert f"1 file could not be parsed by this Python ({version}); if the project" in err
    (root / "app.py").write_text(CLEAN.format(noqa=""))
    assert run(capsys, str(root))[0] == 0


def test_a_template_of_python_is_named_as_a_template(tmp_path, capsys):
    """A cookiecutter file (``from {{cookiecutter.name}}.db import ...``) is skipped as a
    template, and no later Python is suggested for it."""
    root = project(
        tmp_path,
        {
            "app.py": CLEAN.format(noqa=""),
            "template/db.py": "import asyncio\nfrom {{cookiecutter.name}}.db import engine\n",
            "template/main.py": "{%- if cookiecutter.db %}\nimport db\n{%- endif %}\n",
        },
    )
    status, _, err = run(capsys, str(root))
    assert status == 0
    assert err.count("its line holds template markup, {% or {{: a template of Python") == 2
    assert "db.py:2:" in err and "main.py:1:" in err
    assert "could not be parsed by this Python" not in err


def test_unreadable_files_and_missing_paths_exit_two(tmp_path, capsys):
    root = project(tmp_path, {"app.py": EXPIRED.format(noqa="")})
    (root / "gone.py").symlink_to(root / "nowhere.py")
    (root / "cookie.py").write_bytes(b"# -*- coding: no-such-codec -*-\nx = 1\n")
    status, out, err = run(capsys, str(root))
    assert status == 2
    assert "AOR101" in out  # the readable files are still checked
    assert f"cannot read {root / 'gone.py'}" in err
    assert f"cannot read {root / 'cookie.py'}" in err
    status, _, err = run(capsys, str(tmp_path / "missing"))
    assert status == 2 and "no such file or folder" in err


MODELS = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
"""
DB = """\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
Session = async_sessionmaker(engine)
"""
SERVICE = """\
from .db import Session
from .models import User


async def rename(uid: int, name: str) -> str:
    async with Session() as session:
        user = await session.get(User, uid)
        user.name = name
        await session.commit()
        return user.name
"""


def test_a_folder_is_walked_and_read_as_one_project(tmp_path, capsys):
    root = project(
        tmp_path,
        {
            "src/app/__init__.py": "",
            "src/app/db.py": DB,
            "src/app/models.py": MODELS,
            "src/app/service.py": SERVICE,
        },
    )
    report = check_paths([root / "src"])
    assert report.files == 4
    assert [(Path(s.path).name, s.line, s.code) for s in report.signs] == [
        ("service.py", 10, "AOR101")
    ]
    # The factory in another module decides: with expire_on_commit=False nothing is flagged.
    (root / "src/app/db.py").write_text(
        DB.replace(
            "async_sessionmaker(engine)", "async_sessionmaker(engine, expire_on_commit=False)"
        )
    )
    assert check_paths([root / "src"]).signs == []


def test_control_characters_in_paths_are_escaped(tmp_path, capsys):
    root = project(tmp_path, {"bad\x1b[31m\n.py": EXPIRED.format(noqa="")})
    status, out, _ = run(capsys, str(root))
    assert status == 1
    assert "\x1b" not in out and "bad\\x1b[31m\\n.py:23:16: AOR101" in out


def test_usage_error_exits_two(capsys):
    with pytest.raises(SystemExit) as exit_:
        check_main(["--format", "yaml"])
    assert exit_.value.code == 2


def test_the_cli_dispatches_check(tmp_path, capsys):
    root = project(tmp_path, {"app.py": EXPIRED.format(noqa="")})
    assert playground_main(["check", str(root)]) == 1
    assert "AOR101" in capsys.readouterr().out


def test_the_installed_command_runs_in_a_fresh_process(tmp_path):
    root = project(tmp_path, {"app.py": EXPIRED.format(noqa="")})
    done = subprocess.run(
        [sys.executable, "-m", "playground", "check", "--format", "json", "app.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"),
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)[0]["path"] == "app.py"


@pytest.mark.parametrize(
    ("requirements", "flagged"),
    [
        ("sqlalchemy>=2.0\nfastapi\n", True),
        ("SQLAlchemy[asyncio]>=2.0\n", False),
        ("sqlalchemy>=2.0\ngreenlet>=3\n", False),
        ("sqlalchemy[postgresql-asyncpg]>=2.0\n", False),
        ("sqlalchemy[postgresql_asyncpg]>=2.0\n", False),
        ("fastapi\n", False),
    ],
)
def test_greenlet_missing_from_the_requirements(tmp_path, capsys, requirements, flagged):
    root = project(tmp_path, {"requirements.txt": requirements, "app.py": CLEAN.format(noqa="")})
    signs = check_paths([root]).signs
    if flagged:
        [sign] = signs
        assert (Path(sign.path).name, sign.line, sign.code) == ("requirements.txt", 1, "AOR112")
    else:
        assert signs == []


def test_greenlet_missing_from_pyproject_dependencies(tmp_path):
    root = project(tmp_path, {"app.py": CLEAN.format(noqa="")})
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\ndescription = "FastAPI + SQLAlchemy"\n'
        'dependencies = [\n    "fastapi",\n    "sqlalchemy>=2.0",\n]\n'
    )
    [sign] = check_paths([root]).signs
    assert (sign.line, sign.pitfall) == (6, "greenlet-missing")


@pytest.mark.parametrize(
    ("pin", "confidence", "reason"),
    [
        ("sqlalchemy>=2.0", "high", "SQLAlchemy 2.1 no longer installs greenlet"),
        ("sqlalchemy>=2.0.14,<2.1.0", "medium", "an Apple Silicon Mac, arm64"),
        ("sqlalchemy~=2.0.30", "medium", "an Apple Silicon Mac, arm64"),
        ("sqlalchemy==2.1.2", "high", "SQLAlchemy 2.1 no longer installs greenlet"),
    ],
)
def test_greenlet_missing_says_why_for_the_releases_the_pin_allows(
    tmp_path, pin, confidence, reason
):
    """A pin that allows 2.1 misses greenlet everywhere; a pin below 2.1 only on the
    machines SQLAlchemy 2.0's own requirement leaves out."""
    root = project(tmp_path, {"requirements.txt": pin + "\n", "app.py": CLEAN.format(noqa="")})
    [sign] = check_paths([root]).signs
    assert (sign.code, sign.confidence) == ("AOR112", confidence)
    assert reason in sign.message


_LAZY_IMPORT = "def run_async():\n    from sqlalchemy.ext.asyncio import AsyncConnection\n"
_TYPING_IMPORT = (
    "from typing import TYPE_CHECKING\n"
    "if TYPE_CHECKING:\n    from sqlalchemy.ext.asyncio import AsyncSession\n"
)
_GUARDED_IMPORT = (
    "try:\n    from sqlalchemy.ext.asyncio import AsyncSession\n"
    "except ImportError:\n    AsyncSession = None\n"
)
_EAGER_IMPORT = "import sys\nif sys.version_info >= (3, 10):\n    import sqlalchemy.ext.asyncio\n"


@pytest.mark.parametrize(
    ("files", "flagged"),
    [
        ({"lib/ops.py": _LAZY_IMPORT}, False),
        ({"lib/models.py": _TYPING_IMPORT}, False),
        ({"lib/compat.py": _GUARDED_IMPORT}, False),
        ({"tests/test_async.py": _EAGER_IMPORT}, False),
        ({"lib/templates/async/env.py": _EAGER_IMPORT}, False),
        ({"lib/db.py": _EAGER_IMPORT}, True),
    ],
)
def test_greenlet_is_required_only_by_imports_that_run_with_the_package(tmp_path, files, flagged):
    """An import inside a function, under TYPE_CHECKING or in a try that catches its
    failure runs only when asked for; tests run with their own requirements, and a template
    is copied into other projects. An import at module level in the package is required."""
    root = project(tmp_path, {"requirements.txt": "sqlalchemy>=2.0\n", **files})
    codes = [s.code for s in check_paths([root]).signs]
    assert codes == (["AOR112"] if flagged else [])


@pytest.mark.parametrize(
    ("declared", "flagged"),
    [
        ("usersdb", False),  # requires sqlalchemy[asyncio] itself
        ("toolkit", True),  # brings greenlet only with its extra
        ("toolkit[async]", False),
        ("frontend", False),  # requires usersdb, which requires sqlalchemy[asyncio]
    ],
)
def test_greenlet_brought_by_an_installed_requirement_counts(
    tmp_path, monkeypatch, declared, flagged
):
    """A requirement whose installed metadata requires sqlalchemy[asyncio] or greenlet
    (fastapi-users[sqlalchemy] does), directly or through its own requirements, brings
    greenlet; one that brings it only with an extra does so when that extra is asked for."""
    site = tmp_path / "site"
    for name, requires in {
        "usersdb": ["sqlalchemy[asyncio]>=2.0"],
        "toolkit": ['greenlet>=3; extra == "async"'],
        "frontend": ["usersdb>=1"],
    }.items():
        info = site / f"{name}-1.0.dist-info"
        info.mkdir(parents=True)
        lines = [f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"]
        lines += [f"Requires-Dist: {r}\n" for r in requires]
        (info / "METADATA").write_text("".join(lines))
    monkeypatch.syspath_prepend(str(site))
    root = project(
        tmp_path / "app",
        {"requirements.txt": f"sqlalchemy>=2.0\n{declared}\n", "app.py": CLEAN.format(noqa="")},
    )
    codes = [s.code for s in check_paths([root]).signs]
    assert codes == (["AOR112"] if flagged else [])


def test_sqlalchemy_2_0_leaves_greenlet_out_on_an_apple_silicon_mac():
    """What the medium AOR112 says, read from the installed 2.0's own metadata: its
    greenlet requirement holds on x86_64 and aarch64 Linux, not on macOS's arm64."""
    from importlib.metadata import requires, version

    from packaging.requirements import Requirement

    if not version("sqlalchemy").startswith("2.0."):
        pytest.skip("the marker is SQLAlchemy 2.0's; 2.1 asks for greenlet only with [asyncio]")
    greenlet = [Requirement(r) for r in requires("sqlalchemy") or [] if r.startswith("greenlet")]

    def needed_on(machine: str) -> bool:
        """Whether a plain ``pip install sqlalchemy`` brings greenlet on this machine."""
        where = {"platform_machine": machine, "extra": ""}
        return any(r.marker is None or r.marker.evaluate(where) for r in greenlet)

    assert needed_on("x86_64") and needed_on("aarch64")
    assert not needed_on("arm64")


def test_every_pitfall_with_a_scenario_has_one_code():
    from playground.core.diagnose import PITFALLS
    from playground.core.scenarios import SCENARIOS

    assert len({c.code for c in CODES}) == len(CODES)
    assert {c.pitfall for c in CODES} <= set(PITFALLS)
    assert {c.pitfall for c in CODES} >= set(PITFALLS) - {"event-or-hook-io"}
    assert all(c.code.startswith("AOR") and len(c.code) == 6 for c in CODES)
    import playground.core.codesigns as module

    for code in CODES:
        assert f"{code.code}  {code.pitfall}" in (module.__doc__ or "")
    # Every switch a sign may ask for exists in its scenario.
    sign = Sign(
        "AOR103",
        "serialization-lazy",
        "x.py",
        1,
        1,
        "m",
        "f",
        "high",
        "finding",
        ("just_committed",),
    )
    assert sign.command == "playground --scenario serialization --just-committed"
    flags = {o.flag for o in SCENARIOS["serialization"].options}
    assert "--just-committed" in flags
    assert "--use-inspect" in {o.flag for o in SCENARIOS["sync-engine-api"].options}
    assert "--fstring" in {o.flag for o in SCENARIOS["repr-logging"].options}


def test_pre_commit_hook_definition():
    text = (Path(__file__).parent.parent / ".pre-commit-hooks.yaml").read_text()
    assert "- id: playground-check" in text
    assert "entry: playground check" in text
    assert "language: python" in text and "types: [python]" in text


FRAGMENTS = [
    # A traceback pasted around the code, a cut statement, a prompt.
    'Traceback (most recent call last):\n  File "x.py", line 3\n'
    'engine = create_engine("postgresql+asyncpg://u@h/db")\n',
    "    await session.commit()\n    return user.name\n",
    ">>> user = await session.get(User, 1)\n>>> await session.commit()\n>>> print(user.name)\n",
    "async def f(session):\n    user = await session.get(User, 1)\n    await session.commit()\n"
    "    print(user.name)\n    return {'a': (\n",
]


def test_signs_in_pasted_fragments():
    engine = signs_in_text(FRAGMENTS[0])
    assert [(s.pitfall, s.line, s.strength) for s in engine] == [
        ("async-driver-in-sync-engine", 3, "finding")
    ]
    prompt = signs_in_text(FRAGMENTS[2])
    assert [(s.pitfall, s.line, s.confidence) for s in prompt] == [
        ("expired-after-commit", 3, "medium")
    ]
    cut = signs_in_text(FRAGMENTS[3])
    assert ("expired-after-commit", 4) in [(s.pitfall, s.line) for s in cut]


def test_hints_are_weak_signs_for_the_diagnosis():
    signs = signs_in_text(
        "Session = async_sessionmaker(engine)\n"
        "class User(Base):\n"
        "    __tablename__ = 'users'\n"
        "    posts = relationship('Post')\n"
        "    updated_at = Column(DateTime, onupdate=func.now())\n"
        "    def __repr__(self):\n"
        "        return f'<User {self.name}>'\n"
        "model_config = ConfigDict(from_attributes=True)\n"
        "Base.metadata.create_all(engine)\n"
        "await asyncio.gather(a(session), b(session))\n"
    )
    hints = {(s.pitfall, s.line) for s in signs if s.strength == "hint"}
    assert hints >= {
        ("expired-after-commit", 1),
        ("lazy-relationship", 4),
        ("server-default-onupdate", 5),
        ("repr-or-logging", 6),
        ("serialization-lazy", 8),
        ("sync-api-on-async", 9),
    }
    assert ("concurrent-session-use", 10) in {(s.pitfall, s.line) for s in signs}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00\x01\x02",
        "(" * 5000,
        "def f(:\n" * 200,
        "x = '''unterminated",
        "\ufeffimport os\r\nprint(1)\r",
        "a" * 1_000_000,
        "async with Session() as s:\n" * 120 + "    pass\n",
    ],
)
def test_signs_in_text_never_raises(text):
    assert isinstance(signs_in_text(text), list)


HEAD = """\
from sqlalchemy import ForeignKey, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

engine = create_async_engine("sqlite+aiosqlite://")
Session = async_sessionmaker(engine, expire_on_commit={expire})


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    bio: Mapped[str] = mapped_column(deferred=True)
    posts: Mapped[list["Post"]] = relationship({lazy})


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""
HEAD_LINES = HEAD.count("\n")


@pytest.mark.parametrize(
    ("expire", "lazy", "body", "expected"),
    [
        # A relationship read on an object loaded without a loader option.
        (
            "False",
            "",
            "    user = await session.get(User, 1)\n    return len(user.posts)\n",
            [("lazy-relationship", 2)],
        ),
        # The same with lazy="selectin", with selectinload, or through awaitable_attrs: loaded.
        (
            "False",
            'lazy="selectin"',
            "    user = await session.get(User, 1)\n    return len(user.posts)\n",
            [],
        ),
        (
            "False",
            "",
            "    user = await session.scalar(select(User).options(selectinload(User.posts)))\n"
            "    return len(user.posts)\n",
            [],
        ),
        (
            "False",
            "",
            "    user = await session.get(User, 1)\n"
            "    return len(await user.awaitable_attrs.posts)\n",
            [],
        ),
        # A read inside run_sync is no lazy IO.
        (
            "False",
            "",
            "    user = await session.get(User, 1)\n"
            "    return await session.run_sync(lambda s: len(user.posts))\n",
            [],
        ),
        # After commit: expired with the default factory, not with expire_on_commit=False.
        (
            "True",
            "",
            "    user = await session.get(User, 1)\n    await session.commit()\n"
            "    return user.name\n",
            [("expired-after-commit", 3)],
        ),
        (
            "False",
            "",
            "    user = await session.get(User, 1)\n    await session.commit()\n"
            "    return user.name\n",
            [],
        ),
        # A refresh, or a value read before the commit, is fine.
        (
            "True",
            "",
            "    user = await session.get(User, 1)\n    await session.commit()\n"
            "    await session.refresh(user)\n    return user.name\n",
            [],
        ),
        (
            "True",
            "",
            "    user = await session.get(User, 1)\n    name = user.name\n"
            "    await session.commit()\n    return name\n",
            [],
        ),
        # A refresh of named attributes loads only those.
        (
            "True",
            "",
            "    user = await session.get(User, 1)\n    await session.commit()\n"
            "    await session.refresh(user, ['name'])\n    return user.name, user.id\n",
            [("expired-after-commit", 4)],
        ),
        # Deferred columns.
        (
            "False",
            "",
            "    user = await session.get(User, 1)\n    return user.bio\n",
            [("deferred-column", 2)],
        ),
        # Rollback expires what was loaded, whatever the factory says.
        (
            "False",
            "",
            "    user = await session.get(User, 1)\n    try:\n        await session.commit()\n"
            "    except Exception:\n        await session.rollback()\n        return user.name\n"
            "    return ''\n",
            [("after-rollback", 6)],
        ),
        # A commit at the end of a loop turn expires what the next turn reads.
        (
            "True",
            "",
            "    users = (await session.scalars(select(User))).all()\n"
            "    for user in users:\n        user.name = user.name.title()\n"
            "        await session.commit()\n",
            [("expired-after-commit", 3)],
        ),
    ],
)
def test_flow_rules_on_small_programs(expire, lazy, body, expected):
    source = (
        HEAD.format(expire=expire, lazy=lazy)
        + "\n\nasync def handler() -> object:\n    async with Session() as session:\n"
        + "".join("    " + line + "\n" for line in body.splitlines())
    )
    start = HEAD_LINES + 4
    signs = signs_in_text(source, "app.py")
    found = [(s.pitfall, s.line - start) for s in signs if s.strength == "finding"]
    assert found == expected, [s.message for s in signs if s.strength == "finding"]


def test_engine_rules():
    signs = signs_in_text(
        "from sqlalchemy import create_engine, inspect\n"
        "from sqlalchemy.ext.asyncio import create_async_engine\n"
        "URL = 'postgresql+asyncpg://app@db/app'\n"
        "sync = create_engine(URL)\n"
        "fine = create_engine('postgresql+psycopg://app@db/app')\n"
        "engine = create_async_engine(URL)\n"
        "async def init():\n"
        "    Base.metadata.create_all(engine)\n"
        "    async with engine.begin() as conn:\n"
        "        await conn.run_sync(Base.metadata.create_all)\n"
        "        inspect(conn)\n"
    )
    found = [(s.pitfall, s.line) for s in signs if s.strength == "finding"]
    assert found == [
        ("async-driver-in-sync-engine", 4),
        ("sync-api-on-async", 8),
        ("sync-api-on-async", 11),
    ]


def test_query_on_an_async_session():
    signs = signs_in_text(
        "from sqlalchemy.ext.asyncio import AsyncSession\n"
        "async def by_name(session: AsyncSession, name):\n"
        "    return session.query(User).filter_by(name=name).first()\n"
        "class Repo(Base):\n"
        "    def __init__(self, db: AsyncSession):\n"
        "        super().__init__(db)\n"
        "    async def all(self):\n"
        "        return await self.db.query(User)\n"
        "def sync_only(session: Session):\n"
        "    return session.query(User).all()\n"
    )
    found = [(s.pitfall, s.line) for s in signs if s.strength == "finding"]
    assert found == [("sync-api-on-async", 3), ("sync-api-on-async", 8)]


def test_alembic_env_with_an_async_url(tmp_path):
    root = project(
        tmp_path,
        {
            "alembic.ini": "[alembic]\nsqlalchemy.url = postgresql+asyncpg://app@db/app\n",
            "migrations/env.py": (
                "from alembic import context\n"
                "from sqlalchemy import engine_from_config, pool\n"
                "connectable = engine_from_config(\n"
                "    context.config.get_section(context.config.config_ini_section),\n"
                "    poolclass=pool.NullPool,\n"
                ")\n"
            ),
        },
    )
    [sign] = check_paths([root]).signs
    assert (Path(sign.path).name, sign.line, sign.code) == ("env.py", 3, "AOR110")


def test_signs_in_a_long_paste_are_found_near_its_end_with_true_line_numbers():
    import time

    noise = 'Traceback (most recent call last):\n  File "/app/x.py", line 12, in f\n    x\n'
    filler = noise * (4_000_000 // len(noise))
    code = 'engine = create_engine("sqlite+aiosqlite:///db")\n'
    start = time.perf_counter()
    signs = signs_in_text(filler + code)
    elapsed = time.perf_counter() - start
    assert [(s.pitfall, s.line) for s in signs] == [
        ("async-driver-in-sync-engine", filler.count("\n") + 1)
    ]
    assert elapsed < 2.0


def test_sub_options_of_a_loader_option_load_nested_relationships():
    source = (
        HEAD.format(expire="False", lazy="")
        + "\n\nclass Tag(Base):\n    __tablename__ = 'tags'\n"
        + "    id: Mapped[int] = mapped_column(primary_key=True)\n\n\n"
        + "async def handler(session) -> int:\n"
        + "    stmt = select(Post).options(\n"
        + "        selectinload(Post.user).options(selectinload(User.posts))\n"
        + "    )\n"
        + "    post = (await session.execute(stmt)).scalar_one()\n"
        + "    return len(post.user.posts)\n"
    ).replace(
        'user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))',
        'user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))\n'
        "    user: Mapped[User] = relationship()",
    )
    assert [s for s in signs_in_text(source) if s.strength == "finding"] == []
    unloaded = source.replace(".options(selectinload(User.posts))\n", "\n")
    [sign] = [s for s in signs_in_text(unloaded) if s.strength == "finding"]
    assert sign.pitfall == "lazy-relationship" and "post.user.posts" in sign.message


@pytest.mark.parametrize(
    ("expire", "helper", "caller", "expected"),
    [
        # A helper that commits the session it is given expires the caller's objects.
        (
            "True",
            "async def save(db):\n    await db.commit()\n",
            "    user = await session.get(User, 1)\n    await save(session)\n"
            "    return user.name\n",
            [("expired-after-commit", 3)],
        ),
        # A helper that rolls back only on its failure path does not: callers check first.
        (
            "False",
            "async def save(db):\n    try:\n        await db.commit()\n    except Exception:\n"
            "        await db.rollback()\n        return False\n    return True\n",
            "    user = await session.get(User, 1)\n    if not await save(session):\n"
            "        return ''\n    return user.id\n",
            [],
        ),
        # An object made in the failed transaction is expunged by the rollback, not expired.
        (
            "False",
            "",
            "    user = User(name='x')\n    session.add(user)\n"
            "    try:\n        await session.flush()\n"
            "    except Exception:\n        await session.rollback()\n        return user.name\n"
            "    return ''\n",
            [],
        ),
    ],
)
def test_what_a_called_function_does_to_the_session(expire, helper, caller, expected):
    source = (
        HEAD.format(expire=expire, lazy="")
        + "\n\n"
        + helper
        + "\n\nasync def handler() -> object:\n    async with Session() as session:\n"
        + "".join("    " + line + "\n" for line in caller.splitlines())
    )
    start = source.splitlines().index("async def handler() -> object:") + 2
    signs = [s for s in signs_in_text(source, "app.py") if s.strength == "finding"]
    assert [(s.pitfall, s.line - start) for s in signs] == expected, [s.message for s in signs]
    if expected:
        assert "after commit() in save() at line" in signs[0].message


def test_a_file_nested_too_deeply_does_not_hide_the_others(tmp_path):
    deep = "def f():\n    return " + " + ".join(["a"] * 2500) + "\n"
    root = project(tmp_path, {"deep.py": deep, "app.py": EXPIRED.format(noqa="")})
    report = check_paths([root])
    assert [(Path(s.path).name, s.code) for s in report.signs] == [("app.py", "AOR101")]


PLAIN_PROTOCOL = """\
import asyncio

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session as SyncSession, sessionmaker

engine = create_async_engine("sqlite+aiosqlite://")
Factory = async_sessionmaker(engine)
SyncFactory = sessionmaker()


async def with_factory():
    with Factory() as session:
        pass


async def with_connection():
    with engine.connect() as conn:
        pass


async def with_session():
    with AsyncSession(engine) as session:
        pass


async def for_stream():
    async with Factory() as session:
        for row in await session.stream(select(text("1"))):
            pass


def sync_look_alikes():
    with SyncFactory() as session:
        pass
    with SyncSession() as session:
        pass


async def main():
    refused = []
    for step in (with_factory, with_connection, with_session, for_stream):
        try:
            await step()
        except (TypeError, AttributeError):
            refused.append(step.__name__)
    sync_look_alikes()
    await engine.dispose()
    print(",".join(refused))


asyncio.run(main())
"""


def test_a_plain_with_or_for_on_asyncio_objects_is_flagged_where_python_refuses_it(tmp_path):
    """The program runs for real: Python refuses each of the four plain forms and accepts
    the synchronous look-alikes; the check flags exactly the four, as AOR109."""
    root = project(tmp_path, {"app.py": PLAIN_PROTOCOL})
    ran = subprocess.run(
        [sys.executable, "app.py"], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "with_factory,with_connection,with_session,for_stream"
    flagged = {
        (sign.line, sign.code) for sign in check_paths([root]).signs if "a plain" in sign.message
    }
    lines = PLAIN_PROTOCOL.splitlines()
    expected = {
        (number, "AOR109")
        for number, line in enumerate(lines, start=1)
        if line.strip().startswith(("with Factory()", "with engine.connect()", "with AsyncSession"))
        or line.strip().startswith("for row in await session.stream")
    }
    assert len(expected) == 4
    assert flagged == expected


def ran_main(root: Path) -> str:
    """Run the project's ``main.py`` for real; it must succeed. What it printed."""
    ran = subprocess.run(
        [sys.executable, "main.py"], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout.strip()


BOTH_APIS = {
    "engines.py": '''"""Engines and session factories for code that supports both APIs."""

from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    tags: Mapped[list["Tag"]] = relationship()


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))


def sync_engine():
    return create_engine("sqlite://")


def async_engine():
    return create_async_engine("sqlite+aiosqlite://")


class Store:
    """Holds whichever factory fits the engine it was given."""

    def __init__(self, engine):
        if isinstance(engine, AsyncEngine):
            self.session_maker = async_sessionmaker(engine)
        else:
            self.session_maker = sessionmaker(engine, class_=Session)

    def add_sync(self):
        with self.session_maker() as session:
            session.add(Item())
            session.commit()

    async def add_async(self):
        async with self.session_maker() as session:
            session.add(Item())
            await session.commit()
''',
    "main.py": '''"""Run both APIs for real; the one real mistake is at the end."""

import asyncio

from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

from engines import Base, Item, Store, async_engine, sync_engine


def create_tables(engine: Engine | AsyncEngine) -> None:
    if isinstance(engine, Engine):
        Base.metadata.create_all(engine)


def seed(engine: Engine) -> None:
    factory: sessionmaker[Session] = sessionmaker(engine)
    with factory() as session:
        session.commit()


def make_item(session: Session) -> Item:
    item = Item()
    session.add(item)
    session.commit()
    return item


def count_tags(engine: Engine) -> int:
    with Session(engine) as session:
        item = make_item(session)
        session.refresh(item)
        return len(item.tags)


OPTIONS: dict[str, Engine | None] = {"connection": None}


def migrate(engine: Engine) -> None:
    connectable = OPTIONS.get("connection") or engine
    with connectable.connect() as connection:
        connection.exec_driver_sql("select 1")


async def migrate_async() -> None:
    connectable = create_async_engine("sqlite+aiosqlite://")
    async with connectable.connect() as connection:
        await connection.exec_driver_sql("select 1")
    await connectable.dispose()


async def mistake(engine: AsyncEngine) -> None:
    Base.metadata.create_all(engine)


async def main() -> None:
    primary = sync_engine()
    create_tables(primary)
    Base.metadata.create_all(primary)
    seed(primary)
    Store(primary).add_sync()
    assert count_tags(primary) == 0
    migrate(primary)
    await migrate_async()
    engine = async_engine()
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await Store(engine).add_async()
    try:
        await mistake(engine)
    except Exception as exc:
        print(type(exc).__name__)
    await engine.dispose()


asyncio.run(main())
''',
}


def test_code_that_supports_both_apis_is_left_alone_and_the_real_mistake_found(tmp_path):
    """A library that takes a sync or an async engine keeps one name for either factory,
    annotates ``Engine | AsyncEngine``, makes engines in helper functions, reads a
    relationship of an object a synchronous helper returned, and gives a name another
    function makes async to whatever engine it was handed. The program runs both paths
    for real without error; only its one real mistake (create_all on an AsyncEngine)
    fails, and that is the only finding."""
    root = project(tmp_path, BOTH_APIS)
    assert ran_main(root) == "AttributeError"
    found = [(Path(s.path).name, s.line, s.code) for s in check_paths([root]).signs]
    mistake = BOTH_APIS["main.py"].splitlines().index("    Base.metadata.create_all(engine)") + 1
    assert found == [("main.py", mistake, "AOR109")]


LOOKALIKES = {
    "client/__init__.py": "",
    "client/session.py": '''"""The project's API client; its session shares SQLAlchemy's name."""


class AsyncSession:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None

    async def execute(self, command):
        return command


class ClientSession(AsyncSession):
    """The same client under another name."""


class BaseSandbox:
    """The client's sandboxes: entering one gives the sandbox itself."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return None


class SandboxSession(BaseSandbox):
    async def read(self, path):
        return path
''',
    "client/store.py": '''"""The client's vector store, opened on the client's own engine."""


class VectorEngine:
    def __init__(self, url):
        self.url = url

    @classmethod
    def around(cls, pool):
        return cls(f"pool {pool}")


class Store:
    @classmethod
    async def create(cls, engine):
        return f"{cls.__name__} on {engine.url}"
''',
    "main.py": '''"""Concurrent calls on the API client's sessions, which are not SQLAlchemy's."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from client.session import AsyncSession, ClientSession, SandboxSession
from client.store import Store, VectorEngine


async def call(session, number):
    return await session.execute(number)


async def open_store(engine: VectorEngine):
    return await Store.create(engine)


async def open_around(pool):
    engine = VectorEngine.around(pool)
    return await Store.create(engine)


async def main():
    async with AsyncSession() as session:
        first = await asyncio.gather(*[call(session, n) for n in range(3)])
    async with ClientSession() as sess:
        second = await asyncio.gather(*[call(sess, n) for n in range(3)])
    async with SandboxSession() as session:
        third = await asyncio.gather(session.read(3), session.read(4))
    stores = [await open_store(VectorEngine("memory")), await open_around(1)]
    print(first + second + third, stores)


async def mistake():
    engine = create_async_engine("sqlite+aiosqlite://")
    factory = async_sessionmaker(engine)
    async with factory() as session:
        await asyncio.gather(*[session.execute(text("select 1")) for _ in range(3)])


asyncio.run(main())
''',
}


def test_another_librarys_session_is_not_sqlalchemys(tmp_path):
    """A project whose API client names its class AsyncSession (or ClientSession, as
    aiohttp does, or a sandbox session that enters as itself) may run that session's calls
    concurrently, and a parameter annotated as the client's own engine class, or a name
    bound to what the client's engine class made, is that engine, whatever another
    function names ``engine``; only the gather over a real AsyncSession from async_sessionmaker is
    flagged. The program runs for real."""
    root = project(tmp_path, LOOKALIKES)
    assert ran_main(root) == "[0, 1, 2, 0, 1, 2, 3, 4] ['Store on memory', 'Store on pool 1']"
    found = [(Path(s.path).name, s.line, s.code) for s in check_paths([root]).signs]
    lines = LOOKALIKES["main.py"].splitlines()
    gather = next(i for i, line in enumerate(lines, 1) if "session.execute(text(" in line)
    assert found == [("main.py", gather, "AOR111")]


def test_a_mapped_class_named_like_a_session_is_still_a_model():
    """A chat app's ``ChatSession`` table is a mapped class, not another library's
    session: its object read after the commit is still found."""
    signs = signs_in_text(
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
        "from sqlalchemy.ext.asyncio import async_sessionmaker\n"
        "class Base(DeclarativeBase):\n"
        "    pass\n"
        "class ChatSession(Base):\n"
        "    __tablename__ = 'chat_sessions'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "Session = async_sessionmaker()\n"
        "async def start():\n"
        "    async with Session() as db:\n"
        "        chat = ChatSession()\n"
        "        db.add(chat)\n"
        "        await db.commit()\n"
        "        return chat.id\n"
    )
    assert [(s.code, s.line) for s in signs if s.strength == "finding"] == [("AOR101", 14)]


def test_a_project_class_named_like_a_session_that_holds_one_is_followed():
    """``DbSession(session)``, the project's wrapper around an AsyncSession, is not
    another library's session: the commit it makes still expires the object it saved."""
    signs = signs_in_text(
        "from sqlalchemy.ext.asyncio import async_sessionmaker\n"
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
        "class Base(DeclarativeBase):\n"
        "    pass\n"
        "class User(Base):\n"
        "    __tablename__ = 'users'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "factory = async_sessionmaker()\n"
        "class DbSession:\n"
        "    def __init__(self, session):\n"
        "        self.session = session\n"
        "    async def save(self, obj):\n"
        "        self.session.add(obj)\n"
        "        await self.session.commit()\n"
        "async def work():\n"
        "    async with factory() as session:\n"
        "        user = User()\n"
        "        await DbSession(session).save(user)\n"
        "        return user.id\n"
    )
    assert [(s.code, s.line) for s in signs if s.strength == "finding"] == [("AOR101", 19)]


_TWO_MODELS = '''"""{what}"""

from __future__ import annotations

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, WriteOnlyMapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class A(Base):
    __tablename__ = "a"
    id: Mapped[int] = mapped_column(primary_key=True)
    bs: {collection} = relationship()


class B(Base):
    __tablename__ = "b"
    id: Mapped[int] = mapped_column(primary_key=True)
    a_id: Mapped[int] = mapped_column(ForeignKey("a.id"))


async def run():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with factory() as session:
        session.add(A(id=1, bs=[B(), B()]))
        await session.commit()
    async with factory() as session:
        a = await session.scalar(select(A))
        try:
            count = {count}
        except Exception as exc:  # 2.1 with aiosqlite wraps MissingGreenlet in StatementError
            count = "refused" if "greenlet_spawn has not been called" in str(exc) else repr(exc)
    await engine.dispose()
    return count
'''
SAME_NAMES = {
    "a_listed.py": _TWO_MODELS.format(
        what="A's collection is a list, read without loading it: the mistake.",
        collection="Mapped[list[B]]",
        count="len(a.bs)",
    ),
    "b_write_only.py": _TWO_MODELS.format(
        what="A's collection is write-only, read through a SELECT.",
        collection="WriteOnlyMapped[B]",
        count="len((await session.scalars(a.bs.select())).all())",
    ),
    "main.py": """import asyncio

import a_listed
import b_write_only


async def main():
    print(await a_listed.run(), await b_write_only.run())


asyncio.run(main())
""",
}


def test_classes_of_one_name_in_two_files_are_each_read_as_their_own(tmp_path):
    """Two files each map their own ``A`` (tests and examples often do): one with a plain
    list collection read without loading it (the real mistake), one with a write-only
    collection read through its ``select()``. The program runs both for real; the one
    mistake is the only finding, in its own file."""
    root = project(tmp_path, SAME_NAMES)
    assert ran_main(root) == "refused 2"
    found = [(Path(s.path).name, s.code) for s in check_paths([root]).signs]
    assert found == [("a_listed.py", "AOR102")]


TRANSIENT = {
    "main.py": '''"""Links made in memory are read before any flush: nothing loads or fails."""

from __future__ import annotations

import asyncio

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Link(Base):
    __tablename__ = "link"
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)
    hero_id: Mapped[int] = mapped_column(ForeignKey("hero.id"), primary_key=True)
    team: Mapped[Team] = relationship(back_populates="links")
    hero: Mapped[Hero] = relationship()


class Team(Base):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    links: Mapped[list[Link]] = relationship(back_populates="team")


class Hero(Base):
    __tablename__ = "hero"
    id: Mapped[int] = mapped_column(primary_key=True)


async def main():
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    team = Team(id=1)
    Link(team=team, hero=Hero(id=1))
    made = [link.hero.id for link in team.links]
    factory = async_sessionmaker(engine)
    async with factory() as session:
        session.add(team)
        await session.commit()
    async with factory() as session:
        loaded = await session.scalar(select(Team))
        try:
            read = [link.hero.id for link in loaded.links]
        except Exception as exc:  # 2.1 with aiosqlite wraps it in StatementError
            read = "refused" if "greenlet_spawn has not been called" in str(exc) else repr(exc)
    await engine.dispose()
    print(made, read)


asyncio.run(main())
''',
}


def test_what_a_transient_object_holds_loads_nothing(tmp_path):
    """A collection of an object never added to a session, and the objects in it, are
    plain Python: reading them is no lazy load. The same collection of a loaded object is
    the real mistake, and the only finding. The program runs for real."""
    root = project(tmp_path, TRANSIENT)
    assert ran_main(root) == "[1] refused"
    found = [(s.line, s.code) for s in check_paths([root]).signs]
    mistake = next(
        i for i, line in enumerate(TRANSIENT["main.py"].splitlines(), 1) if "loaded.links" in line
    )
    assert found == [(mistake, "AOR102")]


EXPECTED_REFUSAL = """import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import NoInspectionAvailable
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")


def test_inspect_is_refused():
    with pytest.raises(NoInspectionAvailable):
        inspect(engine)


def table_names():
    return inspect(engine).get_table_names()
"""


def test_a_mistake_made_on_purpose_inside_pytest_raises_is_no_finding():
    """A test that inspects an AsyncEngine inside ``pytest.raises`` checks the refusal on
    purpose; the same call in ordinary code is the finding. Both run for real."""
    namespace: dict[str, object] = {}
    exec(compile(EXPECTED_REFUSAL, "refusal.py", "exec"), namespace)
    namespace["test_inspect_is_refused"]()  # type: ignore[operator]
    from sqlalchemy.exc import NoInspectionAvailable

    with pytest.raises(NoInspectionAvailable):
        namespace["table_names"]()  # type: ignore[operator]
    found = [(s.code, s.line) for s in signs_in_text(EXPECTED_REFUSAL) if s.strength == "finding"]
    assert found == [("AOR109", EXPECTED_REFUSAL.splitlines().index("def table_names():") + 2)]


HANDED_IN = {
    "main.py": '''"""A user loaded by one session is handed to a function that opens its own."""

import asyncio

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Key(Base):
    __tablename__ = "keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


engine = create_async_engine("sqlite+aiosqlite://")
factory = async_sessionmaker(engine, expire_on_commit=False)


async def delete_key(user: User, key_id: int):
    async with factory() as session:
        try:
            await session.execute(select(Key).filter_by(id=key_id, user_id=user.id))
            raise LookupError("no such key")
        except LookupError:
            await session.rollback()
            return f"no key for user {user.id}"


async def delete_own_key(key_id):
    async with factory() as session:
        user = await session.scalar(select(User))
        try:
            raise LookupError("no such key")
        except LookupError:
            await session.rollback()
            try:
                return f"no key for user {user.id}"
            except Exception as exc:  # 2.1 with aiosqlite wraps it in StatementError
                return "refused" if "greenlet_spawn has not been called" in str(exc) else repr(exc)


async def main():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with factory() as session:
        session.add(User(id=1))
        await session.commit()
        user = await session.scalar(select(User))
    print(await delete_key(user, 7), "/", await delete_own_key(7))
    await engine.dispose()


asyncio.run(main())
''',
}


def test_a_rollback_does_not_reach_an_object_another_session_loaded(tmp_path):
    """A function opens its own session and rolls it back: the user it was handed (loaded
    by another session) keeps its values, while a user that session loaded itself is
    expired, and reading it is the one finding. The program runs for real."""
    root = project(tmp_path, HANDED_IN)
    assert ran_main(root) == "no key for user 1 / refused"
    found = [(s.line, s.code) for s in check_paths([root]).signs]
    lines = HANDED_IN["main.py"].splitlines()
    own = next(
        i
        for i, line in enumerate(lines, 1)
        if 'return f"no key for user {user.id}"' in line and line.startswith("                ")
    )
    assert found == [(own, "AOR105")]
