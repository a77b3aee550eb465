"""Readiness: wait until a person would see the table now, then take its screenshot.

Modelled on Playwright's actionability checks. Each poll runs one JavaScript snapshot
(`READINESS_JS`, asynchronous: it waits two animation frames) that answers the first condition
the element fails, in this order:

    attached    element.isConnected
    visible     no `display: none`/`visibility: hidden`, opacity >= MIN_OPACITY on it and every ancestor
    sized       a non-zero box
    loaded      an <img>: complete with naturalWidth > 0; <img>s inside it (an HTML table's cells):
                complete; a <canvas>: not blank (all pixels equal; a tainted canvas counts as drawn)
    still       no running CSS animation or transition on it, inside it, or on an ancestor
    stable      the same box across two requestAnimationFrames
    whole       no scroll box cuts it: not itself (`overflow: auto`, mvp.css's tables), nor an
                ancestor (Bootstrap's .table-responsive), else it is shown whole (`ScrollBoxes`)
    fits        its box no larger than the viewport (else the window grows, `WindowGrowth`: a
                screenshot ends at the viewport, and a table cut off there would be read wrong)
    in view     all of its box inside the viewport
    uncovered   on a GRID x GRID grid of points inside its box (clipped to the viewport), the top
                element (document.elementFromPoint) is the element or inside it

Once all pass, two consecutive element screenshots must be byte-identical. A wait that runs out
raises `TableNotReady` with one line naming the condition that failed last, e.g.
`div#cookie-banner covers the lower 40% of table light/main`; the error carries the last
element screenshot (`png`) for the run folder.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from selenium.common.exceptions import JavascriptException, WebDriverException
from selenium.webdriver.common.by import By

from robot.browser.driver import Driver, Element, first_line, gone
from robot.errors import TableNotReady

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.05  # pause between two snapshots that found the element not ready
MIN_OPACITY = 0.99
GRID = 5  # points per side checked for covering elements
MAX_GROWTHS = 3  # a table larger than the viewport: times the window may grow for it (a table as wide as the window
#                  grows with it)
MAX_WINDOW_PX = 8000  # ... and the largest side it may grow to
GROW_MARGIN_PX = 40  # ... with this much to spare
MAX_SHOWN_WHOLE = 3  # a table cut by scroll boxes: times they may be opened up for it (a page that cuts it anew)
WHAT = "@@what@@"  # where the script's answer names the table

SCROLL_INTO_VIEW_JS = "arguments[0].scrollIntoView({block: 'center', inline: 'center'});"

# The scroll boxes that cut `e` (its content, as a person would scroll to it), innermost first, each with the
# CSS px it hides across and down. The root and body scroll as the viewport: `fits` and `in view` see to that.
# A box is a table's own only where it is a block (`display: block` on a <table>): a table's own box grows to
# its content.
CUT_BY_JS = r"""
function cutBy(e) {
  const out = [];
  const clips = v => v !== 'visible';
  for (let n = e; n && n.nodeType === 1 && n !== document.body && n !== document.documentElement; n = n.parentElement) {
    const s = getComputedStyle(n);
    if (!clips(s.overflowX) && !clips(s.overflowY)) continue;
    let width = 0, height = 0;
    if (n === e) {
      if (s.display.includes('table')) continue;
      if (clips(s.overflowX)) width = n.scrollWidth - n.clientWidth;
      if (clips(s.overflowY)) height = n.scrollHeight - n.clientHeight;
    } else {
      const r = e.getBoundingClientRect(), b = n.getBoundingClientRect();
      const left = b.left + n.clientLeft, top = b.top + n.clientTop;
      if (clips(s.overflowX)) width = Math.max(0, left - r.left) + Math.max(0, r.right - left - n.clientWidth);
      if (clips(s.overflowY)) height = Math.max(0, top - r.top) + Math.max(0, r.bottom - top - n.clientHeight);
    }
    if (width > 1 || height > 1) out.push({node: n, width: Math.ceil(Math.max(width, 0)), height: Math.ceil(Math.max(height, 0))});
  }
  return out;
}
"""

# arguments: element. Shows `e` whole: each box that cuts it lets its content overflow, and grows to it (inline,
# !important, so the page's own rules give way); returns [[box, its style attribute before], ...] for
# `ScrollBoxes` to give back.
SHOW_WHOLE_JS = CUT_BY_JS + r"""
const [e] = arguments;
const changed = [];
for (const cut of cutBy(e)) {
  const n = cut.node;
  changed.push([n, n.getAttribute('style')]);
  n.style.setProperty('overflow', 'visible', 'important');
  if (cut.width > 1 && n === e) { n.style.setProperty('width', 'max-content', 'important'); n.style.setProperty('max-width', 'none', 'important'); }
  if (cut.height > 1) { n.style.setProperty('height', 'auto', 'important'); n.style.setProperty('max-height', 'none', 'important'); }
}
return changed;
"""

RESTORE_STYLE_JS = r"""
for (const [n, style] of arguments[0]) {
  if (!n.isConnected) continue;
  if (style === null) n.removeAttribute('style'); else n.setAttribute('style', style);
}
"""

# arguments: element, min opacity, grid size, whether the whole box must be in view, callback. Calls back with null
# (ready) or [condition, message] ('fits': and the CSS px it lacks in width and height, and whether in a frame).
READINESS_JS = (r"""
const [e, minOpacity, grid, whole, done] = arguments;
const WHAT = '@@what@@';
const name = n => {
  let s = n.tagName.toLowerCase();
  if (n.id) s += '#' + n.id;
  if (typeof n.className === 'string' && n.className.trim()) s += '.' + n.className.trim().split(/\s+/).join('.');
  return s;
};
const ancestry = n => { const out = []; for (let p = n; p && p.nodeType === 1; p = p.parentElement) out.push(p); return out; };
const rectOf = () => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
${CUT_BY}
function early() {
  if (!e.isConnected) return ['attached', WHAT + ' is no longer attached to the page'];
  for (const n of ancestry(e)) {
    const s = getComputedStyle(n);
    if (s.display === 'none') return ['visible', WHAT + ' is not visible (' + name(n) + ' has display: none)'];
    if (n === e && s.visibility !== 'visible') return ['visible', WHAT + ' is not visible (visibility: ' + s.visibility + ')'];
    const o = parseFloat(s.opacity);
    if (o < minOpacity) return ['visible', WHAT + ' is not fully visible yet (opacity ' + o.toFixed(2) + ' on ' + name(n) + ')'];
  }
  const [, , w, h] = rectOf();
  if (!(w > 0 && h > 0)) return ['sized', WHAT + ' has an empty box (' + w + 'x' + h + ')'];
  if (e.tagName === 'IMG' && !(e.complete && e.naturalWidth > 0)) return ['loaded', WHAT + "'s image has not finished loading"];
  if ([...e.querySelectorAll('img')].some(i => !i.complete)) return ['loaded', 'an image inside ' + WHAT + ' has not finished loading'];
  if (e.tagName === 'CANVAS') {
    try {
      const c = document.createElement('canvas'); c.width = e.width; c.height = e.height;
      const ctx = c.getContext('2d'); ctx.drawImage(e, 0, 0);
      const px = new Uint32Array(ctx.getImageData(0, 0, c.width, c.height).data.buffer);
      if (px.length === 0 || px.every(v => v === px[0])) return ['loaded', WHAT + "'s canvas is still blank"];
    } catch (err) { /* tainted by another origin's pixels: counts as drawn */ }
  }
  const running = a => a.playState === 'running';
  let anim = e.getAnimations({subtree: true}).find(running);
  let owner = e;
  if (!anim) for (const n of ancestry(e).slice(1)) { anim = n.getAnimations().find(running); if (anim) { owner = n; break; } }
  if (anim) {
    const kind = anim.transitionProperty ? 'transition of ' + anim.transitionProperty : 'animation ' + (anim.animationName || anim.id || '');
    const target = (anim.effect && anim.effect.target && anim.effect.target.tagName) ? anim.effect.target : owner;
    return ['still', WHAT + ' is still moving (a CSS ' + kind.trim() + ' runs on ' + name(target) + ')'];
  }
  return null;
}
const REPLACED = new Set(['IMG', 'CANVAS', 'VIDEO', 'SVG', 'svg', 'IFRAME', 'OBJECT', 'EMBED', 'INPUT', 'BUTTON',
                          'SELECT', 'TEXTAREA']);
