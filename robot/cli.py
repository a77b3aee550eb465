"""`robot` command line. Each command lives in its own module and is imported only when invoked,
so starting the scheduler never pulls in training code or matplotlib."""
from __future__ import annotations

import click

from tablebot.cli import lazy_group, run_cli, setup_logging

_VERBOSE = {"on": False}
# Third-party chatter kept out of normal output (the recognizer's own CLI quiets its libraries).
NOISY_LOGGERS = ("selenium", "urllib3", "werkzeug", "apscheduler", "tensorflow", "absl", "PIL", "matplotlib")

# name -> "module:click_command". Add a line here to register a new command.
COMMANDS = {
    "run-once": "robot.run:run_once_command",
    "demo-site": "robot.demo.cli:demo_site_command",
    "review": "robot.review.cli:review_command",
    "run": "robot.schedule:run_command",
    "status": "robot.ledger:status_command",
    "report": "robot.report:report_command",
    "doctor": "robot.doctor:doctor_command",
}


@click.group(cls=lazy_group(COMMANDS))
@click.option("-v", "--verbose", is_flag=True, help="Debug logging and tracebacks.")
def cli(verbose: bool) -> None:
    """Harvest tables of numbers from web pages into CSV."""
    _VERBOSE["on"] = verbose
    setup_logging(verbose, NOISY_LOGGERS)


def main() -> None:
    run_cli(cli, _VERBOSE)


if __name__ == "__main__":
    main()
