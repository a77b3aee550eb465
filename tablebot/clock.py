"""UTC timestamps as the project writes them: ISO-8601 with a Z, to the millisecond.

They sort as text in time order, which the ledger and the CSVs rely on.
"""
from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def utc_iso(moment: datetime | None = None) -> str:
    """`moment` (default: now) as `2026-11-30T14:00:00.000Z`."""
    moment = moment or utc_now()
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc_iso(text: str) -> datetime:
    """The inverse of `utc_iso` (also takes an explicit offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
