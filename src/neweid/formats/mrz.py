"""The machine readable zone on the back of the card: ICAO Doc 9303 Part 5 TD1 (3 lines of 30 characters).

Layout (positions 1-based)::

    line 1   1-2 document code ("ID"; "I<" accepted)   3-5 issuing state   6-14 document number
             15 check digit   16-30 optional data 1
    line 2   1-6 date of birth YYMMDD   7 check digit   8 sex (M, F, <)   9-14 date of expiry YYMMDD
             15 check digit   16-18 nationality   19-29 optional data 2   30 composite check digit
    line 3   1-30 name: PRIMARY<<SECONDARY<NAMES

Choices of this profile:

- The document number is the card serial (2 letters and 7 digits, e.g. ``NE1234567``); document numbers
  longer than 9 characters (the 9303 overflow into optional data 1) are not supported.
- Cards issued at 65 or older have no renewal date (CARD-10): the date of expiry is then all fillers
  ``<<<<<<``, and its check digit is computed by the ordinary 7-3-1 rule (fillers count 0), which gives
  ``0``. Every standard reader can thus verify it, and the composite check digit and the PACE MRZ
  password keep their usual definition. A ``<`` in that check-digit position is rejected.
- Names are taken as romanised (nothing is transliterated): upper-cased, apostrophes, full stops and
  commas dropped, spaces and hyphens turned into one filler (9303-3 §4.6). A name that does not fit keeps
  at most 27 characters of the primary identifier (so that ``<<`` and at least one letter of the
  secondary identifier remain), then the whole is cut at 30 characters; fillers left at the cut are
  dropped.
- Two-digit years are resolved against a ``today`` the caller passes: a date of birth is the latest date
  not after ``today``; a date of expiry lies in the 100-year window from ``today.year - 50``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

from neweid.formats.errors import FormatError

LINE_LENGTH = 30
FILLER = "<"
DOCUMENT_CODES = frozenset({"ID", "I<"})
SEXES = frozenset({"M", "F", FILLER})
NAME_FIELD_LENGTH = LINE_LENGTH
MAX_PRIMARY_WHEN_TRUNCATED = NAME_FIELD_LENGTH - 3

_DOCUMENT_NUMBER_LENGTH = 9
_OPTIONAL1_LENGTH = 15
_OPTIONAL2_LENGTH = 11
_WEIGHTS = (7, 3, 1)
_LINE_RE = re.compile("[0-9A-Z<]{30}")
_FIELD_RE = re.compile("[0-9A-Z<]*")
_STATE_RE = re.compile("[A-Z]{1,3}")
_NAME_DROPPED = str.maketrans("", "", "'\u2019\u2018\u02bc.,")
_NAME_SEPARATORS = re.compile(r"[\s\-]+")
_NAME_RE = re.compile("[A-Z]+(<[A-Z]+)*")
_UNKNOWN_DATE = FILLER * 6


class MrzError(FormatError):
    """A malformed MRZ or a field that cannot be written into one; ``field`` names the culprit."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _char_value(c: str) -> int:
    if "0" <= c <= "9":
        return ord(c) - ord("0")
    if "A" <= c <= "Z":
        return ord(c) - ord("A") + 10
    if c == FILLER:
        return 0
    raise MrzError(f"character {c!r} is not allowed in an MRZ")


def check_digit(s: str) -> str:
    """The ICAO 9303-3 §4.9 check digit of ``s``: weights 7, 3, 1 repeated; 0-9 as such, A-Z as 10-35,
    ``<`` as 0; the sum modulo 10."""
    if not isinstance(s, str):
        raise MrzError(f"expected a string, not {type(s).__name__}")
    total = sum(_char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(s))
    return str(total % 10)


def format_mrz_date(d: date | None) -> str:
    """``YYMMDD``, or ``<<<<<<`` for an unknown date (no date of expiry)."""
    if d is None:
        return _UNKNOWN_DATE
    if not isinstance(d, date):
        raise MrzError(f"expected a date, not {type(d).__name__}")
    return f"{d.year % 100:02d}{d.month:02d}{d.day:02d}"


def mrz_key_seed(document_number: str, birth_date: date, expiry_date: date | None) -> str:
    """The PACE/BAC MRZ password input (ICAO 9303-11 §4.4.4.1, §9.7.2): document number, date of birth
    and date of expiry, each followed by its check digit. K = SHA-1 of this string."""
    number = _field(document_number, _DOCUMENT_NUMBER_LENGTH, "document number", required=True)
    birth = format_mrz_date(birth_date)
    expiry = format_mrz_date(expiry_date)
    padded = number.ljust(_DOCUMENT_NUMBER_LENGTH, FILLER)
    return padded + check_digit(padded) + birth + check_digit(birth) + expiry + check_digit(expiry)


