"""File-system faults for the tests: a folder that cannot be written, a disk that is full.

As root (this project's machines and CI) permissions do not stop writes, so both use a real
tmpfs mounted on the folder: `readonly_mount` remounts it read-only (EROFS), `tiny_mount`
gives it a few KiB (ENOSPC). Where mounting is not allowed, `readonly_mount` falls back to
chmod for a non-root user, and the tests needing `tiny_mount` skip (they say so).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

MOUNT_TIMEOUT_S = 30


def _mount(*args: str) -> bool:
    if not shutil.which("mount"):
        return False
    try:
        done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=MOUNT_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=MOUNT_TIMEOUT_S)


def can_mount() -> bool:
    return os.geteuid() == 0 and bool(shutil.which("mount"))


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A fresh tmpfs of `size` (e.g. "256k") mounted on the (created) folder `path`."""
    path.mkdir(parents=True, exist_ok=True)
    if not can_mount() or not _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)):
        pytest.skip("mounting a tmpfs needs root with CAP_SYS_ADMIN; the disk-full and read-only tests need it")
    try:
        yield path
    finally:
        _umount(path)


@contextlib.contextmanager
def readonly(path: Path) -> Iterator[str]:
    """Inside, the tmpfs at `path` (from `tmpfs`) refuses writes; yields how ("remount,ro")."""
    if not _mount("-o", "remount,ro", str(path)):
        pytest.skip("cannot remount the tmpfs read-only here")
    try:
        yield "remount,ro"
    finally:
        _mount("-o", "remount,rw", str(path))


def fill(path: Path, leave_bytes: int) -> Path:
    """Fill the file system holding `path` until about `leave_bytes` are free; returns the filler file."""
    filler = path / "filler.bin"
    free = shutil.disk_usage(path).free
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))
    return filler
