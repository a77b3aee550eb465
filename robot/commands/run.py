"""`robot run`: the unattended scheduler (robot.schedule), until Ctrl+C or SIGTERM."""
from __future__ import annotations

from pathlib import Path

import click

from robot.commands.options import config_option, run_parts
from robot.schedule import run_scheduler


@click.command("run")
@config_option
@click.option("--now", "run_now", is_flag=True, help="Also run once right away, then follow the schedule.")
def command(config_path: Path, run_now: bool) -> None:
    """Harvest on the schedule in config.yaml until stopped (Ctrl+C or SIGTERM stop cleanly, exit 0)."""
    run_scheduler(config_path, run_now=run_now, parts=run_parts())
