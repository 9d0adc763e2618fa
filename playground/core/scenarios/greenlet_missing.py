"""Greenlet missing: the asyncio extension run where ``greenlet`` cannot be imported.

The experiment runs in a child process (the exported script itself), so the app's own
interpreter keeps its greenlet; the child reports its exception chain back as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping

from ..explain import committed_rows, failure, first_line, short_type, success
from ..models import User
from ..results import ExceptionInfo, ExceptionLink, ExperimentResult, Explanation, Fix
from .api import Program, Run, Scenario, fix
from .script import (
    BASE_IMPORTS,
    ENV_VAR,
    KEEPING_SESSIONMAKER,
    engine_lines,
    lines,
    marked,
    new_session_adding,
    user_script,
    without_password,
)

INSTALLED = "greenlet_installed"
CHILD_TIMEOUT = 60
SCRIPT_NAME = "playground_greenlet_missing.py"
REPORT = "PLAYGROUND-CHILD-REPORT "

BLOCK_LINES = (
    "import sys",
    "",
    "# This script plays a machine where greenlet is not installed (a platform with no",
    "# wheel, or SQLAlchemy installed without its [asyncio] extra): None in sys.modules",
    "# makes every later `import greenlet` fail, as if the package were not there.",
    marked('sys.modules["greenlet"] = None'),
    "",
)

HARNESS = f"""
import json, linecache, sys, traceback
source = sys.stdin.read()
name = {SCRIPT_NAME!r}
linecache.cache[name] = (len(source), None, source.splitlines(True), name)


def message(exc):
    text = str(exc)
    for marker in ("\\n(Background on this error at:", " (Background on this error at:"):
        text = text.split(marker, 1)[0]
    return text.strip()


try:
    exec(compile(source, name, "exec"), {{"__name__": "__main__", "__file__": name}})
except BaseException as exc:
    links, seen, current, relation = [], set(), exc, "raised"
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        links.append([f"{{kind.__module__}}.{{kind.__qualname__}}", message(current), relation])
        if current.__cause__ is not None:
            current, relation = current.__cause__, "caused by"
        elif current.__context__ is not None and not current.__suppress_context__:
            current, relation = current.__context__, "while handling"
        else:
            current = None
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    code = getattr(exc, "code", None)
    report = {{"chain": links, "traceback": "".join(lines), "code": code}}
    sys.stdout.write("\\n{REPORT}" + json.dumps(report) + "\\n")
    sys.exit(1)
"""
"""Runs the script text from stdin as ``__main__`` and reports an exception as JSON."""

FIXES = (
    Fix("install the asyncio extra", 'pip install "sqlalchemy[asyncio]"  # pulls in greenlet'),
    Fix("or greenlet itself", "pip install greenlet  # needs a wheel for your platform"),
)


class ChildFailed(Exception):
    """The child process ended in an exception; ``exception_info`` is its chain, as reported."""

    def __init__(self, info: ExceptionInfo) -> None:
        super().__init__(f"{info.outer.type_name}: {info.outer.message}")
        self.exception_info = info


def child_exception(report: dict[str, object]) -> ExceptionInfo:
    """The child's JSON report as the lab's exception record."""
    raw_chain = report.get("chain")
    assert isinstance(raw_chain, list)
    chain = tuple(
        ExceptionLink(
            type_name=str(type_name),
            message=str(message),
            relation=str(relation),
            is_missing_greenlet=str(type_name).endswith(".MissingGreenlet"),
        )
        for type_name, message, relation in raw_chain
    )
    code = report.get("code")
    traceback = f"In the child process ({SCRIPT_NAME}):\n{report.get('traceback', '')}"
    return ExceptionInfo(chain, traceback, code if isinstance(code, str) else None)


class GreenletMissing(Scenario):
    """Run the exported script in a child process with ``greenlet`` unimportable."""

    group = "Engine and setup"
    order = 99
    title = "Greenlet missing"
    shows = (
        "without greenlet, 2.0 fails at the first connect (`ValueError: the greenlet "
        "library is required`), 2.1 already at `import sqlalchemy.ext.asyncio` "
        "(`ImportError`); fixed by `pip install sqlalchemy[asyncio]`"
    )
    summary = "the asyncio extension in a child process where greenlet cannot be imported"
    read_expression = "user.name  (in the child)"
    options = (fix(INSTALLED, "greenlet installed", "the child may import greenlet", "greenlet"),)

    async def run(self, run: Run) -> object:
        run.step("in the app: add and commit a user  # so the lab has a row either way")
        await run.add_and_commit(User(name=run.user_input))
        url = run.lab.url
        script = self.script(run.settings, without_password(url), run.user_input)
        env = {**os.environ, ENV_VAR: without_password(url)}
        if url.password is not None:
            env["PGPASSWORD"] = str(url.password)
        blocked = "" if run.settings[INSTALLED] else ", greenlet blocked"
        run.step(f"python {SCRIPT_NAME}  # a child process{blocked}")
        run.reading = True
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            HARNESS,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            out, err = await asyncio.wait_for(
                process.communicate(script.text.encode()), CHILD_TIMEOUT
            )
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise
        if err:
            run.stderr.append(err.decode(errors="replace"))
        printed = out.decode(errors="replace").splitlines()
        for line in printed:
            if line.startswith(REPORT):
                raise ChildFailed(child_exception(json.loads(line[len(REPORT) :])))
        if process.returncode != 0 or not printed:
            raise RuntimeError(f"the child process ended with status {process.returncode}")
        run.note("The child process committed a row of its own and printed its name.")
        return printed[-1]

    def explain(self, result: ExperimentResult) -> Explanation:
        error = result.outcome.error
        if error is None:
            return success(
                result,
                "greenlet imported: the asyncio extension works",
                "With greenlet importable the child connected, created the table if missing, "
                "committed a user and read its name back: every await on the engine and "
                "session ran the driver inside a greenlet, as usual.",
            )
        outer = short_type(error.outer.type_name)
        at_import = "ext/asyncio/__init__.py" in error.traceback.replace("\\", "/")
        where = (
            "already at `from sqlalchemy.ext.asyncio import ...`: the import itself refuses"
            if at_import
            else "only when the engine first needed a connection: importing and creating "
            "the engine went fine"
        )
        if "greenlet" in error.outer.message:
            causes = [f"{short_type(link.type_name)}: {link.message}" for link in error.chain[1:]]
            return Explanation(
                f"{outer}: {first_line(error.outer.message)}",
                "the asyncio extension cannot work without greenlet",
                (
                    "SQLAlchemy's asyncio extension runs its synchronous core inside a "
                    "greenlet and switches out of it whenever the driver must be awaited; "
                    "without the greenlet package there is nothing to switch with.",
                    f"The child process failed {where}.",
                    *(f"Chain: {cause}" for cause in causes),
                    "Only the child was denied greenlet: the app's own interpreter never paid "
                    "for the trick, and the row it committed before starting the child is "
                    "unaffected.",
                    committed_rows(result),
                ),
                FIXES,
            )
        return failure(result)

    def program(self, chosen: Mapping[str, bool], name: str) -> Program:
        block = "" if chosen[INSTALLED] else "\n".join(BLOCK_LINES)
        main_body = lines(
            new_session_adding(f"User(name={name!r})", 8, flush=False),
            "        print(user.name)",
        )
        body = user_script(engine_lines(KEEPING_SESSIONMAKER), main_body)
        imports = (
            *(block.splitlines() if block else ()),
            *BASE_IMPORTS,
        )
        return body, imports


SCENARIO = GreenletMissing()
