"""Switchable misbehaviour of the demo site, for testing the robot's retries and error messages.

One thread-safe `Faults` object lives on the app (`app.extensions["demo_faults"]`); the request
handlers ask it what to do. Faults about a page apply to that page's HTML request only,
not to its images. Tests in another thread call the methods; tests in another process
POST the same operations as JSON to `/api/faults` (see `apply`).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable

LOGIN_PAGE = "login"  # slow/http_error may also target the login form
ELEMENT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
MAX_DELAY_S = 120.0


@dataclass
class _Error:
    status: int
    remaining: int


class Faults:
    def __init__(self, pages: Iterable[str], tables: Iterable[tuple[str, str]]) -> None:
        self._pages = frozenset(pages) | {LOGIN_PAGE}
        self._tables = frozenset(tables)
        self._lock = threading.Lock()
        self._slow: dict[str, float] = {}
        self._errors: dict[str, _Error] = {}
        self._dropped: set[tuple[str, str]] = set()
        self._renamed: dict[tuple[str, str], str] = {}
        self._generation = 0  # sessions created under an older generation are invalid
        self._expire_after: set[str] = set()

    # -- switches -----------------------------------------------------------------
    def slow(self, page: str, seconds: float) -> None:
        """Delay every request of `page` by `seconds` (0 removes the delay)."""
        self._check_page(page)
        if not 0 <= seconds <= MAX_DELAY_S:
            raise ValueError(f"seconds must be from 0 to {MAX_DELAY_S}, got {seconds}")
        with self._lock:
            self._slow[page] = float(seconds)

    def http_error(self, page: str, status: int = 500, times: int = 1) -> None:
        """The next `times` requests of `page` answer HTTP `status`."""
        self._check_page(page)
        if not 400 <= status <= 599:
            raise ValueError(f"status must be an HTTP error from 400 to 599, got {status}")
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        with self._lock:
            self._errors[page] = _Error(status, times)

    def expire_sessions(self) -> None:
        """Every current session becomes invalid: the next protected request redirects to the login."""
        with self._lock:
            self._generation += 1

    def expire_after_page(self, page: str) -> None:
        """Once: right after the next HTML of `page` is served, every session expires, so its images lead to the login."""
        self._check_page(page)
        with self._lock:
            self._expire_after.add(page)

    def drop_table(self, page: str, table: str) -> None:
        """The table's element is missing from its page."""
        self._check_table(page, table)
        with self._lock:
            self._dropped.add((page, table))

    def rename_table(self, page: str, table: str, new_id: str) -> None:
        """The table's element gets id `new_id`, as when a site changes its markup."""
        self._check_table(page, table)
        if not ELEMENT_ID.match(new_id):
            raise ValueError(f"new_id {new_id!r} is not a plain HTML id (letters, digits, - and _)")
        with self._lock:
            self._renamed[(page, table)] = new_id

    def clear(self) -> None:
        """Remove every fault. Sessions expired earlier stay expired."""
        with self._lock:
            self._slow.clear()
            self._errors.clear()
            self._dropped.clear()
            self._renamed.clear()
            self._expire_after.clear()

    def apply(self, command: dict[str, Any]) -> None:
        """Run one switch from JSON: {"action": "http_error", "page": "light", "status": 503, "times": 2}."""
        if not isinstance(command, dict):
            raise ValueError('send a JSON object like {"action": "clear"}')
        args = dict(command)
        action = args.pop("action", None)
        method = {
            "slow": self.slow,
            "http_error": self.http_error,
            "expire_sessions": self.expire_sessions,
            "expire_after_page": self.expire_after_page,
            "drop_table": self.drop_table,
            "rename_table": self.rename_table,
            "clear": self.clear,
        }.get(action)  # type: ignore[arg-type]
        if method is None:
            raise ValueError(f"unknown action {action!r}: use slow, http_error, expire_sessions, "
                             "expire_after_page, drop_table, rename_table or clear")
        try:
            method(**args)
        except TypeError as exc:
            raise ValueError(f"bad arguments for {action}: {exc}") from None

    # -- queries for the request handlers --------------------------------------------
    def delay_for(self, page: str) -> float:
        with self._lock:
            return self._slow.get(page, 0.0)

    def take_error(self, page: str) -> int | None:
        """The status this request of `page` must fail with, counting it; None when it should succeed."""
        with self._lock:
            error = self._errors.get(page)
            if error is None:
                return None
            error.remaining -= 1
            if error.remaining <= 0:
                del self._errors[page]
            return error.status

    def expire_after_served(self, page: str) -> None:
        """Called once `page`'s HTML is served: expire the sessions if `expire_after_page` asked for it."""
        with self._lock:
            if page in self._expire_after:
                self._expire_after.discard(page)
                self._generation += 1

    @property
    def generation(self) -> int:
        with self._lock:
            return self._generation

    def element_id(self, page: str, table: str, default: str) -> str | None:
        """The id the table's element carries now; None when the table is dropped."""
        with self._lock:
            if (page, table) in self._dropped:
                return None
            return self._renamed.get((page, table), default)

    def _check_page(self, page: str) -> None:
        if page not in self._pages:
            raise ValueError(f"unknown page {page!r}: use one of {sorted(self._pages)}")

    def _check_table(self, page: str, table: str) -> None:
        if (page, table) not in self._tables:
            raise ValueError(f"unknown table {page}/{table}: use one of {sorted('/'.join(t) for t in self._tables)}")
