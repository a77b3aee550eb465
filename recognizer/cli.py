"""`recognizer` command line: read table images, and the training tooling (loaded lazily)."""
from __future__ import annotations

import click

from recognizer.cli_support import lazy_group, run_cli, setup_logging

_VERBOSE = {"on": False}

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
    setup_logging(verbose)


def main() -> None:
    run_cli(cli, _VERBOSE)


if __name__ == "__main__":
    main()
