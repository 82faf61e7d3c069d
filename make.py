#!/usr/bin/env python3
"""The project's task runner (a Makefile that needs nothing but python3).

    python3 make.py run     create .venv if needed, then run the service on ./config
    python3 make.py test    create .venv if needed, then lint, type-check, check the layering
                            (import-linter) and run all tests
    python3 make.py demo    the offline demo
    python3 make.py bench   every benchmark in bench/ (prints figures; not tests)

The virtual environment is rebuilt when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".newswatch-installed"


def _sh(*cmd: str | Path) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def ensure_env() -> None:
    """Create .venv and install the project with its test extras, once per pyproject."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted and PY.exists():
        return
    if not PY.exists():
        print(f"+ creating {VENV.name}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    # An old pip (23.x) skips lxml's html_clean extra, and trafilatura then fails to import.
    steps = [
        (PY, "-m", "pip", "install", "-q", "--upgrade", "pip"),
        (PY, "-m", "pip", "install", "-q", "-e", ".[test]"),
    ]
    for step in steps:
        if _sh(*step) != 0:
            sys.exit("installing the environment failed (see above)")
    STAMP.write_text(wanted)


def _exec(*cmd: str | Path) -> NoReturn:
    """Become the command, so Ctrl-C and SIGTERM reach the service itself."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    os.chdir(ROOT)
    os.execv(str(cmd[0]), [str(c) for c in cmd])


def task_run(args: list[str]) -> int:
    ensure_env()
    return _exec(BIN / "newswatch", *(args or ["run"]))


def task_test(args: list[str]) -> int:
    ensure_env()
    checks = [
        (BIN / "ruff", "check", "crawler", "pipelines", "tests", "bench", "make.py"),
        (BIN / "ruff", "format", "--check", "crawler", "pipelines", "tests", "bench", "make.py"),
        (BIN / "mypy", "--strict", "-p", "crawler", "-p", "pipelines"),
        (BIN / "lint-imports", "--no-cache"),
        (PY, "-m", "pytest", "-W", "error", *args),
    ]
    for check in checks:
        status = _sh(*check)
        if status != 0:
            return status
    return 0


def task_demo(args: list[str]) -> int:
    ensure_env()
    return _exec(BIN / "newswatch", "demo", *args)


def task_bench(args: list[str]) -> int:
    ensure_env()
    status = 0
    for script in sorted((ROOT / "bench").glob("*.py")):
        if script.name.startswith("_") or (args and script.stem not in args):
            continue
        status |= _sh(PY, script)
    return status


TASKS = {"run": task_run, "test": task_test, "demo": task_demo, "bench": task_bench}


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - make.py runs under whatever python3 is there
        found = ".".join(map(str, sys.version_info[:3]))
        print(f"newswatch needs Python 3.11 or newer; this is {found}.", file=sys.stderr)
        return 2
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        return 2
    return TASKS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
