"""PIN1, PIN2 and the user code (CARD-5): formats, retry counters, blocked / not-set / default states.

Values are never stored in clear: a record keeps a random salt and PBKDF2-HMAC-SHA256 of the value, and
verification compares digests in constant time. Records are immutable; every change returns a new record
that the card state stores (and the dispatcher persists before answering).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from neweid.formats.iso7816 import PinRef

PIN_KDF_ITERATIONS = 50_000
SALT_BYTES = 16

_FORMATS: dict[PinRef, re.Pattern[bytes]] = {
    PinRef.PIN1: re.compile(rb"[0-9]{6}"),
    PinRef.PIN2: re.compile(rb"[0-9]{8,12}"),
    PinRef.USER_CODE: re.compile(rb"[0-9A-Za-z]{6,10}"),
}
MAX_TRIES: dict[PinRef, int] = {PinRef.PIN1: 3, PinRef.PIN2: 3, PinRef.USER_CODE: 10}


class PinCheck(Enum):
    """The outcome of :meth:`PinRecord.check`."""

    OK = "ok"
    WRONG = "wrong"
    BLOCKED = "blocked"


def is_well_formed(ref: PinRef, value: bytes) -> bool:
    """Whether ``value`` has the format of ``ref`` (PIN1 6 digits, PIN2 8–12, user code 6–10 alnum)."""
    return _FORMATS[ref].fullmatch(value) is not None


def _digest(value: bytes, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=iterations).derive(value)


@dataclass(frozen=True)
class PinRecord:
    """One reference datum: salted hash, tries left, and whether it is still the default value."""

    ref: PinRef
    salt: bytes
    digest: bytes
    iterations: int
    tries_left: int
    max_tries: int
    default: bool = False

    @classmethod
    def create(cls, ref: PinRef, value: bytes, rng: Callable[[int], bytes], *, default: bool = False,
               iterations: int = PIN_KDF_ITERATIONS) -> PinRecord:
        """A fresh record for ``value`` (the caller checks the format first)."""
        salt = rng(SALT_BYTES)
        return cls(ref, salt, _digest(value, salt, iterations), iterations, MAX_TRIES[ref], MAX_TRIES[ref],
                   default)

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0

    def check(self, value: bytes) -> tuple[PinCheck, PinRecord]:
        """Compare ``value`` in constant time; return the outcome and the updated record."""
        if self.blocked:
            return PinCheck.BLOCKED, self
        if hmac.compare_digest(_digest(value, self.salt, self.iterations), self.digest):
            return PinCheck.OK, replace(self, tries_left=self.max_tries)
        return PinCheck.WRONG, replace(self, tries_left=self.tries_left - 1)

    def changed(self, value: bytes, rng: Callable[[int], bytes]) -> PinRecord:
        """A record for a new value: counter reset, no longer default."""
        return PinRecord.create(self.ref, value, rng, iterations=self.iterations)

    def unblocked(self) -> PinRecord:
        return replace(self, tries_left=self.max_tries)

    def to_json(self) -> dict[str, object]:
        return {"salt": self.salt.hex(), "digest": self.digest.hex(), "iterations": self.iterations,
                "tries_left": self.tries_left, "max_tries": self.max_tries, "default": self.default}

    @classmethod
    def from_json(cls, ref: PinRef, obj: dict[str, object]) -> PinRecord:
        """Raises ValueError/TypeError/KeyError on a bad record (the image loader wraps them)."""
        salt = bytes.fromhex(_str(obj["salt"]))
        digest = bytes.fromhex(_str(obj["digest"]))
        iterations, tries, max_tries = (_int(obj[k]) for k in ("iterations", "tries_left", "max_tries"))
        default = obj["default"]
        if not isinstance(default, bool) or len(digest) != 32 or iterations < 1:
            raise ValueError(f"bad {ref.name} record")
        if max_tries != MAX_TRIES[ref] or not 0 <= tries <= max_tries:
            raise ValueError(f"bad {ref.name} retry counter")
        return cls(ref, salt, digest, iterations, tries, max_tries, default)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value
