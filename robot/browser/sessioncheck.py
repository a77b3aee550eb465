"""Was it the session? A table image that never loads may have been sent to the login page.

A session can end between a page and its images: the page's HTML came while logged in, the
image requests are redirected to the login form, and the `<img>` never decodes. That looks
like a broken table (`TableNotFound`) but is an expired session, which logging in again and
reading the page again cures. `raise_if_logged_out` asks the browser, from the page itself and
with its cookies, where the image's address leads now.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from robot.browser.driver import DRIVER_FAILURES, Driver
from robot.errors import SessionExpired

log = logging.getLogger(__name__)

# Where the first element matching the selector arguments[0] leads, if it is an image: the final URL
# after redirects (a synchronous request, so that the answer comes back from this one call); else null.
IMAGE_FINAL_URL_JS = """
const e = document.querySelector(arguments[0]);
const src = e && e.tagName === 'IMG' ? (e.currentSrc || e.src) : '';
if (!src) return null;
try {
  const request = new XMLHttpRequest();
  request.open('GET', src, false);
  request.send();
  return request.responseURL || null;
} catch (err) {
  return null;
}
"""


def raise_if_logged_out(driver: Driver, selector: str, login_url: str, what: str) -> None:
    """Raise `SessionExpired` when the image `selector` names now leads to the login page at `login_url`."""
    try:
        final = driver.execute_script(IMAGE_FINAL_URL_JS, selector)
    except DRIVER_FAILURES as exc:  # the check is a courtesy: the table's own error stands
        log.debug("could not check where the image of %s leads: %s", what, exc)
        return
    if isinstance(final, str) and _path(final) == _path(login_url):
        raise SessionExpired(f"the image of {what} led to the login page: the session expired between the page "
                             "and its image; logging in again")


def _path(url: str) -> str:
    return urlsplit(url).path.rstrip("/")
