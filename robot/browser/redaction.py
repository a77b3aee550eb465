"""Secrets kept out of what the robot writes: saved page sources (`redact`) and log records
(`secrets_hidden_from_logs`), Selenium's included.

Masking looks for every spelling a secret takes on its way through the robot: as typed, JSON-
escaped (quotes, backslashes, non-ASCII as \\u escapes) as in WebDriver traffic, Python's repr,
and HTML-escaped as in page sources. What Selenium sends to type into a field never reaches a
log at all: it sends the text as a list of single characters too, which no masking can catch,
so the body of every element-value (send_keys) command is withheld from its log record.
"""
from __future__ import annotations

import contextlib
import html
import json
import logging
from typing import Iterable, Iterator

REDACTED = "***"
TYPED_TEXT_WITHHELD = "{(the typed text is withheld from logs)}"
# Selenium logs every WebDriver command ("%s %s %s": method, URL, body) and response at DEBUG.
SELENIUM_COMMAND_LOGGER = "selenium.webdriver.remote.remote_connection"
ELEMENT_VALUE_PATH = "/value"  # POST /session/<id>/element/<id>/value: send_keys


def spellings(secret: str) -> list[str]:
    """`secret` as written raw, JSON-escaped (ASCII and not), repr'd and HTML-escaped; longest first."""
    found = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], repr(secret)[1:-1],
             html.escape(secret), html.escape(secret, quote=False)}
    return sorted((s for s in found if s), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            for spelling in spellings(secret):
                text = text.replace(spelling, REDACTED)
    return text


class _RedactFilter(logging.Filter):
    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = secrets
        self.spelled = tuple(s for secret in secrets for s in spellings(secret))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.spelled):
            record.msg, record.args = redact(message, self.secrets), ()
        return True


class _TypedTextFilter(logging.Filter):
    """Withholds the body of Selenium's element-value commands, whatever the text typed."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 3 and str(args[1]).rstrip("/").endswith(ELEMENT_VALUE_PATH):
            record.args = (args[0], args[1], TYPED_TEXT_WITHHELD)
        return True


@contextlib.contextmanager
def secrets_hidden_from_logs(secrets: Iterable[str], browser_secrets: Iterable[str] = ()) -> Iterator[None]:
    """While inside: no typed text in Selenium's log records; `secrets` masked as `***` in every log record,
    `browser_secrets` (the user name) too in Selenium's, which log whole page sources."""
    hidden = tuple(s for s in secrets if s)
    typed, command_logger = _TypedTextFilter(), logging.getLogger(SELENIUM_COMMAND_LOGGER)
    filters: list[tuple[logging.Filterer, logging.Filter]] = [(command_logger, typed)]
    in_browser = hidden + tuple(s for s in browser_secrets if s and s not in hidden)
    if in_browser:
        filters.append((command_logger, _RedactFilter(in_browser)))
    if hidden:
        everywhere = _RedactFilter(hidden)
        filters += [(handler, everywhere) for handler in logging.getLogger().handlers]
    for target, flt in filters:
        target.addFilter(flt)
    try:
        yield
    finally:
        for target, flt in filters:
            target.removeFilter(flt)
