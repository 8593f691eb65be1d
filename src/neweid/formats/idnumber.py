"""Taiwan's national ID number (國民身分證統一編號), printed on the card and stored in public-zone DG2.

Ten characters: a letter for the place of first registration, a sex digit (``1`` male, ``2`` female), seven
digits and a check digit. The letter becomes a two-digit number (A=10 … with the historical irregular
ones I=34, O=35, W=32 …); the eleven digits, weighted 1 9 8 7 6 5 4 3 2 1 1, must add up to a multiple
of 10.

The numbers of the resident certificates issued to foreign residents since 2021 (新式統一證號) follow the
same scheme with sex digit ``8`` (male) or ``9`` (female); they are accepted only where the caller asks for
them (``allow_resident=True``). The older resident numbers with a second letter are not supported.

Error messages name the problem, never the number itself (it is personal data).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from neweid.formats.errors import FormatError
from neweid.formats.sex import Sex

#: Letter → code, as in /work/shared/data/tw_id_letters.csv (L, R, S, Y belong to abolished counties but
#: remain valid in numbers issued there).
LETTER_CODES: Mapping[str, int] = MappingProxyType({
    "A": 10, "B": 11, "C": 12, "D": 13, "E": 14, "F": 15, "G": 16, "H": 17, "I": 34, "J": 18,
    "K": 19, "L": 20, "M": 21, "N": 22, "O": 35, "P": 23, "Q": 24, "R": 25, "S": 26, "T": 27,
    "U": 28, "V": 29, "W": 32, "X": 30, "Y": 31, "Z": 33,
})

_WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
_DIGITS = frozenset("0123456789")
_CITIZEN_SEX_DIGITS: Mapping[str, Sex] = MappingProxyType({"1": Sex.MALE, "2": Sex.FEMALE})
_RESIDENT_SEX_DIGITS: Mapping[str, Sex] = MappingProxyType({"8": Sex.MALE, "9": Sex.FEMALE})
_SEX_DIGIT = {Sex.MALE: "1", Sex.FEMALE: "2"}


class IdNumberProblem(Enum):
    """Why a string is not a valid ID number."""

    FORMAT = "format"
    LETTER = "letter"
    SEX_DIGIT = "sex digit"
    CHECK_DIGIT = "check digit"


class InvalidIdNumber(FormatError):  # noqa: N818 - the name the rest of the project uses
    """Not a valid ID number; ``problem`` says which rule failed."""

    def __init__(self, problem: IdNumberProblem, detail: str) -> None:
        super().__init__(f"invalid ID number ({problem.value}): {detail}")
        self.problem = problem


def validate_id_number(s: str, *, allow_resident: bool = False) -> str:
    """The ID number in upper case (surrounding whitespace removed) if it is valid; otherwise raises
    :class:`InvalidIdNumber`."""
    if not isinstance(s, str):
        raise InvalidIdNumber(IdNumberProblem.FORMAT, f"expected a string, not {type(s).__name__}")
    number = s.strip().upper()
    if len(number) != 10:
        raise InvalidIdNumber(IdNumberProblem.FORMAT, f"{len(number)} characters instead of 10")
    if not set(number[1:]) <= _DIGITS:
        raise InvalidIdNumber(IdNumberProblem.FORMAT, "characters 2 to 10 must be the digits 0-9")
    if number[0] not in LETTER_CODES:
        raise InvalidIdNumber(IdNumberProblem.LETTER, "the first character must be a letter A-Z")
    _sex_for_digit(number[1], allow_resident=allow_resident)
    if _weighted_sum(number) % 10 != 0:
        raise InvalidIdNumber(IdNumberProblem.CHECK_DIGIT, "the check digit does not match")
    return number


def is_valid_id_number(s: str, *, allow_resident: bool = False) -> bool:
    """Whether ``s`` is a valid ID number (see :func:`validate_id_number`)."""
    try:
        validate_id_number(s, allow_resident=allow_resident)
    except InvalidIdNumber:
        return False
    return True


def check_digit(first9: str) -> int:
    """The check digit that completes ``first9`` (the letter and the first eight digits)."""
    if not isinstance(first9, str) or len(first9) != 9 or not set(first9[1:]) <= _DIGITS:
        raise InvalidIdNumber(IdNumberProblem.FORMAT, "expected a letter followed by 8 digits")
    head = first9.upper()
    if head[0] not in LETTER_CODES:
        raise InvalidIdNumber(IdNumberProblem.LETTER, "the first character must be a letter A-Z")
    return (10 - _weighted_sum(head + "0") % 10) % 10


def sex_of(id_number: str) -> Sex:
    """The sex encoded in a valid ID number (citizen or resident)."""
    number = validate_id_number(id_number, allow_resident=True)
    return _sex_for_digit(number[1], allow_resident=True)


def generate_id_number(rng: random.Random, letter: str | None = None, sex: Sex | None = None) -> str:
    """A random valid citizen ID number, for synthetic data and tests."""
    if letter is None:
        letter = rng.choice(sorted(LETTER_CODES))
    elif not isinstance(letter, str) or letter.upper() not in LETTER_CODES:
        raise InvalidIdNumber(IdNumberProblem.LETTER, "the letter must be one of A-Z")
    if sex is None:
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
    elif sex not in _SEX_DIGIT:
        raise InvalidIdNumber(IdNumberProblem.SEX_DIGIT, "sex must be Sex.MALE or Sex.FEMALE")
    first9 = letter.upper() + _SEX_DIGIT[sex] + "".join(str(rng.randrange(10)) for _ in range(7))
    return first9 + str(check_digit(first9))


def _sex_for_digit(digit: str, *, allow_resident: bool) -> Sex:
    if digit in _CITIZEN_SEX_DIGITS:
        return _CITIZEN_SEX_DIGITS[digit]
    if digit in _RESIDENT_SEX_DIGITS:
        if allow_resident:
            return _RESIDENT_SEX_DIGITS[digit]
        raise InvalidIdNumber(IdNumberProblem.SEX_DIGIT,
                              "sex digit 8 or 9 marks a resident certificate number, not allowed here")
    raise InvalidIdNumber(IdNumberProblem.SEX_DIGIT, "the second character must be 1 or 2")


def _weighted_sum(number: str) -> int:
    code = LETTER_CODES[number[0]]
    digits = (code // 10, code % 10, *(int(c) for c in number[1:]))
    return sum(w * d for w, d in zip(_WEIGHTS, digits, strict=True))
