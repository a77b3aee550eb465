"""Serve the demo site on 127.0.0.1 in a background thread, for `robot run` and the tests.

    with DemoServer(seed=7, username="u", password="p") as site:
        driver.get(site.url + "/login")
"""
from __future__ import annotations

import socket
import threading
from types import TracebackType

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from robot.demo.app import CATALOGUE_KEY, FAULTS_KEY, create_app
from robot.demo.faults import Faults
from robot.demo.render import Value
from robot.demo.site import PageSpec
from tablebot.errors import ExitCode, TableBotError

HOST = "127.0.0.1"  # loopback only: the demo site is never reachable from outside this machine
STOP_TIMEOUT_S = 10.0
LISTEN_BACKLOG = 128


class DemoServerError(TableBotError):
    """The demo site could not start (port taken, no permission)."""

    exit_code = ExitCode.TARGET


class DemoServer:
    def __init__(
        self,
        *,
        username: str,
        password: str,
        seed: int = 7,
        session_seconds: float = 600,
        expose_truth: bool = False,
        port: int = 0,
    ) -> None:
        self.app: Flask = create_app(seed, username, password, session_seconds, expose_truth)
        self._for_tests = expose_truth
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        """The fault switches; only a site started for tests (`expose_truth=True`) hands them out."""
        if not self._for_tests:
            raise RuntimeError("fault injection is for tests: start the demo site with expose_truth=True")
        return self.app.extensions[FAULTS_KEY]

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo server is not running: call start() or use it in a with block")
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def pages(self) -> dict[str, PageSpec]:
        """The site's pages by name, in visiting order, with their tables' true values and looks."""
        return self.app.extensions[CATALOGUE_KEY]

    def truth(self, page: str, table: str) -> list[list[Value]]:
        """The true values of a table, row by row (None: empty cell)."""
        if page not in self.pages:
            raise KeyError(f"no demo page {page!r}; pages are {list(self.pages)}")
        return self.pages[page].table(table).values_list()

    def start(self) -> "DemoServer":
        if self._server is not None:
            raise RuntimeError("the demo server is already running")
        # Bind here, not in werkzeug: it prints and exits the process when the port is taken.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, self._port))
            sock.listen(LISTEN_BACKLOG)
            self._server = make_server(HOST, self._port, self.app, threaded=True, fd=sock.fileno())
        except OSError as exc:
            raise DemoServerError(
                f"cannot serve the demo site on {HOST}:{self._port}: {exc.strerror or exc}; "
                "choose another port (0 picks a free one) or stop the program using it"
            ) from None
        finally:
            sock.close()  # werkzeug holds its own duplicate of the socket
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-site", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and join the thread. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        if thread is not None:
            thread.join(STOP_TIMEOUT_S)
        server.server_close()

    def __enter__(self) -> "DemoServer":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