function paints(n) {  // whether an element covering a point shows something there (else it is looked through)
  let opacity = 1;
  for (let p = n; p && p.nodeType === 1; p = p.parentElement) opacity *= parseFloat(getComputedStyle(p).opacity);
  const s = getComputedStyle(n);
  if (s.visibility !== 'visible' || opacity < 0.05) return false;
  const alpha = (s.backgroundColor.match(/rgba?\(([^)]+)\)/) || [, '0,0,0,0'])[1].split(',').map(Number);
  if ((alpha.length < 4 ? 1 : alpha[3]) > 0.05 || s.backgroundImage !== 'none' || REPLACED.has(n.tagName)) return true;
  return [...n.childNodes].some(c => c.nodeType === 3 && c.textContent.trim());  // its own text
}
function late(before) {
  if (!e.isConnected) return ['attached', WHAT + ' is no longer attached to the page'];
  const r = rectOf();
  if (r.some((v, i) => Math.abs(v - before[i]) > 0.5)) return ['stable', WHAT + ' is still moving (its box changed between two frames)'];
  const [left, top, w, h] = r;
  const cut = whole ? cutBy(e)[0] : null;
  if (cut) return ['whole', WHAT + ' is cut by a scroll box (' + name(cut.node) + ' hides ' + cut.width + 'x' + cut.height
    + ' px of it)'];
  // The viewport less its scroll bars (documentElement, in standards mode; in quirks mode that is the document).
  const vw = Math.min(document.documentElement.clientWidth || innerWidth, innerWidth);
  const vh = Math.min(document.documentElement.clientHeight || innerHeight, innerHeight);
  if (whole && (w > vw + 1 || h > vh + 1)) {
    const inFrame = window !== window.top;
    return ['fits', WHAT + ' is ' + Math.ceil(w) + 'x' + Math.ceil(h) + ' px, more than its ' + (inFrame ? 'frame' : 'window')
      + ' shows (' + vw + 'x' + vh + ')', Math.ceil(w - vw), Math.ceil(h - vh), inFrame];
  }
  const x0 = Math.max(left, 0), y0 = Math.max(top, 0), x1 = Math.min(left + w, vw), y1 = Math.min(top + h, vh);
  if (x1 - x0 < 1 || y1 - y0 < 1) return ['in view', WHAT + ' is outside the viewport'];
  if (whole && (left < -1 || top < -1 || left + w > vw + 1 || top + h > vh + 1)) return ['in view', WHAT + ' is partly outside the viewport'];
  const hits = new Map(), rows = new Set(), cols = new Set(), coveredAt = [];
  // Hit testing skips `pointer-events: none`, which a veil over a table may have: for the sampling, every
  // element takes hits; of those at a point, the ones that paint nothing there (empty containers) are
  // looked through.
  const hitAll = document.createElement('style');
  hitAll.textContent = '* { pointer-events: auto !important; }';
  (document.head || document.documentElement).appendChild(hitAll);
  try {
    for (let i = 0; i < grid; i++) for (let j = 0; j < grid; j++) {
      const x = x0 + (j + 0.5) * (x1 - x0) / grid, y = y0 + (i + 0.5) * (y1 - y0) / grid;
      let top_ = null;
      for (const n of document.elementsFromPoint(x, y)) {
        if (n === hitAll) continue;
        if (e.contains(n) || n.contains(e)) break;  // the element, its content, or an ancestor: seen
        if (paints(n)) { top_ = n; break; }
      }
      if (!top_) continue;
      while (top_.parentElement && !top_.parentElement.contains(e)) top_ = top_.parentElement;  // the overlay, not its text
      hits.set(top_, (hits.get(top_) || 0) + 1);
      coveredAt.push([i, j]);
    }
  } finally { hitAll.remove(); }
  if (!coveredAt.length) return null;
  const top_ = [...hits.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const share = Math.round(100 * coveredAt.length / (grid * grid));
  const fullRows = [], fullCols = [];
  for (let k = 0; k < grid; k++) {
    if (coveredAt.filter(([i]) => i === k).length === grid) fullRows.push(k);
    if (coveredAt.filter(([, j]) => j === k).length === grid) fullCols.push(k);
  }
  let where = share + '% of';
  if (share === 100) where = 'all of';
  else if (fullRows.length * grid === coveredAt.length && fullRows[fullRows.length - 1] === grid - 1 && fullRows.length === grid - fullRows[0]) where = 'the lower ' + share + '% of';
  else if (fullRows.length * grid === coveredAt.length && fullRows[0] === 0 && fullRows[fullRows.length - 1] === fullRows.length - 1) where = 'the upper ' + share + '% of';
  else if (fullCols.length * grid === coveredAt.length && fullCols[fullCols.length - 1] === grid - 1 && fullCols.length === grid - fullCols[0]) where = 'the right ' + share + '% of';
  else if (fullCols.length * grid === coveredAt.length && fullCols[0] === 0 && fullCols[fullCols.length - 1] === fullCols.length - 1) where = 'the left ' + share + '% of';
  return ['uncovered', name(top_) + ' covers ' + where + ' ' + WHAT];
}
try {
  const failed = early();
  if (failed) { done(failed); return; }
  const before = rectOf();
  let settled = false;
  const finish = () => { if (settled) return; settled = true; try { done(late(before)); } catch (err) { done(['script', WHAT + "'s readiness check failed in the page (" + err + ')']); } };
  requestAnimationFrame(() => requestAnimationFrame(finish));
  setTimeout(finish, 250);  // a page that paints no frames (hidden tab): judge the box as it is
} catch (err) { done(['script', WHAT + "'s readiness check failed in the page (" + err + ')']); }
""").replace("${CUT_BY}", CUT_BY_JS)


def wait_until_seen(driver: Driver, element: Element, css: str, timeout: float, what: str, *,
                    refind: Callable[[], Element | None] | None = None,
                    grow: Callable[[int, int], bool] | None = None,
                    show_whole: Callable[[Element], bool] | None = None) -> bytes:
    """The element's screenshot (PNG) once a person would see it as it is now: `READINESS_JS` passes and
    two consecutive screenshots are byte-identical. Else `TableNotReady` after `timeout` seconds, its
    message naming the condition that failed last, e.g. `div#banner covers the lower 40% of <what>`.
    An element replaced on the page is looked up again with `refind` (default: the first match of `css`).
    An element larger than the viewport is never captured cut off (the screenshot would end at the
    viewport): `grow(more_width, more_height)` may enlarge the window (`WindowGrowth`), else it fails. So is
    one cut by a scroll box: `show_whole(element)` may open the box up (`ScrollBoxes`), else it fails."""
    deadline = time.monotonic() + timeout
    reason, previous, last_png, scroll = f"{what} was never checked", None, None, True
    while True:
        ready = False
        try:
            if scroll:  # first, and again after it was replaced or left the viewport
                driver.execute_script(SCROLL_INTO_VIEW_JS, element)
                scroll = False
            failed = driver.execute_async_script(READINESS_JS, element, MIN_OPACITY, GRID, True)
            if failed:
                reason, previous = str(failed[1]).replace(WHAT, what), None
                scroll = failed[0] in ("in view", "fits", "whole")
                if failed[0] == "whole" and (show_whole is None or not show_whole(element)):
                    reason += "; select the element inside the scroll box that holds the whole table"
                if failed[0] == "fits":
                    grown = grow is not None and not failed[4] and grow(int(failed[2]), int(failed[3]))
                    if not grown:
                        reason += ("; raise browser.window_width/window_height" if not failed[4] else
                                   "; the page's frame cuts it: select the frame's content another way")
            else:
                png = element.screenshot_as_png
                if png and png == previous:
                    return png
                if not png:
                    reason = f"the screenshot of {what} came back empty"
                elif previous is not None:
                    reason = f"the screenshot of {what} kept changing"
                previous, last_png, ready = png or None, png or last_png, bool(png)
        except JavascriptException as exc:
            reason, previous = f"the readiness check of {what} failed in the page ({first_line(exc)})", None
        except WebDriverException as exc:
            if not gone(exc):
                raise
            reason, previous = f"{what} was replaced on the page ({css!r})", None
            again = refind() if refind is not None else next(iter(driver.find_elements(By.CSS_SELECTOR, css)), None)
            if again is not None:
                element, scroll = again, True
        if time.monotonic() >= deadline:
            log.debug("not ready: %s", reason)
            raise TableNotReady(f"{reason} (still so after {timeout:g} s; raise browser.wait_timeout_s if it is "
                                "only slow)", png=last_png or _shot(element))
        if not ready:  # ready: the second screenshot right away
            time.sleep(POLL_INTERVAL_S)


def wait_until_shown(driver: Driver, element: Element, css: str, timeout: float, what: str) -> Element:
    """`READINESS_JS` alone, no screenshots: for the `<iframe>` a table sits in, which must be in view,
    visible, still and uncovered in its own document before what is inside it can be seen. Returns the
    element (looked up again by `css` if it was replaced); else `TableNotReady` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            failed = driver.execute_async_script(READINESS_JS, element, MIN_OPACITY, GRID, False)
            if not failed:
                return element
            reason = str(failed[1]).replace(WHAT, what)
            if failed[0] == "in view":
                driver.execute_script(SCROLL_INTO_VIEW_JS, element)
        except JavascriptException as exc:
            reason = f"the readiness check of {what} failed in the page ({first_line(exc)})"
        except WebDriverException as exc:
            if not gone(exc):
                raise
            reason = f"{what} was replaced on the page ({css!r})"
            element = next(iter(driver.find_elements(By.CSS_SELECTOR, css)), element)
        if time.monotonic() >= deadline:
            raise TableNotReady(f"{reason} (still so after {timeout:g} s; raise browser.wait_timeout_s if it is "
                                "only slow)", png=_shot(element))
        time.sleep(POLL_INTERVAL_S)


def _shot(element: Element) -> bytes | None:
    """The element as it looks now, for the run folder; None when even that fails."""
    try:
        return element.screenshot_as_png or None
    except Exception:  # noqa: BLE001 - a failing keepsake must not hide the real error
        return None


class ScrollBoxes:
    """`wait_until_seen`'s `show_whole`: a table its page puts in a scroll box (Bootstrap's .table-responsive,
    mvp.css's `table { overflow-x: auto }`) shows only part of itself, as a person sees it before scrolling;
    its screenshot would miss the rest. The boxes that cut it let it overflow and grow to it, by inline
    `!important` styles (at most MAX_SHOWN_WHOLE times), and on leaving the `with` block each gets its own
    style attribute back. The block holds everything measured meanwhile (the screenshot, the cells' boxes)."""

    def __init__(self, driver: Driver):
        self.driver, self.changed, self.times = driver, [], 0

    def __call__(self, element: Element) -> bool:
        if self.times >= MAX_SHOWN_WHOLE:
            return False
        self.times += 1
        changed = self.driver.execute_script(SHOW_WHOLE_JS, element) or []
        self.changed.extend(changed)
        log.debug("%d scroll box(es) opened up to show a table whole", len(changed))
        return bool(changed)

    def __enter__(self) -> "ScrollBoxes":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.changed:  # last changed first: a box changed twice gets its page's own style back
            try:
                self.driver.execute_script(RESTORE_STYLE_JS, self.changed[::-1])
            except WebDriverException as exc:  # the page is gone or replaced: nothing left to give back
                log.debug("could not give the scroll boxes their styles back: %s", first_line(exc))


class WindowGrowth:
    """`wait_until_seen`'s `grow`: enlarges the browser window (at most MAX_GROWTHS times, up to
    MAX_WINDOW_PX a side) so that a table larger than the viewport fits, and, on leaving the `with`
    block, gives the window back its size. The block holds everything measured in the grown window
    (the screenshot and the cells' boxes), so they agree."""

    def __init__(self, driver: Driver):
        self.driver, self.original, self.growths = driver, None, 0

    def __call__(self, more_width: int, more_height: int) -> bool:
        if self.growths >= MAX_GROWTHS:
            return False
        size = self.driver.get_window_size()
        self.original = self.original or size
        width = min(MAX_WINDOW_PX, size["width"] + max(0, more_width) + (GROW_MARGIN_PX if more_width > 0 else 0))
        height = min(MAX_WINDOW_PX, size["height"] + max(0, more_height) + (GROW_MARGIN_PX if more_height > 0 else 0))
        if (width, height) == (size["width"], size["height"]):
            return False
        self.growths += 1
        log.debug("window grown to %dx%d for a table larger than the viewport", width, height)
        self.driver.set_window_size(width, height)
        return True

    def __enter__(self) -> "WindowGrowth":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.original is not None:
            try:
                self.driver.set_window_size(self.original["width"], self.original["height"])
            except WebDriverException as exc:  # the browser is gone: the session restarts it anyway
                log.debug("could not give the window its size back: %s", first_line(exc))
