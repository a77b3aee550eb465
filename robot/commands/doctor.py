"""`robot doctor`: check what an unattended robot needs (robot.doctor), say what to fix, exit 1 if anything fails."""
from __future__ import annotations

from pathlib import Path

import click

from robot.commands.options import config_option, run_parts
from robot.doctor import run_checks
from robot.errors import DoctorFailed


@click.command("doctor")
@config_option
def command(config_path: Path) -> None:
    """Check the config, credentials, browser, model and output folder; say what to fix."""
    checks = run_checks(config_path, run_parts().load_reader)
    for check in checks:
        for line in check.lines():
            click.echo(line)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise DoctorFailed(f"{len(failed)} of {len(checks)} checks failed ({', '.join(failed)}): fix them as shown above")
    click.echo(f"all {len(checks)} checks passed")
