"""`robot` command line. Each command lives in its own module of `robot.commands` and is imported
only when invoked, so starting the scheduler never pulls in training code or matplotlib."""
from __future__ import annotations

import click

from tablebot.cli import lazy_group, run_cli, setup_logging

_VERBOSE = {"on": False}
# Third-party chatter kept out of normal output (the recognizer's own CLI quiets its libraries).
NOISY_LOGGERS = ("selenium", "urllib3", "werkzeug", "apscheduler", "tensorflow", "absl", "PIL", "matplotlib")

# name -> "module:click_command". Add a line here to register a new command.
COMMANDS = {name: f"robot.commands.{name.replace('-', '_')}:command"
            for name in ("run-once", "run", "status", "report", "doctor", "review", "demo-site")}


@click.group(cls=lazy_group(COMMANDS))
@click.option("-v", "--verbose", is_flag=True, help="Debug logging and tracebacks.")
def cli(verbose: bool) -> None:
    """Harvest tables of numbers from web pages into CSV."""
    _VERBOSE["on"] = verbose
    setup_logging(verbose, NOISY_LOGGERS)


def main(obj: object = None) -> None:
    """The console script. `obj` becomes the click context's object (`robot.run.RunParts` for tests)."""
    run_cli(cli, _VERBOSE, obj)


if __name__ == "__main__":
    main()
