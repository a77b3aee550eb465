"""The one place where exceptions become a log line and an exit code, for both console scripts."""
from __future__ import annotations

import functools
import importlib
import logging
import sys
from typing import Callable, Iterable

from tablebot.errors import ExitCode, TableBotError

log = logging.getLogger("tablebot")


def setup_logging(verbose: bool, noisy: Iterable[str] = ()) -> None:
    """Plain messages on stderr (timestamps and logger names with `verbose`); the `noisy`
    third-party loggers only say warnings unless `verbose`."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if verbose else "%(message)s",
        stream=sys.stderr,
        force=True,
    )
    for name in noisy:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


def handle_errors(verbose_flag: Callable[[], bool]) -> Callable:
    """Decorate a CLI entry: known errors print one line `error: ...`, unknown ones too (traceback with --verbose)."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except TableBotError as exc:
                if verbose_flag():
                    log.exception("error")
                print(f"error: {exc}", file=sys.stderr)
                sys.exit(int(exc.exit_code))
            except KeyboardInterrupt:
                print("error: interrupted", file=sys.stderr)
                sys.exit(int(ExitCode.INTERRUPTED))
            except SystemExit:
                raise
            except Exception as exc:  # the last boundary: one line, never a bare traceback
                if verbose_flag():
                    log.exception("unexpected error")
                first = str(exc).splitlines()[0] if str(exc) else ""
                print(f"error: unexpected {type(exc).__name__}: {first} (rerun with --verbose for details)", file=sys.stderr)
                sys.exit(int(ExitCode.FAILED))

        return wrapper

    return decorate


def lazy_group(lazy_commands: dict[str, str]):
    """A click.Group class whose commands named in `lazy_commands` ("module:attr") import on first use."""
    import click

    class LazyGroup(click.Group):
        def list_commands(self, ctx):
            return sorted({*super().list_commands(ctx), *lazy_commands})

        def get_command(self, ctx, name):
            if name in lazy_commands:
                module, attr = lazy_commands[name].split(":")
                return getattr(importlib.import_module(module), attr)
            return super().get_command(ctx, name)

    return LazyGroup


def run_cli(group, verbose_state: dict, obj: object = None) -> None:
    """Entry point shared by both console scripts; `obj` is the click context's object."""
    handle_errors(lambda: verbose_state["on"])(group.main)(standalone_mode=True, obj=obj)
