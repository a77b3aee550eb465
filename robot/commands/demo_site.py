"""`robot demo-site`: serve the bundled demo site until Ctrl-C, to look at it or point the robot at it."""
from __future__ import annotations

import logging
import threading

import click

from robot.config import DemoSettings, Login

log = logging.getLogger(__name__)
DEFAULT_PORT = 8000


@click.command("demo-site")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True, help="0 picks a free port.")
@click.option("--seed", type=int, default=DemoSettings().seed, show_default=True, help="Table values and looks follow from it.")
@click.option(
    "--session-seconds",
    type=click.IntRange(min=1),
    default=DemoSettings().session_seconds,
    show_default=True,
    help="Sessions expire after this long.",
)
@click.option("--expose-truth", is_flag=True, help="Also serve /api/truth/<page>/<table> and POST /api/faults (tests only).")
def command(port: int, seed: int, session_seconds: int, expose_truth: bool) -> None:
    """Serve the demo site on 127.0.0.1; log in with $ROBOT_USERNAME / $ROBOT_PASSWORD."""
    from robot.demo.server import (
        DemoServer,  # Flask and Pillow load only for this command
    )

    login = Login()
    username, password = login.credentials()  # ConfigError names the variables to set
    server = DemoServer(
        seed=seed, username=username, password=password, session_seconds=session_seconds, expose_truth=expose_truth, port=port
    )
    with server:
        log.info("demo site at %s (log in as %r with the password in $%s)", server.url, username, login.password_env)
        for page in server.pages.values():
            log.info("  %s%s", server.url, page.path)
        if expose_truth:
            log.info("  truth: %s/api/truth/<page>/<table>; faults: POST %s/api/faults", server.url, server.url)
        log.info("press Ctrl-C to stop")
        try:
            threading.Event().wait()  # serve until interrupted
        except KeyboardInterrupt:
            log.info("demo site stopped")
