"""The recognizer's own errors, on the project's base (`tablebot.errors`)."""
from __future__ import annotations

from tablebot.errors import ExitCode, TableBotError


class InputImageError(TableBotError):
    """An image that cannot be read: missing, corrupt, empty, too large."""

    exit_code = ExitCode.INPUT


class SegmentationError(InputImageError):
    """No table found, or the found shape differs from the expected one."""


class NotATableError(SegmentationError):
    """The picture holds no table of numbers at all (a photo, a logo, noise, a blank page)."""


class HeaderTakenForData(SegmentationError):
    """No shape given: a header row or column was read as data (`line`, "row" or "column", `index`
    from 0); `counting`: it counts 1, 2, 3 like labels do (rather than repeat a word or be unreadable)."""

    def __init__(self, message: str, line: str, index: int, counting: bool):
        super().__init__(message)
        self.line, self.index, self.counting = line, index, counting


class ModelError(TableBotError):
    exit_code = ExitCode.MODEL


class FolderBusy(TableBotError):
    """Another `recognizer read` is writing to the same output folder."""

    exit_code = ExitCode.LOCKED
