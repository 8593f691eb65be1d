"""Verification serials of documents (temporary certificates, chip data lists): random and unguessable.

A serial is 20 characters of Crockford's base32 (100 random bits) shown in groups of four, e.g.
``7K2M-9QXR-...``. Reading one back is forgiving: case, spaces, dashes and the look-alikes O/I/L do not
matter.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20
_BITS = LENGTH * 5
_CANONICAL = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})

Rng = Callable[[int], bytes]


def new_serial(rng: Rng = os.urandom) -> str:
    """A fresh serial (canonical form: 20 characters, no dashes)."""
    number = int.from_bytes(rng((_BITS + 7) // 8), "big") >> (8 * ((_BITS + 7) // 8) - _BITS)
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def display(serial: str) -> str:
    """Groups of four separated by dashes."""
    return "-".join(serial[i:i + 4] for i in range(0, len(serial), 4))


def normalise(text: str) -> str | None:
    """The canonical serial written in ``text``, or None if it cannot be one."""
    cleaned = re.sub(r"[\s-]", "", text.upper()).translate(_LOOK_ALIKES)
    return cleaned if _CANONICAL.match(cleaned) else None
