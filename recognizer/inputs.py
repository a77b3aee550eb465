"""What `recognizer read` reads: files, folders (recursive), path lists, filtered by globs.

Each picture is a `Source` named by its path relative to its input root (a folder given, or
the folder of a file given): that name, with its suffix, names its outputs, so `a/t.png`,
`b/t.png` and `t.bmp` never collide. No model, no image decoding here: only paths.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import IO

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})


class InputsError(ValueError):
    """The inputs cannot be named apart (two different files with the same name)."""


@dataclass(frozen=True, order=True)
class Source:
    name: str  # relative to its input root, with "/" separators: the outputs' name
    path: Path  # where to read it


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_list(stream: IO[str]) -> list[str]:
    """One path per line (`--from-file`); blank lines are skipped, surrounding spaces dropped."""
    return [line.strip() for line in stream if line.strip()]


def selected(name: str, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> bool:
    """fnmatch (case-sensitive; `*` also matches `/`) on the relative name: kept if it matches
    any include (or none is given) and no exclude."""
    if include and not any(fnmatchcase(name, pattern) for pattern in include):
        return False
    return not any(fnmatchcase(name, pattern) for pattern in exclude)


def walk_folder(root: Path) -> Iterable[Source]:
    """The image files under `root`, recursively (symlinked folders are not followed)."""
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for file in sorted(files):
            path = Path(folder) / file
            if is_image(path):
                yield Source(path.relative_to(root).as_posix(), path)


def gather(paths: Iterable[str | os.PathLike], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[Source]:
    """The sources of `paths`, sorted by name. A folder gives its images (by suffix, any case);
    a file (or a path that does not exist: its read reports it) is taken whatever its suffix.
    The same file reached twice is read once; two different files with one name are an error."""
    found: dict[str, Source] = {}
    for given in paths:
        given = Path(given)
        candidates = walk_folder(given) if given.is_dir() else [Source(given.name, given)]
        for source in candidates:
            if not selected(source.name, include, exclude):
                continue
            other = found.get(source.name)
            if other is None:
                found[source.name] = source
            elif _same_file(other.path, source.path):
                continue
            else:
                raise InputsError(
                    f"{other.path} and {source.path} would both be named {source.name}: "
                    "pass the folder that holds both instead")
    return sorted(found.values())


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)
