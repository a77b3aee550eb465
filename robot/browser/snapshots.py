"""What the page looked like at a failure: `failure__<label>.png` and `.html` in the run folder.

The saved source has every secret replaced by `***` (`robot.browser.redaction`).
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterable, Iterator

from robot.browser.driver import DRIVER_FAILURES, Driver, first_line
from robot.browser.redaction import redact
from tablebot.errors import TableBotError
from tablebot.files import atomic_open, write_bytes_atomic

log = logging.getLogger(__name__)


class FailureSnapshots:
    """Saves what the page looked like at a failure, once per failure: `failure__<label>.png` and `.html`.

    The saved source has every secret replaced by `***`. With `folder=None` nothing is saved.
    """

    def __init__(self, driver: Driver, folder: Path | None, secrets: Iterable[str] = ()):
        self.driver = driver
        self.folder = folder
        self.secrets = tuple(s for s in secrets if s)
        self.saved: list[Path] = []

    def save(self, label: str, exc: BaseException) -> None:
        """Save the page once for `exc`; on success `exc` carries the snapshot's name (see `results.snapshot_of`)."""
        if self.folder is None or getattr(exc, "_tablebot_snapshot", False):
            return
        exc._tablebot_snapshot = True  # type: ignore[attr-defined]
        stem = self.folder / f"failure__{label}"
        try:
            png, html = self.driver.get_screenshot_as_png(), self.driver.page_source
            write_bytes_atomic(stem.with_suffix(".png"), png)
            with atomic_open(stem.with_suffix(".html"), "w") as stream:
                stream.write(redact(html, self.secrets))
        except (*DRIVER_FAILURES, TableBotError) as err:
            log.warning("could not save the page at the failure: %s", first_line(err))
            return
        exc._tablebot_snapshot = stem.name  # type: ignore[attr-defined]
        self.saved += [stem.with_suffix(".png"), stem.with_suffix(".html")]
        log.info("the page at the failure is saved as %s.png and .html", stem)

    @contextlib.contextmanager
    def on_failure(self, label: str | None = None) -> Iterator["FailureSnapshots"]:
        """Save a snapshot for an error leaving the block (labelled by its class unless given), then re-raise."""
        try:
            yield self
        except (TableBotError, *DRIVER_FAILURES) as exc:
            self.save(label or type(exc).__name__, exc)
            raise
