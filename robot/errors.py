"""The robot's own errors. Selenium's exceptions become these in `robot.browser`, nowhere else.

Every message says what went wrong and what to do about it; none ever holds a password.
"""
from __future__ import annotations

from recognizer.errors import ExitCode, TableBotError


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


class DemoCheckFailed(TableBotError):
    """`run-once --check-demo`: the written CSVs disagree with the demo site's true values."""

    exit_code = ExitCode.FAILED
