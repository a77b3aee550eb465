"""The error base and the product's exit codes (the README's exit-code table), in one place.

Each package defines its own errors on this base (`recognizer.errors`, `robot.errors`);
third-party exceptions are translated into them at one boundary each, and the CLIs map
them to one log line and the exit code (`tablebot.cli`).
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
    """Base of every error this project raises on purpose; the message says what to do."""

    exit_code: ExitCode = ExitCode.FAILED


class ConfigError(TableBotError):
    """A setting (config.yaml, a command-line option, an environment variable) that cannot be used."""

    exit_code = ExitCode.CONFIG


class DataError(TableBotError):
    """Files the project reads that cannot be used (a labels folder, a dataset, a run folder)."""

    exit_code = ExitCode.INPUT


class OutputError(TableBotError):
    """The output folder cannot be written (permissions, full disk)."""

    exit_code = ExitCode.OUTPUT
