"""The 37 classes, defined once.

A class is a whole number 0..36 (never digit by digit: "3" beside "0" is 30).
Generator, training, inference and the labelling tool all import this module,
and the list is saved next to every model so loading can check it.
"""
from __future__ import annotations

import re

MIN_VALUE = 0
MAX_VALUE = 36
CLASSES: tuple[int, ...] = tuple(range(MIN_VALUE, MAX_VALUE + 1))
NUM_CLASSES = len(CLASSES)
# ASCII digits only, no leading zero: str.isdigit() also takes "٣" and "³", and int() reads the first as 3.
_WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]*")

# The European wheel's red pockets (0 is green, the rest black): how roulette boards colour their numbers.
RED_NUMBERS = frozenset({1, 3, 5, 7, 9, 12, 14, 16, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36})


def is_valid_value(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and MIN_VALUE <= value <= MAX_VALUE


def index_to_value(index: int) -> int:
    return CLASSES[index]


def parse_label(text: str) -> int:
    """Parse a user-typed label: a plain whole number 0..36 in ASCII digits, no leading zeros ("05" is refused)."""
    s = text.strip()
    if not _WHOLE_NUMBER.fullmatch(s):
        raise ValueError(f"{text!r} is not a number from {MIN_VALUE} to {MAX_VALUE}")
    value = int(s)
    if not is_valid_value(value):
        raise ValueError(f"{text!r} is not a number from {MIN_VALUE} to {MAX_VALUE}")
    return value
