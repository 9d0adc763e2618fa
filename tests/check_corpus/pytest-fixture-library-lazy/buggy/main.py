"""Run this folder's checks with pytest (fixtures from db_fixtures.py), reporting on stderr."""

import contextlib
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    options = ["-q", "--tb=native", "-p", "no:cacheprovider", "-c", os.devnull]
    options += ["--rootdir", str(HERE), "--confcutdir", str(HERE), "-p", "db_fixtures"]
    options.append(str(HERE / "library_checks.py"))
    with contextlib.redirect_stdout(sys.stderr):
        status = pytest.main(options)
    sys.exit(status)
