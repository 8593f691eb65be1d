"""CARD-1 date formats: Minguo, Western, compact; validity arithmetic."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.formats.dates import (
    DateFormatError,
    add_years,
    format_minguo,
    format_western,
    from_compact,
    minguo_year,
    parse_minguo,
    parse_western,
    to_compact,
)
from neweid.formats.errors import FormatError

SPEC_DATE = date(2006, 8, 5)


def test_spec_examples() -> None:
    # SPEC CARD-1: "民國95年8月5日" and "2006/8/5".
    assert format_minguo(SPEC_DATE) == "民國95年8月5日"
    assert format_western(SPEC_DATE) == "2006/8/5"
    assert to_compact(SPEC_DATE) == "20060805"
    assert parse_minguo("民國95年8月5日") == SPEC_DATE
    assert parse_western("2006/8/5") == SPEC_DATE
    assert from_compact("20060805") == SPEC_DATE


def test_minguo_era_boundaries() -> None:
    assert minguo_year(date(1912, 1, 1)) == 1
    assert format_minguo(date(1912, 1, 1)) == "民國1年1月1日"
    assert minguo_year(date(2024, 12, 31)) == 113
    assert format_minguo(date(2011, 10, 10)) == "民國100年10月10日"
    assert parse_minguo("民國8088年12月31日") == date(9999, 12, 31)
    with pytest.raises(DateFormatError, match="before the Minguo era"):
        minguo_year(date(1911, 12, 31))
    with pytest.raises(DateFormatError, match="before the Minguo era"):
        format_minguo(date(1, 1, 1))


def test_compact_pads_small_years() -> None:
    assert to_compact(date(999, 1, 2)) == "09990102"
    assert from_compact("09990102") == date(999, 1, 2)


@pytest.mark.parametrize("text", [
    "民國095年8月5日", "民國95年08月5日", "民國95年8月05日", "民國0年1月1日", " 民國95年8月5日",
    "民國95年8月5日 ", "民國95年8月", "中華民國95年8月5日", "民國９５年8月5日", "民國95年2月30日",
    "民國95年13月1日", "民國8089年1月1日", "民國12345年1月1日", "",
])
def test_bad_minguo_strings(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_minguo(text)


@pytest.mark.parametrize("text", [
    "2006/08/05", "2006/8/05", "02006/8/5", "2006-8-5", "2006/8/5/", "2006/2/29", "0/1/1", "10000/1/1",
    "2006/0/5", "2006/8/0", "２００６/8/5", "",
])
def test_bad_western_strings(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_western(text)


@pytest.mark.parametrize("text", [
    "2006085", "200608050", "2006-08-05", "20061301", "20060230", "00000101", "2006080５", " 20060805",
])
def test_bad_compact_strings(text: str) -> None:
    with pytest.raises(DateFormatError):
        from_compact(text)


def test_parse_error_messages_are_specific() -> None:
    with pytest.raises(DateFormatError, match="not a date of the form Y/M/D"):
        parse_western("2006-8-5")
    with pytest.raises(DateFormatError, match="not an existing date"):
        parse_western("2006/2/29")


def test_wrong_types_raise_date_format_error() -> None:
    assert issubclass(DateFormatError, FormatError)
    with pytest.raises(DateFormatError):
        parse_minguo(20060805)  # type: ignore[arg-type]
    with pytest.raises(DateFormatError):
        to_compact("2006-08-05")  # type: ignore[arg-type]
    with pytest.raises(DateFormatError):
        minguo_year(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "years", "expected"), [
    (date(2024, 2, 29), 1, date(2025, 2, 28)),
    (date(2024, 2, 29), 4, date(2028, 2, 29)),
    (date(2000, 2, 29), 100, date(2100, 2, 28)),
    (date(2024, 2, 29), -1, date(2023, 2, 28)),
    (date(2006, 8, 5), 10, date(2016, 8, 5)),
    (date(2006, 8, 5), 0, date(2006, 8, 5)),
    (date(2006, 8, 5), -5, date(2001, 8, 5)),
])
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


def test_add_years_out_of_range() -> None:
    with pytest.raises(DateFormatError, match="outside years"):
        add_years(date(9995, 1, 1), 5)
    with pytest.raises(DateFormatError, match="outside years"):
        add_years(date(5, 1, 1), -5)


MINGUO_DATES = st.dates(min_value=date(1912, 1, 1))


@given(MINGUO_DATES)
def test_minguo_round_trip(d: date) -> None:
    text = format_minguo(d)
    assert parse_minguo(text) == d
    assert text.startswith(f"民國{d.year - 1911}年")


@given(st.dates())
def test_western_and_compact_round_trip(d: date) -> None:
    assert parse_western(format_western(d)) == d
    compact = to_compact(d)
    assert len(compact) == 8 and compact.isdigit()
    assert from_compact(compact) == d


@given(st.dates(), st.integers(-200, 200))
def test_add_years_properties(d: date, n: int) -> None:
    try:
        moved = add_years(d, n)
    except DateFormatError:
        assert not 1 <= d.year + n <= 9999
        return
    assert moved.year == d.year + n
    assert moved.month == d.month
    assert moved.day == d.day or (d.month, d.day, moved.day) == (2, 29, 28)


FORMATS = [(parse_minguo, format_minguo), (parse_western, format_western), (from_compact, to_compact)]


@given(st.one_of(st.text(max_size=20), st.from_regex(r"\A民國[0-9]{1,4}年[0-9]{1,2}月[0-9]{1,2}日\Z"),
                 st.from_regex(r"\A[0-9]{1,5}/[0-9]{1,3}/[0-9]{1,3}\Z"), st.from_regex(r"\A[0-9]{8}\Z")))
def test_fuzz_parsers_accept_only_canonical_text(text: str) -> None:
    for parse, fmt in FORMATS:
        try:
            d = parse(text)
        except DateFormatError:
            continue
        assert fmt(d) == text
