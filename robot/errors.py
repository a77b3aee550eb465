"""The robot's own errors. Selenium's exceptions become these in `robot.browser`, nowhere else.

Every message says what went wrong and what to do about it; none ever holds a password.
"""
from __future__ import annotations

from recognizer.errors import SegmentationError
from tablebot.errors import ConfigError, ExitCode, TableBotError


class BrowserError(TableBotError):
    """Chromium or chromedriver is missing, mismatched, failed to start or stopped responding."""

    exit_code = ExitCode.BROWSER


class LoginFailed(TableBotError):
    """The site refused the credentials, its login form is not where the config says, or the session was lost."""

    exit_code = ExitCode.LOGIN


class SiteUnreachable(TableBotError):
    """The target site did not answer (connection refused, DNS, time-out)."""

    exit_code = ExitCode.TARGET


class TableNotFound(TableBotError):
    """A table's selector matched nothing on its page, or its image never finished loading."""

    exit_code = ExitCode.TARGET


class TableNotReady(TableNotFound):
    """A table's element was there but never looked ready in time (hidden, fading, moving, covered, blank,
    or its screenshot kept changing): `robot.browser.readiness`. `png` is its last element screenshot."""

    def __init__(self, message: str, png: bytes | None = None) -> None:
        super().__init__(message)
        self.png = png


class ActionFailed(TableNotFound):
    """A required page action (`pages[].actions`, `before_each_page`) could not be done: the page's tables fail
    with it, the run goes on with the next page."""


class CellBoxesRefused(SegmentationError):
    """A table's cells (`tables[].cells`) cannot be read as configured. `png` is its element screenshot,
    for the run folder."""

    def __init__(self, message: str, png: bytes | None = None) -> None:
        super().__init__(message)
        self.png = png


class CellCountMismatch(CellBoxesRefused):
    """A table's `cells` selector matched another number of data cells than its rows x cols."""


class CellsOutsideScreenshot(CellBoxesRefused):
    """Some of a table's cells lie outside its element screenshot (the browser window cuts the table)."""


class InvalidSelector(ConfigError):
    """A selector in the config is not valid CSS (the browser refused it): a config error for what it selects;
    a table's spoils that table only."""


class DemoCheckFailed(TableBotError):
    """`run-once --check-demo`: the written CSVs disagree with the demo site's true values."""

    exit_code = ExitCode.FAILED


class DoctorFailed(TableBotError):
    """`robot doctor`: one or more checks failed (each printed with what to fix)."""

    exit_code = ExitCode.FAILED


class BrowserCrashed(BrowserError):
    """The browser or its driver stopped answering in the middle of a run; the run restarts it."""


class PageNotFound(TableBotError):
    """A page answered with an HTTP client error (404, 403, ...): its path in the config is wrong."""

    exit_code = ExitCode.TARGET


class SessionExpired(LoginFailed):
    """A page sent the robot back to the login form: the session ended. The run logs in again and retries."""


class PageLoadFailed(SiteUnreachable):
    """A page answered with an HTTP server error (5xx) or 429; retried with backoff."""


class OutputLocked(TableBotError):
    """Another robot process holds the output folder's lock."""

    exit_code = ExitCode.LOCKED


class RunStopped(TableBotError):
    """The run was asked to stop (SIGINT/SIGTERM, or its time limit) and stopped between two tables."""

    exit_code = ExitCode.INTERRUPTED


# Worth another try after a backoff: the site or the browser may recover on their own.
# A refused login (LoginFailed) or a browser that cannot start (BrowserError) is not.
TRANSIENT_ERRORS = (SiteUnreachable, SessionExpired, BrowserCrashed)
