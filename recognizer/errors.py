"""One error hierarchy for the whole project, with exit codes and messages that say what to do.

Third-party exceptions (Selenium, OpenCV, Keras) are translated into these at one
boundary each; the CLIs map them to one log line and the exit code.
"""
from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    CONFIG = 3
    INPUT = 4
    MODEL = 5
    BROWSER = 6
    LOGIN = 7
    TARGET = 8
    OUTPUT = 9
    LOCKED = 10
    INTERRUPTED = 130


class TableBotError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILED


class ConfigError(TableBotError):
    exit_code = ExitCode.CONFIG


class InputImageError(TableBotError):
    """An image that cannot be read: missing, corrupt, empty, too large."""

    exit_code = ExitCode.INPUT


class SegmentationError(InputImageError):
    """No table found, or the found shape differs from the expected one."""


class ModelError(TableBotError):
    exit_code = ExitCode.MODEL


class DataError(TableBotError):
    """Training inputs that cannot be used (no fonts, bad MNIST file, unknown label)."""

    exit_code = ExitCode.INPUT


class OutputError(TableBotError):
    """The output folder cannot be written (permissions, full disk)."""

    exit_code = ExitCode.OUTPUT
