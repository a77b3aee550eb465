"""Secrets kept out of what the robot writes: saved page sources (`redact`) and log records
(`secrets_hidden_from_logs`), Selenium's included."""
from __future__ import annotations

import contextlib
import logging
from typing import Iterable, Iterator

REDACTED = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class _RedactFilter(logging.Filter):
    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            record.msg, record.args = redact(message, self.secrets), ()
        return True


# Selenium logs every WebDriver command body at DEBUG, send_keys text included.
_SELENIUM_COMMAND_LOGGER = "selenium.webdriver.remote.remote_connection"


@contextlib.contextmanager
def secrets_hidden_from_logs(secrets: Iterable[str]) -> Iterator[None]:
    """While inside, log records that contain a secret have it replaced by `***` (Selenium's and ours)."""
    hidden = tuple(s for s in secrets if s)
    if not hidden:
        yield
        return
    flt = _RedactFilter(hidden)
    targets = [logging.getLogger(_SELENIUM_COMMAND_LOGGER), *logging.getLogger().handlers]
    for target in targets:
        target.addFilter(flt)
    try:
        yield
    finally:
        for target in targets:
            target.removeFilter(flt)
