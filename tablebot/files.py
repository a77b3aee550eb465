"""Atomic file writes: a temp file beside the target, fsync, then rename.

A crash or a full disk leaves either the old file or the new one, never half of one.
Every file the project writes goes through here, with one mode for all of them.
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from tablebot.errors import OutputError

# mkstemp makes 0600; outputs are for the people who analyse them. A fixed mode, not the
# umask: reading the umask means setting it, which is process-wide.
FILE_MODE = 0o644


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", newline: str | None = "") -> Iterator[IO]:
    """An open stream whose content replaces `path` when the block ends without error."""
    with replacing(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": newline}
        try:
            with open(tmp, mode, **kwargs) as stream:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            raise output_error(Path(path), exc) from exc


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def replacing(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """A temp file beside `path` for the caller to fill (`suffix`: some writers, Keras, insist on one);
    synced and renamed over `path` if the block succeeds, removed if not."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
        os.close(fd)
    except OSError as exc:
        raise output_error(path, exc) from exc
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, FILE_MODE)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise output_error(path, exc) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def output_error(path: Path, exc: OSError) -> OutputError:
    """An OSError while writing `path`, as one line that says what to do."""
    if exc.errno == errno.ENOSPC:
        return OutputError(f"disk full while writing {path}: free some space; earlier files are intact")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"cannot write {path}: permission denied; choose a writable output folder")
    return OutputError(f"cannot write {path}: {exc.strerror or exc}")
