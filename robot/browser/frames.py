"""Frames: find elements inside nested `<iframe>`s (the `frame:` path of a table or a page action).

`inside_frames` switches into each frame of the path in turn, outermost first: it waits for the
`<iframe>` element in the document it is in, scrolls it into view there (so that what is inside can be
in view of the window, not only of the frame), with `shown`, waits until the frame itself would be seen
there (`robot.browser.readiness.wait_until_shown`: visible, still, uncovered) and switches into it. A
frame that goes away while the body runs (it reloaded) is `error` too. Whatever happens inside, the
driver is switched back to the page's top document afterwards, so the next table or step starts
from there. A frame step that matches nothing, or matches an element that is not a frame, raises
`error` naming the step, e.g. `timed out after 10 s waiting for frame 2 of 2 of table lobby/deep
(selector 'iframe#inner') on ...; check pages[lobby].tables[deep].frame in config.yaml`.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from selenium.common.exceptions import (
    NoSuchFrameException,
    WebDriverException,
)

from robot.browser.driver import Driver, gone
from robot.browser.readiness import SCROLL_INTO_VIEW_JS, wait_until_shown
from robot.browser.waiting import wait_for
from robot.errors import TableNotFound
from tablebot.errors import TableBotError


def describe_frames(frames: Sequence[str]) -> str:
    """A frame path as messages name it: `iframe#outer > iframe#inner`."""
    return " > ".join(frames)


@contextlib.contextmanager
def inside_frames(driver: Driver, frames: Sequence[str], timeout: float, what: str, *,
                  error: type[TableBotError] = TableNotFound, hint: str = "", shown: bool = False) -> Iterator[None]:
    """Run the body inside the frame path `frames` (no path: in the current document, untouched);
    each frame is waited for up to `timeout` seconds (and, with `shown`, until a person would see it)."""
    if not frames:
        yield
        return
    driver.switch_to.default_content()
    try:
        for number, css in enumerate(frames, start=1):
            step = f"frame {number} of {len(frames)} of {what}"
            element = wait_for(driver, css, timeout, step, error=error, hint=hint)
            driver.execute_script(SCROLL_INTO_VIEW_JS, element)
            if shown:
                element = wait_until_shown(driver, element, css, timeout, step)
            try:
                driver.switch_to.frame(element)
            except NoSuchFrameException:
                tail = f"; {hint}" if hint else ""
                raise error(f"{step} ({css!r}) matches a <{element.tag_name}>, not an <iframe>{tail}") from None
        try:
            yield
        except WebDriverException as exc:
            if not (isinstance(exc, NoSuchFrameException) or gone(exc)):
                raise
            # the frame's document was replaced under the body (it reloaded): the table's failure, not the browser's
            raise error(f"a frame of {what} ({describe_frames(frames)}) reloaded while it was read "
                        f"({type(exc).__name__}); if it always does, wait for it with a page action") from None
    finally:
        driver.switch_to.default_content()
