"""Options and context shared by several commands."""
from __future__ import annotations

from pathlib import Path

import click

from robot.config import DEFAULT_CONFIG
from robot.run import RunParts

config_option = click.option(
    "--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_CONFIG,
    show_default=True, help="The config file.")


def run_parts() -> RunParts:
    """The collaborators of a run: the click context's `obj` when one was given, else the real ones."""
    obj = click.get_current_context().find_object(RunParts)
    return obj if obj is not None else RunParts()
