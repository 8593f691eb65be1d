"""Card serials (^[A-Z]{2}[0-9]{7}$, the MRZ document number; its last 6 digits are the CAN), drawn at
random in bulk: a few queries for any number of cards."""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable

from neweid.server.cards.errors import SerialsExhaustedError
from neweid.server.cards.models import Card
from neweid.server.cards.transitions import chunks

SERIAL_PATTERN = re.compile(r"^[A-Z]{2}[0-9]{7}$")
_SPACE = 26 * 26 * 10**7
MAX_ROUNDS = 8

Rng = Callable[[int], bytes]


def random_serial(rng: Rng = os.urandom) -> str:
    number = int.from_bytes(rng(8), "big") % _SPACE
    letters, digits = divmod(number, 10**7)
    first, second = divmod(letters, 26)
    return f"{string.ascii_uppercase[first]}{string.ascii_uppercase[second]}{digits:07d}"


def is_serial(text: str) -> bool:
    return bool(SERIAL_PATTERN.match(text))


def draw_serials(count: int, rng: Rng = os.urandom) -> list[str]:
    """``count`` distinct serials no card has yet (checked against the table in chunks)."""
    chosen: set[str] = set()
    for _ in range(MAX_ROUNDS):
        missing = count - len(chosen)
        if missing <= 0:
            break
        candidates = list({random_serial(rng) for _ in range(missing)} - chosen)
        taken: set[str] = set()
        for chunk in chunks(candidates):
            taken.update(Card.objects.filter(serial__in=chunk).values_list("serial", flat=True))
        chosen.update(c for c in candidates if c not in taken)
    if len(chosen) < count:
        raise SerialsExhaustedError()
    return sorted(chosen)[:count]
