"""Page actions: the clicks, typing and waits a page needs before its tables show (`pages[].actions`,
`before_each_page` in config.yaml).

`run_actions` does the steps in order with the driver; waits go through `robot.browser.waiting` and
last `browser.wait_timeout_s` unless a step says `timeout_s`. A step that cannot be done raises
`ActionFailed`, one line naming the page and the step, e.g.
`page tricky, step 2 (click #history-tab): no element matches`; an `optional: true` one is logged and
skipped. A step with a `frame` path looks its element up inside those nested `<iframe>`s
(`robot.browser.frames`). Typed text is never logged nor put into a message.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    InvalidElementStateException,
    JavascriptException,
    NoSuchElementException,
    StaleElementReferenceException,
    UnexpectedTagNameException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select

from robot.browser.driver import Driver, Element, first_line
from robot.browser.frames import describe_frames, inside_frames
from robot.browser.waiting import wait_until
from robot.config import (
    ClickAction,
    PressAction,
    ScrollAction,
    SelectAction,
    SleepAction,
    TypeAction,
    WaitForAction,
    WaitGoneAction,
)
from robot.errors import ActionFailed, BrowserCrashed
from tablebot.errors import TableBotError

log = logging.getLogger(__name__)

VISIBLE_JS = """
const e = arguments[0];
if (!e.isConnected) return false;
const s = getComputedStyle(e), r = e.getBoundingClientRect();
return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0;
"""


# What the element did not take: the step fails. Other driver errors (a crashed browser) go up as they are.
STEP_FAILURES = (ElementClickInterceptedException, ElementNotInteractableException, InvalidElementStateException,
                 JavascriptException, StaleElementReferenceException, NoSuchElementException,
                 UnexpectedTagNameException)


class _StepFailed(Exception):
    """Why one step could not be done (its message goes after the step's name)."""


def describe(action) -> str:
    """The step as its message names it, e.g. `click #history-tab`, `click #ok in frame iframe#login`;
    never the text typed."""
    what = _describe(action)
    return f"{what} in frame {describe_frames(action.frame)}" if action.frame else what


def _describe(action) -> str:
    kind = action.action
    if isinstance(action, TypeAction):
        return f"type into {action.selector}" + (f" from ${action.text_env}" if action.text_env else "")
    if isinstance(action, SelectAction):
        how = f"value {action.value!r}" if action.value is not None else f"text {action.text!r}"
        return f"select {how} in {action.selector}"
    if isinstance(action, PressAction):
        return f"press {action.key}" + (f" in {action.selector}" if action.selector else "")
    if isinstance(action, ScrollAction):
        return f"scroll to {action.selector or action.to}"
    if isinstance(action, SleepAction):
        return f"sleep {action.seconds:g} s"
    return f"{kind} {action.selector}"


def run_actions(driver: Driver, page_name: str, actions: Sequence, *, timeout: float, steps: str = "step") -> None:
    """Do `actions` in order on the open page; messages number them from 1 (`steps`: how they are called,
    `before_each_page step` for the shared ones)."""
    for number, action in enumerate(actions, start=1):
        step = f"page {page_name}, {steps} {number} ({describe(action)})"
        wait_s = action.timeout_s or timeout
        try:
            with inside_frames(driver, action.frame, wait_s, "the step", error=_Timeout):
                _do(driver, action, wait_s)
        except (_StepFailed, TableBotError) as exc:
            if isinstance(exc, BrowserCrashed):
                raise
            message = f"{step}: {exc}"
            if action.optional:
                log.info("%s; optional, skipped", message)
                continue
            raise ActionFailed(message) from None
        log.debug("%s: done", step)


def _element(driver: Driver, css: str, timeout: float, *, visible: bool = True) -> Element:
    """The first element matching `css`, once there (and shown, for what a person would click or type in)."""

    def found(d: Driver) -> Element | bool:
        for element in d.find_elements(By.CSS_SELECTOR, css):
            if not visible or d.execute_script(VISIBLE_JS, element):
                return element
        return False

    try:
        return wait_until(driver, found, timeout=timeout, what=css, error=_Timeout)
    except _Timeout:
        there = _matches(driver, css)
        raise _StepFailed(f"no element matches (waited {timeout:g} s)" if not there
                          else f"the element is not visible (waited {timeout:g} s)") from None


class _Timeout(TableBotError):
    pass


def _matches(driver: Driver, css: str) -> bool:
    try:
        return bool(driver.find_elements(By.CSS_SELECTOR, css))
    except WebDriverException:
        return False


def _click(driver: Driver, element: Element, css: str, timeout: float) -> None:
    """Click as a person would: once nothing covers the element (a banner that goes away, an overlay), like
    Playwright's actionability wait; still covered after `timeout`, the step fails naming what covers it."""
    last: list[BaseException] = []

    def clicked(d: Driver) -> bool:
        try:
            d.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'});", element)
            element.click()
            return True
        except (ElementClickInterceptedException, ElementNotInteractableException) as exc:
            last[:] = [exc]
            return False

    try:
        wait_until(driver, clicked, timeout=timeout, what=css, error=_Timeout)
    except _Timeout:
        raise _StepFailed(f"{first_line(last[0]) if last else 'not clickable'} (still so after {timeout:g} s)") from None


def _key(name: str) -> str:
    return name if len(name) == 1 else getattr(Keys, name.upper())


def _do(driver: Driver, action, timeout: float) -> None:
    try:
        if isinstance(action, ClickAction):
            _click(driver, _element(driver, action.selector, timeout), action.selector, timeout)
        elif isinstance(action, TypeAction):
            text = action.resolved_text()
            element = _element(driver, action.selector, timeout)
            element.clear()
            element.send_keys(text)
        elif isinstance(action, SelectAction):
            select = Select(_element(driver, action.selector, timeout))
            try:
                if action.value is not None:
                    select.select_by_value(action.value)
                else:
                    select.select_by_visible_text(action.text)
            except NoSuchElementException:
                raise _StepFailed("no such option") from None
        elif isinstance(action, PressAction):
            if action.selector:
                _element(driver, action.selector, timeout).send_keys(_key(action.key))
            else:
                driver.switch_to.active_element.send_keys(_key(action.key))
        elif isinstance(action, ScrollAction):
            if action.selector:
                element = _element(driver, action.selector, timeout, visible=False)
                driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'});", element)
            else:
                driver.execute_script("window.scrollTo(0, arguments[0] ? document.body.scrollHeight : 0);",
                                      action.to == "bottom")
        elif isinstance(action, WaitForAction):
            _element(driver, action.selector, timeout)
        elif isinstance(action, WaitGoneAction):
            def gone(d: Driver) -> bool:
                return not any(d.execute_script(VISIBLE_JS, e) for e in d.find_elements(By.CSS_SELECTOR, action.selector))
            try:
                wait_until(driver, gone, timeout=timeout, what=action.selector, error=_Timeout)
            except _Timeout:
                raise _StepFailed(f"still shown after {timeout:g} s") from None
        elif isinstance(action, SleepAction):
            time.sleep(action.seconds)
    except STEP_FAILURES as exc:  # the element would not take it; other driver errors are the browser's
        raise _StepFailed(first_line(exc)) from None
