"""The one retry helper: bounded tries with exponential backoff, for transient errors only.

Transient (`robot.errors.TRANSIENT_ERRORS`): the site did not answer or answered 5xx/429,
the session expired, the browser crashed. Anything else (a refused login, a wrong selector,
a full disk) is raised at once: no retry storm. Before each new try `recover(error)` runs
(log in again, restart the browser); the wait is on the run's `RunControl`, so a stop
request ends it at once.
"""
from __future__ import annotations

import logging
from typing import Callable, TypeVar

from robot.config import Retry
from robot.control import RunControl
from robot.errors import TRANSIENT_ERRORS
from tablebot.errors import TableBotError

log = logging.getLogger(__name__)

T = TypeVar("T")


def backoff_s(attempt: int, policy: Retry) -> float:
    """The wait after failed try number `attempt` (1-based): backoff_s, 2*backoff_s, 4*... up to backoff_max_s."""
    return min(policy.backoff_max_s, policy.backoff_s * 2 ** (attempt - 1))


def retrying(
    action: Callable[[], T],
    policy: Retry,
    control: RunControl,
    *,
    what: str,
    recover: Callable[[TableBotError], None] = lambda exc: None,
    on_retry: Callable[[TableBotError, int], None] = lambda exc, attempt: None,
) -> T:
    """`action()`, tried up to `policy.attempts` times while it fails with a transient error.

    `on_retry(error, attempt)` is told of each failed try that will be retried; the last
    failure is raised. A stop requested meanwhile raises `RunStopped` instead.
    """
    pending: TableBotError | None = None
    for attempt in range(1, policy.attempts + 1):
        try:
            if pending is not None:
                recover(pending)
            return action()
        except TRANSIENT_ERRORS as exc:
            control.check()  # a stop (which may have killed the browser) explains the error: stop, do not retry
            if attempt >= policy.attempts:
                raise
            delay = backoff_s(attempt, policy)
            log.warning("%s: %s; try %d of %d in %.3g s", what, exc, attempt + 1, policy.attempts, delay)
            on_retry(exc, attempt)
            control.wait(delay)
            pending = exc
    raise AssertionError("unreachable: the last try returns or raises")
