"""What the robot and the recognizer share and neither owns: the error base and exit codes,
atomic file writes, UTC timestamps, and the CLI boundary that turns errors into one line.

Nothing here knows about browsers, models or schedulers; both packages import it, it imports neither.
"""
