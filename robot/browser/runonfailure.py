"""Run-on-failure: one action, registered by whoever owns the browser, run once per failure.

Modelled on SeleniumLibrary's `register_keyword_to_run_on_failure`: the session registers what
to do when something fails (save the page), and every place that handles a failure asks the
policy to run it for that exception. A failure is often handled at more than one level (a table,
then the run that stops on it); the policy remembers per failure what the action returned, so
the page is saved once and every level gets the same snapshot name.
"""
from __future__ import annotations

from typing import Callable, Optional

# Called with the failure's label; returns what to remember for it (a snapshot's name), or None.
# It reports its own failures (logs them, returns None): a failure's handler must never get a new error.
Action = Callable[[str], Optional[str]]


class RunOnFailure:
    """Runs the registered action once per failure and remembers its result for that failure."""

    def __init__(self, action: Action | None = None) -> None:
        self._action = action
        # id(exc) -> (exc, result). Exceptions take no weak references: holding `exc` keeps its id
        # from being reused by a later exception while the policy lives (one browser session).
        self._results: dict[int, tuple[BaseException, str | None]] = {}

    def register(self, action: Action | None) -> Action | None:
        """Run `action` on failures from now on (None: run nothing); returns the action it replaces."""
        previous, self._action = self._action, action
        return previous

    def run(self, label: str, exc: BaseException) -> str | None:
        """Run the action for the failure `exc`, labelled `label`, unless it ran for `exc` before:
        either way, what it returned for `exc`. Without a registered action, None."""
        if id(exc) in self._results:
            return self.result(exc)
        if self._action is None:
            return None
        self._results[id(exc)] = (exc, None)  # an action that raises is not run again for `exc` either
        result = self._action(label)
        self._results[id(exc)] = (exc, result)
        return result

    def result(self, exc: BaseException) -> str | None:
        """What the action returned for `exc`; None when it has not run for `exc` (or returned None)."""
        held = self._results.get(id(exc))
        return held[1] if held is not None else None
