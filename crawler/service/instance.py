"""One service per data dir: the lock file, and the state file ``status`` reads.

The lock is an ``flock`` on ``DATA/newswatch.lock``: the kernel releases it when the process
dies, however it dies, so there is never a stale lock to delete by hand. The file holds the
holder's pid for the error message and for ``status``.

The state file ``DATA/service.json`` is what only the running scheduler knows: when each
source runs next and where the health endpoint listens. It is replaced atomically; ``status``
trusts it only while the lock is held.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.errors import NewswatchError

__all__ = [
    "AlreadyRunning",
    "InstanceLock",
    "lock_holder",
    "read_state",
    "write_state",
]

LOCK_NAME = "newswatch.lock"
STATE_NAME = "service.json"


class AlreadyRunning(NewswatchError):
    """Another ``newswatch run`` holds the data dir."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "another process"
        super().__init__(
            f"another newswatch service ({who}) is already running on {data_dir}; "
            "stop it first, or give this one its own --data directory"
        )
        self.pid = pid


class InstanceLock:
    """``with InstanceLock(data_dir):`` — raises :class:`AlreadyRunning` when taken."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning(self.data_dir, _read_pid(self.path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            # Leave the file: deleting it would let a third process lock a fresh inode while
            # a second one still waits on the old one.
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(data_dir: Path) -> int | None:
    """The pid of the service holding the data dir, or ``None`` when no service runs."""
    path = data_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(path) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip() or "0") or None
    return None


@dataclass(frozen=True)
class _StatePaths:
    final: Path
    temp: Path


def _paths(data_dir: Path) -> _StatePaths:
    return _StatePaths(data_dir / STATE_NAME, data_dir / f".{STATE_NAME}.{os.getpid()}.tmp")


def write_state(data_dir: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically (a reader never sees half of it)."""
    paths = _paths(data_dir)
    paths.temp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(paths.temp, paths.final)


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """The running service's state, or ``None`` when no service holds the data dir."""
    if lock_holder(data_dir) is None:
        return None
    try:
        data = json.loads((data_dir / STATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
