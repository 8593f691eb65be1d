"""Dates as the card shows and stores them (CARD-1).

- Minguo (民國) calendar for the Chinese text: ``民國95年8月5日`` (Minguo year = Western year - 1911,
  year 1 is 1912; no zero padding). Dates before 1912 have no Minguo year here (民國前 is not used on
  the card).
- Western for the English text: ``2006/8/5`` (no zero padding).
- Compact ``YYYYMMDD`` for the chip's data groups and PUT DATA.

Parsers accept exactly what the formatters write (ASCII digits, no padding, no surrounding space), so a
parsed string always formats back to itself.
"""

from __future__ import annotations

import re
from datetime import date

from neweid.formats.errors import FormatError

MINGUO_EPOCH_OFFSET = 1911  # Western year = Minguo year + 1911
FIRST_MINGUO_YEAR = MINGUO_EPOCH_OFFSET + 1

_YEAR = "([1-9][0-9]{0,3})"
_MONTH_DAY = "([1-9][0-9]?)"
_MINGUO_RE = re.compile(f"民國{_YEAR}年{_MONTH_DAY}月{_MONTH_DAY}日")
_WESTERN_RE = re.compile(f"{_YEAR}/{_MONTH_DAY}/{_MONTH_DAY}")
_COMPACT_RE = re.compile("([0-9]{4})([0-9]{2})([0-9]{2})")


class DateFormatError(FormatError):
    """A date string in the wrong format, a date that does not exist, or a date outside the range of a
    calendar or format."""


def minguo_year(d: date) -> int:
    """The Minguo year of ``d`` (1 for 1912)."""
    year = _as_date(d).year
    if year < FIRST_MINGUO_YEAR:
        raise DateFormatError(f"{d.isoformat()} is before the Minguo era (1912)")
    return year - MINGUO_EPOCH_OFFSET


def format_minguo(d: date) -> str:
    """``民國95年8月5日`` for 2006-08-05."""
    return f"民國{minguo_year(d)}年{d.month}月{d.day}日"


def parse_minguo(s: str) -> date:
    """The date written as by :func:`format_minguo`."""
    year, month, day = _match(_MINGUO_RE, s, "民國Y年M月D日")
    return _make_date(year + MINGUO_EPOCH_OFFSET, month, day, s)


def format_western(d: date) -> str:
    """``2006/8/5`` for 2006-08-05."""
    d = _as_date(d)
    return f"{d.year}/{d.month}/{d.day}"


def parse_western(s: str) -> date:
    """The date written as by :func:`format_western`."""
    year, month, day = _match(_WESTERN_RE, s, "Y/M/D")
    return _make_date(year, month, day, s)


def to_compact(d: date) -> str:
    """``YYYYMMDD``, the chip encoding."""
    d = _as_date(d)
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def from_compact(s: str) -> date:
    """The date of a ``YYYYMMDD`` string."""
    year, month, day = _match(_COMPACT_RE, s, "YYYYMMDD")
    return _make_date(year, month, day, s)


def add_years(d: date, n: int) -> date:
    """``d`` moved by ``n`` calendar years; 29 February becomes 28 February in a common year (so a
    validity period never ends after the anniversary)."""
    d = _as_date(d)
    year = d.year + n
    if not 1 <= year <= 9999:
        raise DateFormatError(f"{d.isoformat()} plus {n} years is outside years 1-9999")
    if d.month == 2 and d.day == 29 and not _is_leap(year):
        return date(year, 2, 28)
    return d.replace(year=year)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _as_date(d: object) -> date:
    if not isinstance(d, date):
        raise DateFormatError(f"expected a date, not {type(d).__name__}")
    return d


def _match(pattern: re.Pattern[str], s: object, shape: str) -> tuple[int, int, int]:
    if not isinstance(s, str):
        raise DateFormatError(f"expected a string, not {type(s).__name__}")
    m = pattern.fullmatch(s)
    if m is None:
        raise DateFormatError(f"{s!r} is not a date of the form {shape}")
    year, month, day = (int(g) for g in m.groups())
    return year, month, day


def _make_date(year: int, month: int, day: int, s: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # day out of range for the month, month 13, year 10000 …
        raise DateFormatError(f"{s!r} is not an existing date") from None