def normalise_name(name: str) -> str:
    """A romanised name in MRZ form: upper case, words joined by single fillers (may be empty)."""
    if not isinstance(name, str):
        raise MrzError(f"expected a string, not {type(name).__name__}", field="name")
    words = _NAME_SEPARATORS.split(name.translate(_NAME_DROPPED).upper().strip())
    joined = FILLER.join(w for w in words if w)
    if joined and _NAME_RE.fullmatch(joined) is None:
        raise MrzError("a name may hold only the letters A-Z, spaces, hyphens and apostrophes "
                       "(transliterate it first)", field="name")
    return joined


def format_name_field(surname: str, given_names: str) -> str:
    """Line 3 of the TD1: ``PRIMARY<<SECONDARY``, truncated as the module explains, padded to 30."""
    primary, secondary = normalise_name(surname), normalise_name(given_names)
    if not primary:
        raise MrzError("the primary identifier (surname) is empty", field="surname")
    if not secondary:
        return primary[:NAME_FIELD_LENGTH].rstrip(FILLER).ljust(NAME_FIELD_LENGTH, FILLER)
    if len(primary) + 2 + len(secondary) > NAME_FIELD_LENGTH:
        primary = primary[:MAX_PRIMARY_WHEN_TRUNCATED].rstrip(FILLER)
    name = (primary + FILLER * 2 + secondary)[:NAME_FIELD_LENGTH].rstrip(FILLER)
    return name.ljust(NAME_FIELD_LENGTH, FILLER)


@dataclass(frozen=True, kw_only=True)
class TD1:
    """The content of a TD1 MRZ. Text fields are kept without trailing fillers; names in MRZ form with
    spaces between their words (``"ANNA MARIA"``)."""

    document_code: str = "ID"
    issuing_state: str = "TWN"
    document_number: str
    optional1: str = ""
    birth_date: date
    sex: str
    expiry_date: date | None
    nationality: str = "TWN"
    optional2: str = ""
    surname: str
    given_names: str

    def __post_init__(self) -> None:
        if not isinstance(self.document_code, str) or self.document_code not in DOCUMENT_CODES:
            raise MrzError(f"document code {self.document_code!r} is not one of "
                           f"{sorted(DOCUMENT_CODES)}", field="document code")
        for name in ("issuing_state", "nationality"):
            value = getattr(self, name)
            label = name.replace("_", " ")
            if not isinstance(value, str) or not _STATE_RE.fullmatch(value.upper().rstrip(FILLER)):
                raise MrzError(f"{label} must be a 1-3 letter ICAO code", field=label)
            object.__setattr__(self, name, value.upper().rstrip(FILLER))
        object.__setattr__(self, "document_number", _field(
            self.document_number, _DOCUMENT_NUMBER_LENGTH, "document number", required=True))
        object.__setattr__(self, "optional1", _field(self.optional1, _OPTIONAL1_LENGTH, "optional data 1"))
        object.__setattr__(self, "optional2", _field(self.optional2, _OPTIONAL2_LENGTH, "optional data 2"))
        sex = self.sex.value if isinstance(self.sex, Enum) else self.sex
        if not isinstance(sex, str) or sex not in SEXES:
            raise MrzError(f"sex must be M, F or <, not {sex!r}", field="sex")
        object.__setattr__(self, "sex", str(sex))
        if not isinstance(self.birth_date, date):
            raise MrzError("the date of birth must be a date", field="date of birth")
        if self.expiry_date is not None and not isinstance(self.expiry_date, date):
            raise MrzError("the date of expiry must be a date or None", field="date of expiry")
        object.__setattr__(self, "surname", normalise_name(self.surname).replace(FILLER, " "))
        object.__setattr__(self, "given_names", normalise_name(self.given_names).replace(FILLER, " "))
        if not self.surname:
            raise MrzError("the primary identifier (surname) is empty", field="surname")

    def to_lines(self) -> tuple[str, str, str]:
        """The three 30-character lines, check digits included."""
        number = self.document_number.ljust(_DOCUMENT_NUMBER_LENGTH, FILLER)
        line1 = (self.document_code + self.issuing_state.ljust(3, FILLER) + number + check_digit(number)
                 + self.optional1.ljust(_OPTIONAL1_LENGTH, FILLER))
        birth = format_mrz_date(self.birth_date)
        expiry = format_mrz_date(self.expiry_date)
        head = (birth + check_digit(birth) + self.sex + expiry + check_digit(expiry)
                + self.nationality.ljust(3, FILLER) + self.optional2.ljust(_OPTIONAL2_LENGTH, FILLER))
        line2 = head + _composite_check_digit(line1, head)
        return line1, line2, format_name_field(self.surname, self.given_names)

    def to_text(self) -> str:
        """The three lines joined by newlines."""
        return "\n".join(self.to_lines())

    def mrz_key_seed(self) -> str:
        """The PACE MRZ password input of this document (see :func:`mrz_key_seed`)."""
        return mrz_key_seed(self.document_number, self.birth_date, self.expiry_date)


