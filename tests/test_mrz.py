"""ICAO 9303 TD1 MRZ: the published specimen, the MRZ password worked examples, rules and round trips."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.formats.errors import FormatError
from neweid.formats.mrz import (
    TD1,
    MrzError,
    check_digit,
    format_mrz_date,
    format_name_field,
    mrz_key_seed,
    normalise_name,
    parse_td1,
)
from neweid.formats.sex import Sex

TODAY = date(2026, 6, 1)

# ICAO Doc 9303 Part 5 (8th ed.), the TD1 specimen.
SPECIMEN = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
SPECIMEN_TD1 = TD1(
    document_code="I<", issuing_state="UTO", document_number="D23145890", birth_date=date(1974, 8, 12),
    sex="F", expiry_date=date(2012, 4, 15), nationality="UTO", surname="ERIKSSON", given_names="ANNA MARIA",
)


def taiwan_card(**changes: object) -> TD1:
    fields: dict[str, object] = {
        "document_number": "NE1234567", "birth_date": date(1990, 1, 31), "sex": Sex.FEMALE,
        "expiry_date": date(2034, 5, 20), "surname": "Chen", "given_names": "Mei-Ling",
    }
    fields.update(changes)
    return TD1(**fields)  # type: ignore[arg-type]


# --- published vectors ---------------------------------------------------------------------------

def test_specimen_encodes_byte_exact() -> None:
    assert SPECIMEN_TD1.to_lines() == SPECIMEN
    assert SPECIMEN_TD1.to_text() == "\n".join(SPECIMEN)


def test_specimen_parses() -> None:
    assert parse_td1(SPECIMEN, today=TODAY) == SPECIMEN_TD1
    assert parse_td1("\n".join(SPECIMEN) + "\n", today=TODAY) == SPECIMEN_TD1
    assert parse_td1("  " + "\r\n  ".join(SPECIMEN), today=date(2010, 1, 1)) == SPECIMEN_TD1


@pytest.mark.parametrize(("field", "digit"), [
    ("D23145890", "7"), ("740812", "2"), ("120415", "9"),  # 9303-5 TD1 specimen
    ("L898902C<", "3"), ("690806", "1"), ("940623", "6"),  # 9303-4 TD3 specimen
    ("D231458907<<<<<<<<<<<<<<<74081221204159<<<<<<<<<<<", "6"),  # TD1 composite input
    ("<<<<<<", "0"), ("", "0"),
])
def test_check_digits(field: str, digit: str) -> None:
    assert check_digit(field) == digit


def test_bac_worked_example_key_seed() -> None:
    # ICAO 9303-11 Appendix D (BAC): MRZ information and K_seed = SHA-1(...)[0:16].
    seed = mrz_key_seed("L898902C", date(1969, 8, 6), date(1994, 6, 23))
    assert seed == "L898902C<369080619406236"
    k_seed = hashlib.sha1(seed.encode("ascii")).digest()[:16]
    assert k_seed.hex().upper() == "239AB9CB282DAF66231DC5A4DF6BFBAE"


def test_pace_worked_example_mrz_password() -> None:
    # ICAO 9303-11 Appendix G.1 (PACE ECDH GM): π = SHA-1(MRZ information), K_π = KDF_π(π).
    seed = mrz_key_seed("T22000129", date(1964, 8, 12), date(2010, 10, 31))
    assert seed == "T22000129364081251010318"
    pi = hashlib.sha1(seed.encode("ascii")).digest()
    assert pi.hex().upper() == "7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD"
    k_pi = hashlib.sha1(pi + b"\x00\x00\x00\x03").digest()[:16]
    assert k_pi.hex().upper() == "89DED1B26624EC1E634C1989302849DD"


# --- the Taiwan profile --------------------------------------------------------------------------

def test_taiwan_card_lines() -> None:
    card = taiwan_card()
    line1, line2, line3 = card.to_lines()
    assert line1 == "IDTWNNE1234567" + check_digit("NE1234567") + "<" * 15
    assert line2.startswith("900131" + check_digit("900131") + "F" + "340520" + check_digit("340520") + "TWN")
    assert line3 == "CHEN<<MEI<LING" + "<" * 16
    assert card.given_names == "MEI LING"
    assert card.mrz_key_seed() == mrz_key_seed("NE1234567", date(1990, 1, 31), date(2034, 5, 20))
    assert parse_td1(card.to_lines(), today=TODAY) == card


def test_no_expiry_for_65_plus() -> None:
    card = taiwan_card(birth_date=date(1950, 3, 1), expiry_date=None)
    line2 = card.to_lines()[1]
    assert line2[8:15] == "<<<<<<0"
    assert card.mrz_key_seed().endswith("<<<<<<0")
    assert format_mrz_date(None) == "<<<<<<"
    assert parse_td1(card.to_lines(), today=TODAY) == card
    lines = list(card.to_lines())
    lines[1] = lines[1][:14] + "<" + lines[1][15:]
    with pytest.raises(MrzError) as err:
        parse_td1(lines, today=TODAY)
    assert err.value.field == "date of expiry check digit"


def test_optional_data_and_male_sex() -> None:
    card = taiwan_card(sex="M", optional1="A123456789", optional2="X1")
    line1, line2, _ = card.to_lines()
    assert line1[15:30] == "A123456789<<<<<"
    assert line2[7] == "M" and line2[18:29] == "X1<<<<<<<<<"
    assert parse_td1(card.to_lines(), today=TODAY) == card


@pytest.mark.parametrize(("surname", "given", "line3"), [
    ("O'Brien", "Mary Ann", "OBRIEN<<MARY<ANN"),
    ("Ou-Yang", "Chih-Ming", "OU<YANG<<CHIH<MING"),
    ("Lin", "", "LIN"),
    ("  Wang ", " Hsiao  - Ming ", "WANG<<HSIAO<MING"),
    ("St. John", "J.", "ST<JOHN<<J"),
])
def test_name_punctuation(surname: str, given: str, line3: str) -> None:
    assert format_name_field(surname, given) == line3.ljust(30, "<")


@pytest.mark.parametrize(("surname", "given", "line3"), [
    ("SZCZEPANSKA", "ALEKSANDRA MARIA JOANNA", "SZCZEPANSKA<<ALEKSANDRA<MARIA<"[:29] + "<"),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ANNA", "ABCDEFGHIJKLMNOPQRSTUVWXYZ<<AN"),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", "ANNA", "ABCDEFGHIJKLMNOPQRSTUVWXYZA<<A"),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCD"),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZ<ABC", "ANNA", "ABCDEFGHIJKLMNOPQRSTUVWXYZ<<AN"),
    ("HSU", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "HSU<<ABCDEFGHIJKLMNOPQRSTUVWXY"),
])
def test_name_truncation(surname: str, given: str, line3: str) -> None:
    field = format_name_field(surname, given.replace("<", " "))
    assert field == line3.ljust(30, "<")
    assert len(field) == 30


@pytest.mark.parametrize("name", ["Müller", "陳美玲", "Chen2", "Chen_Mei", "Chen/Mei"])
def test_names_needing_transliteration_are_rejected(name: str) -> None:
    with pytest.raises(MrzError, match="transliterate") as err:
        normalise_name(name)
    assert err.value.field == "name"


def test_century_pivot() -> None:
    card = taiwan_card(birth_date=date(2025, 12, 31), expiry_date=date(2030, 12, 31))
    assert parse_td1(card.to_lines(), today=TODAY).birth_date == date(2025, 12, 31)
    older = taiwan_card(birth_date=date(1926, 6, 2), expiry_date=date(1980, 1, 1))
    parsed = parse_td1(older.to_lines(), today=TODAY)
    assert parsed.birth_date == date(1926, 6, 2)  # 260602 is after today in 2026, so 1926
    assert parsed.expiry_date == date(1980, 1, 1)  # expired cards stay in the past window
    future = taiwan_card(expiry_date=date(2075, 12, 31))
    assert parse_td1(future.to_lines(), today=TODAY).expiry_date == date(2075, 12, 31)
    leap = taiwan_card(birth_date=date(2000, 2, 29))
    assert parse_td1(leap.to_lines(), today=TODAY).birth_date == date(2000, 2, 29)


# --- rejections ----------------------------------------------------------------------------------

def _corrupt(line: int, position: int, char: str) -> list[str]:
    lines = list(SPECIMEN)
    lines[line] = lines[line][:position] + char + lines[line][position + 1:]
    return lines


@pytest.mark.parametrize(("line", "position", "char", "field"), [
    (0, 14, "8", "document number check digit"),
    (0, 7, "4", "document number check digit"),
    (1, 6, "3", "date of birth check digit"),
    (1, 1, "5", "date of birth check digit"),
    (1, 14, "0", "date of expiry check digit"),
    (1, 29, "7", "composite check digit"),
    (0, 20, "X", "composite check digit"),
    (1, 20, "Y", "composite check digit"),
])
def test_each_check_digit_is_verified(line: int, position: int, char: str, field: str) -> None:
    with pytest.raises(MrzError) as err:
        parse_td1(_corrupt(line, position, char), today=TODAY)
    assert err.value.field == field
    assert field.removesuffix(" check digit") in str(err.value)


@pytest.mark.parametrize(("lines", "field"), [
    (_corrupt(0, 0, "P"), "document code"),
    (_corrupt(1, 7, "X"), "sex"),
    (_corrupt(0, 2, "<"), "issuing state"),
    (_corrupt(1, 15, "1"), "nationality"),
    (_corrupt(2, 0, "<"), "name"),
    (_corrupt(2, 25, "7"), "name"),
    (_corrupt(0, 3, "u"), "line 1"),
    ([SPECIMEN[0], SPECIMEN[1] + "<", SPECIMEN[2]], "line 2"),
])
def test_malformed_fields_are_named(lines: list[str], field: str) -> None:
    with pytest.raises(MrzError) as err:
        parse_td1(lines, today=TODAY)
    assert err.value.field == field


def test_dates_must_exist() -> None:
    card = taiwan_card()
    lines = list(card.to_lines())
    for start, field in ((0, "date of birth"), (8, "date of expiry")):
        bad = lines[1][:start] + "991332" + lines[1][start + 6:]
        bad = bad[:start + 6] + check_digit("991332") + bad[start + 7:]
        fixed = [lines[0], bad[:29] + check_digit(lines[0][5:30] + bad[0:7] + bad[8:15] + bad[18:29]),
                 lines[2]]
        with pytest.raises(MrzError) as err:
            parse_td1(fixed, today=TODAY)
        assert err.value.field == field


def test_wrong_shapes() -> None:
    with pytest.raises(MrzError, match="3 lines, not 2"):
        parse_td1(SPECIMEN[:2], today=TODAY)
    with pytest.raises(MrzError, match="3 lines"):
        parse_td1("", today=TODAY)
    with pytest.raises(MrzError):
        parse_td1(42, today=TODAY)  # type: ignore[arg-type]
    with pytest.raises(MrzError, match="today"):
        parse_td1(SPECIMEN, today="2026-01-01")  # type: ignore[arg-type]
    with pytest.raises(MrzError, match="not allowed"):
        check_digit("abc")
    assert issubclass(MrzError, FormatError)


@pytest.mark.parametrize(("changes", "field"), [
    ({"document_number": "NE12345678"}, "document number"),
    ({"document_number": ""}, "document number"),
    ({"document_number": "NE-123456"}, "document number"),
    ({"optional1": "X" * 16}, "optional data 1"),
    ({"optional2": "X" * 12}, "optional data 2"),
    ({"sex": "X"}, "sex"),
    ({"document_code": "P<"}, "document code"),
    ({"issuing_state": "TWNX"}, "issuing state"),
    ({"nationality": "T1"}, "nationality"),
    ({"surname": ""}, "surname"),
    ({"surname": "陳"}, "name"),
    ({"birth_date": "1990-01-31"}, "date of birth"),
    ({"expiry_date": "2034-05-20"}, "date of expiry"),
])
def test_td1_rejects_unrepresentable_fields(changes: dict[str, object], field: str) -> None:
    with pytest.raises(MrzError) as err:
        taiwan_card(**changes)
    assert err.value.field == field


# --- properties ----------------------------------------------------------------------------------

WORD = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
FIELD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@st.composite
def td1s(draw: st.DrawFn) -> TD1:
    surname = " ".join(draw(st.lists(WORD, min_size=1, max_size=2)))
    given = draw(st.lists(WORD, max_size=3).filter(
        lambda ws: len(surname) + 2 + len(" ".join(ws)) <= 30 if ws else len(surname) <= 30))
    return TD1(
        document_code=draw(st.sampled_from(["ID", "I<"])),
        issuing_state=draw(st.sampled_from(["TWN", "UTO", "D"])),
        document_number=draw(st.text(alphabet=FIELD_CHARS, min_size=1, max_size=9)),
        optional1=draw(st.text(alphabet=FIELD_CHARS, max_size=15)),
        birth_date=draw(st.dates(min_value=date(1927, 1, 1), max_value=TODAY)),
        sex=draw(st.sampled_from(["M", "F", "<"])),
        expiry_date=draw(st.none() | st.dates(min_value=date(1976, 1, 1), max_value=date(2075, 12, 31))),
        nationality=draw(st.sampled_from(["TWN", "UTO", "D"])),
        optional2=draw(st.text(alphabet=FIELD_CHARS, max_size=11)),
        surname=surname,
        given_names=" ".join(given),
    )


@given(td1s())
def test_td1_round_trip(card: TD1) -> None:
    lines = card.to_lines()
    assert all(len(line) == 30 for line in lines)
    assert parse_td1(lines, today=TODAY) == card
    assert parse_td1(card.to_text(), today=TODAY).to_lines() == lines
    seed = card.mrz_key_seed()
    assert seed == lines[0][5:15] + lines[1][0:7] + lines[1][8:15]


@given(td1s(), st.integers(0, 2), st.integers(0, 29), st.sampled_from(FIELD_CHARS + "<"))
def test_any_single_change_is_caught_or_changes_the_value(card: TD1, line: int, position: int,
                                                          char: str) -> None:
    lines = list(card.to_lines())
    if lines[line][position] == char:
        return
    lines[line] = lines[line][:position] + char + lines[line][position + 1:]
    try:
        parsed = parse_td1(lines, today=TODAY)
    except MrzError:
        return
    assert parsed != card


@given(st.lists(st.text(max_size=32), max_size=4) | st.text(max_size=100))
def test_fuzz_only_mrz_error(data: list[str] | str) -> None:
    try:
        parsed = parse_td1(data, today=TODAY)
    except MrzError:
        return
    assert isinstance(parsed, TD1)


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<", max_size=40))
def test_check_digit_is_a_digit(s: str) -> None:
    digit = check_digit(s)
    assert len(digit) == 1 and digit.isdigit()
    assert check_digit(s + "<<<") == digit
