"""`robot review` as a child process, for the tests that drive its page over HTTP."""
from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Served:
    url: str  # the page, from the "open http://..." line
    banner: str  # stderr up to that line
    rest: str = ""  # stderr after it, once stopped
    returncode: int | None = None


@contextmanager
def serving(args: list[str], wait_s: float = 10) -> Iterator[Served]:
    """Start `args` (a `robot review` command line) and wait for the line that gives its page. On
    leaving, SIGINT stops it as Ctrl-C does; its exit code and the rest of its stderr are then set.
    The child starts with SIGINT's default action, as from a terminal: a suite started as a shell's
    background job (`cmd &`) has SIGINT ignored, and children inherit that."""
    process = subprocess.Popen(args, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    served = None
    try:
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "open http://" in line:
                break
        banner = "".join(lines)
        match = re.search(r"open (http://\S+)", banner)
        assert match, banner
        served = Served(match.group(1), banner)
        yield served
    finally:
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=wait_s)[1]
        if served is not None:
            served.rest, served.returncode = rest, process.returncode