def parse_td1(lines: str | Sequence[str], *, today: date) -> TD1:
    """Parse and verify a TD1 MRZ given as three lines or as text with one line per row (blank rows and
    surrounding whitespace ignored). Every check digit is verified; :class:`MrzError` names the first
    that fails."""
    if not isinstance(today, date):
        raise MrzError("today must be a date")
    rows = _split_lines(lines)
    line1, line2, line3 = rows
    for i, row in enumerate(rows, start=1):
        if _LINE_RE.fullmatch(row) is None:
            raise MrzError(f"line {i} must be 30 characters of 0-9, A-Z and <", field=f"line {i}")
    _verify(line1[5:14], line1[14], "document number")
    _verify(line2[0:6], line2[6], "date of birth")
    _verify(line2[8:14], line2[14], "date of expiry")
    _verify_composite(line1, line2)
    surname, given_names = _parse_name(line3)
    return TD1(
        document_code=line1[0:2],
        issuing_state=_state(line1[2:5], "issuing state"),
        document_number=line1[5:14],
        optional1=line1[15:30],
        birth_date=_parse_birth_date(line2[0:6], today),
        sex=line2[7],
        expiry_date=_parse_expiry_date(line2[8:14], today),
        nationality=_state(line2[15:18], "nationality"),
        optional2=line2[18:29],
        surname=surname,
        given_names=given_names,
    )


def _composite_check_digit(line1: str, line2_head: str) -> str:
    return check_digit(line1[5:30] + line2_head[0:7] + line2_head[8:15] + line2_head[18:29])


def _verify(value: str, digit: str, what: str) -> None:
    if check_digit(value) != digit:
        raise MrzError(f"check digit of the {what} does not match", field=f"{what} check digit")


def _verify_composite(line1: str, line2: str) -> None:
    if _composite_check_digit(line1, line2[:29]) != line2[29]:
        raise MrzError("composite check digit does not match", field="composite check digit")


def _split_lines(lines: str | Sequence[str]) -> tuple[str, str, str]:
    if isinstance(lines, str):
        rows = [row.strip() for row in lines.splitlines()]
    elif isinstance(lines, Sequence) and all(isinstance(row, str) for row in lines):
        rows = [row.strip() for row in lines]
    else:
        raise MrzError("expected three lines of text")
    rows = [row for row in rows if row]
    if len(rows) != 3:
        raise MrzError(f"a TD1 MRZ has 3 lines, not {len(rows)}")
    return rows[0], rows[1], rows[2]


def _field(value: object, width: int, what: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise MrzError(f"{what} must be a string", field=what)
    text = value.upper().rstrip(FILLER)
    if len(text) > width or _FIELD_RE.fullmatch(text) is None:
        raise MrzError(f"{what} must be at most {width} characters of 0-9, A-Z and <", field=what)
    if required and not text:
        raise MrzError(f"{what} is empty", field=what)
    return text


def _state(code: str, what: str) -> str:
    text = code.rstrip(FILLER)
    if _STATE_RE.fullmatch(text) is None:
        raise MrzError(f"{what} {code!r} is not an ICAO code", field=what)
    return text


def _parse_name(line3: str) -> tuple[str, str]:
    primary, _, secondary = line3.partition(FILLER * 2)
    surname = " ".join(w for w in primary.split(FILLER) if w)
    given_names = " ".join(w for w in secondary.split(FILLER) if w)
    if not surname or line3.startswith(FILLER):
        raise MrzError("the name has no primary identifier", field="name")
    if any(c.isdigit() for c in line3):
        raise MrzError("the name contains digits", field="name")
    return surname, given_names


def _yymmdd(field: str, what: str) -> tuple[int, int, int]:
    if not field.isdigit():
        raise MrzError(f"the {what} must be YYMMDD", field=what)
    return int(field[0:2]), int(field[2:4]), int(field[4:6])


def _parse_birth_date(field: str, today: date) -> date:
    yy, month, day = _yymmdd(field, "date of birth")
    century = today.year - today.year % 100
    for year in (century + yy, century - 100 + yy):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    raise MrzError(f"the date of birth {field} is not a date in the past", field="date of birth")


def _parse_expiry_date(field: str, today: date) -> date | None:
    if field == _UNKNOWN_DATE:
        return None
    yy, month, day = _yymmdd(field, "date of expiry")
    start = today.year - 50
    year = start + (yy - start) % 100
    try:
        return date(year, month, day)
    except ValueError:
        raise MrzError(f"the date of expiry {field} is not a date", field="date of expiry") from None
