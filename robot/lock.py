"""One robot per output folder: an exclusive `fcntl.flock` on `<output.folder>/robot.lock`.

The lock belongs to the open file, so the kernel releases it when the process ends, however
it ends: a crash or `kill -9` never leaves a stale lock behind. The file holds the holder's
pid, start time and command so that a second start can say who has the folder. It is written
in place, not through `atomic_open`: the lock lives on this file's inode, which a rename
would replace.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from robot.errors import OutputLocked
from tablebot.clock import utc_iso
from tablebot.errors import OutputError

LOCK_FILE = "robot.lock"


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a lock."""

    pid: int | None
    started_at: str | None
    command: str | None

    def describe(self) -> str:
        if self.pid is None:
            return "another robot process (it has not written its pid yet)"
        since = f", started {self.started_at}" if self.started_at else ""
        what = f" `{self.command}`" if self.command else ""
        return f"robot process {self.pid}{what}{since}"


class OutputLock:
    """`with OutputLock(folder, "run"):` holds the folder's lock, or raises `OutputLocked` naming the holder."""

    def __init__(self, folder: Path, command: str = "") -> None:
        self.path = Path(folder) / LOCK_FILE
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> "OutputLock":
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this object")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot create the lock file {self.path}: {exc.strerror or exc}; "
                              "choose a writable output.folder") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                holder = read_holder(self.path)
                kill = f" (kill {holder.pid})" if holder.pid else ""
                raise OutputLocked(
                    f"the output folder {self.path.parent} is in use by {holder.describe()}: stop that robot first{kill}, "
                    "or give this one another output.folder"
                ) from None
            raise OutputError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        try:
            _write_holder(fd, Holder(os.getpid(), utc_iso(), self.command or None))
        except OSError as exc:
            os.close(fd)
            raise OutputError(f"cannot write the lock file {self.path}: {exc.strerror or exc}; "
                              "free some space or choose a writable output.folder") from None
        self._fd = fd
        return self

    def release(self) -> None:
        """Empty the file and drop the lock. The file itself stays: deleting it would race a new holder."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass  # the lock goes away with the descriptor anyway
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "OutputLock":
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def read_holder(path: Path) -> Holder:
    """What the lock file says; empty when nobody wrote it (yet)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    pid = data.get("pid")
    return Holder(pid if isinstance(pid, int) else None, data.get("started_at"), data.get("command"))


def current_holder(folder: Path) -> Holder | None:
    """The process holding `folder`'s lock now, or None when the folder is free (tries the lock without keeping it)."""
    path = Path(folder) / LOCK_FILE
    if not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return read_holder(path)
    finally:
        os.close(fd)  # closing drops a lock taken just above
    return None


def _write_holder(fd: int, holder: Holder) -> None:
    text = json.dumps({"pid": holder.pid, "started_at": holder.started_at, "command": holder.command})
    os.ftruncate(fd, 0)
    os.pwrite(fd, (text + "\n").encode("utf-8"), 0)
    os.fsync(fd)
