"""`recognizer` command line: read table images, and the training tooling (loaded lazily)."""
from __future__ import annotations

import click

from tablebot.cli import lazy_group, run_cli, setup_logging

_VERBOSE = {"on": False}
# Third-party chatter kept out of normal output.
NOISY_LOGGERS = ("tensorflow", "absl", "PIL", "matplotlib")

# Training commands live off the read path: imported only when invoked.
LAZY_COMMANDS = {
    "read": "recognizer.read_cli:read",
    "generate": "recognizer.training.cli:generate",
    "train": "recognizer.training.cli:train",
    "finetune": "recognizer.training.cli:finetune",
    "evaluate": "recognizer.training.cli:evaluate",
}


@click.group(cls=lazy_group(LAZY_COMMANDS))
@click.option("-v", "--verbose", is_flag=True, help="Debug logging and tracebacks.")
def cli(verbose: bool) -> None:
    """Read pictures of tables of numbers 0..36; generate data and train the model."""
    _VERBOSE["on"] = verbose
    setup_logging(verbose, NOISY_LOGGERS)


def main() -> None:
    run_cli(cli, _VERBOSE)


if __name__ == "__main__":
    main()
