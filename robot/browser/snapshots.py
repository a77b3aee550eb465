"""What the page looked like at a failure: `failure__<label>.png` and `.html` in the run folder.

The saved source has every secret replaced by `***` (`robot.browser.redaction`). Saving once
per failure is the run-on-failure policy's job (`robot.browser.runonfailure`): `PageSnapshots.save`
is the action a session registers there.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterable

from robot.browser.driver import DRIVER_FAILURES, Driver, first_line
from robot.browser.redaction import redact
from tablebot.errors import TableBotError
from tablebot.files import atomic_open, write_bytes_atomic

log = logging.getLogger(__name__)


class PageSnapshots:
    """Saves the page `driver` shows as it is now into `folder`, its source with every secret redacted."""

    def __init__(self, driver: Driver, folder: Path, secrets: Iterable[str] = ()):
        self.driver = driver
        self.folder = folder
        self.secrets = tuple(s for s in secrets if s)

    def save(self, label: str) -> str | None:
        """Save the page as `failure__<label>.png` and `.html`; the snapshot's name (`failure__<label>`),
        or None when the browser or the disk failed (logged: the failure being recorded matters more)."""
        stem = self.folder / f"failure__{label}"
        try:
            png, html = self.driver.get_screenshot_as_png(), self.driver.page_source
            write_bytes_atomic(stem.with_suffix(".png"), png)
            with atomic_open(stem.with_suffix(".html"), "w") as stream:
                stream.write(redact(html, self.secrets))
        except (*DRIVER_FAILURES, TableBotError) as err:
            log.warning("could not save the page at the failure: %s", first_line(err))
            return None
        log.info("the page at the failure is saved as %s.png and .html", stem)
        return stem.name
