"""Taiwan national ID numbers: the letter table, the check digit, every rejection, and properties."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.formats.errors import FormatError
from neweid.formats.idnumber import (
    LETTER_CODES,
    IdNumberProblem,
    InvalidIdNumber,
    check_digit,
    generate_id_number,
    is_valid_id_number,
    sex_of,
    validate_id_number,
)
from neweid.formats.sex import Sex

REFERENCE_LETTERS = Path(__file__).resolve().parents[1] / "src/neweid/data/tw_id_letters.csv"
WEIGHTS = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)


def test_letter_table_irregular_codes() -> None:
    # The historical irregular assignments: I, O, W, X, Y, Z are out of alphabetical order.
    assert {k: LETTER_CODES[k] for k in "IOWXYZ"} == {"I": 34, "O": 35, "W": 32, "X": 30, "Y": 31, "Z": 33}
    assert LETTER_CODES["A"] == 10 and LETTER_CODES["H"] == 17 and LETTER_CODES["J"] == 18
    assert LETTER_CODES["V"] == 29
    assert sorted(LETTER_CODES.values()) == list(range(10, 36))
    assert sorted(LETTER_CODES) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]


def test_letter_table_matches_reference_csv() -> None:
    with REFERENCE_LETTERS.open(encoding="utf-8") as f:
        reference = {row["letter"]: int(row["number"]) for row in csv.DictReader(f)}
    assert dict(LETTER_CODES) == reference


@pytest.mark.parametrize("number", [
    "A123456789",  # the classic textbook example
    "F131104093",  # 1 + 45 + 8 + 21 + 6 + 5 + 0 + 12 + 0 + 9 + 3 = 110
    "Z299999992",  # 3 + 27 + 16 + 9 × 28 + 2 = 300
    "I100000003",  # I = 34 (irregular): 3 + 36 + 8 + 3 = 50
    "O100000004",  # O = 35 (irregular): 3 + 45 + 8 + 4 = 60
])
def test_known_valid_numbers(number: str) -> None:
    assert validate_id_number(number) == number
    assert is_valid_id_number(number)


def test_worked_check_digit() -> None:
    # A → 10: 1×1 + 0×9 + 1×8 + 2×7 + 3×6 + 4×5 + 5×4 + 6×3 + 7×2 + 8×1 = 121 → check digit 9.
    assert check_digit("A12345678") == 9
    assert check_digit("a12345678") == 9


def test_normalisation_and_sex() -> None:
    assert validate_id_number("  a123456789\n") == "A123456789"
    assert sex_of("A123456789") is Sex.MALE
    assert sex_of("A223456781") is Sex.FEMALE
    assert Sex.MALE.label_zh == "男" and Sex.FEMALE.label_zh == "女"
    assert Sex.MALE.label_en == "Male" and Sex.FEMALE.label_en == "Female"
    assert str(Sex.FEMALE) == "F"


def test_resident_numbers_only_when_allowed() -> None:
    # New-style resident certificate number (sex digit 8 = male, 9 = female).
    assert check_digit("A80000001") == 4
    with pytest.raises(InvalidIdNumber) as err:
        validate_id_number("A800000014")
    assert err.value.problem is IdNumberProblem.SEX_DIGIT
    assert validate_id_number("A800000014", allow_resident=True) == "A800000014"
    assert is_valid_id_number("A800000014", allow_resident=True)
    assert not is_valid_id_number("A800000014")
    assert sex_of("A800000014") is Sex.MALE
    assert sex_of(f"A90000001{check_digit('A90000001')}") is Sex.FEMALE


@pytest.mark.parametrize(("number", "problem"), [
    ("A12345678", IdNumberProblem.FORMAT),
    ("A1234567890", IdNumberProblem.FORMAT),
    ("", IdNumberProblem.FORMAT),
    ("A12345678X", IdNumberProblem.FORMAT),
    ("AB23456789", IdNumberProblem.FORMAT),
    ("A１23456789", IdNumberProblem.FORMAT),  # a full-width digit
    ("1123456789", IdNumberProblem.LETTER),
    ("é123456789", IdNumberProblem.LETTER),
    ("A323456789", IdNumberProblem.SEX_DIGIT),
    ("A023456789", IdNumberProblem.SEX_DIGIT),
    ("A923456789", IdNumberProblem.SEX_DIGIT),
    ("A123456788", IdNumberProblem.CHECK_DIGIT),
    ("B123456789", IdNumberProblem.CHECK_DIGIT),
])
def test_invalid_numbers_name_the_problem(number: str, problem: IdNumberProblem) -> None:
    with pytest.raises(InvalidIdNumber) as err:
        validate_id_number(number)
    assert err.value.problem is problem
    assert problem.value in str(err.value)
    assert number.strip() == "" or number not in str(err.value)  # never echo personal data
    assert not is_valid_id_number(number)


def test_errors_are_format_errors_and_wrong_types_are_caught() -> None:
    assert issubclass(InvalidIdNumber, FormatError)
    with pytest.raises(InvalidIdNumber):
        validate_id_number(1234567890)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdNumber):
        check_digit("A1234567")
    with pytest.raises(InvalidIdNumber):
        check_digit("112345678")
    with pytest.raises(InvalidIdNumber):
        sex_of("A123456788")
    with pytest.raises(InvalidIdNumber) as err:
        generate_id_number(random.Random(0), letter="1")
    assert err.value.problem is IdNumberProblem.LETTER
    with pytest.raises(InvalidIdNumber) as err:
        generate_id_number(random.Random(0), sex="X")  # type: ignore[arg-type]
    assert err.value.problem is IdNumberProblem.SEX_DIGIT


def test_generation_is_deterministic() -> None:
    first = [generate_id_number(random.Random(42)) for _ in range(3)]
    assert first == [generate_id_number(random.Random(42)) for _ in range(3)]


# --- properties ----------------------------------------------------------------------------------

SEEDS = st.integers(0, 2**32)
LETTERS = st.sampled_from(sorted(LETTER_CODES))
SEXES = st.sampled_from([Sex.MALE, Sex.FEMALE])


@given(SEEDS, st.none() | LETTERS, st.none() | SEXES)
def test_generated_numbers_validate(seed: int, letter: str | None, sex: Sex | None) -> None:
    number = generate_id_number(random.Random(seed), letter, sex)
    assert validate_id_number(number) == number
    if letter is not None:
        assert number[0] == letter
    if sex is not None:
        assert sex_of(number) is sex
    assert check_digit(number[:9]) == int(number[9])


@given(SEEDS, st.integers(2, 9), st.integers(1, 9))
def test_single_digit_change(seed: int, position: int, delta: int) -> None:
    """A digit changed by ``delta`` is caught exactly when weight × delta is not a multiple of 10.

    Positions weighted 1, 3, 7 or 9 catch every change; the even weights (8, 6, 4, 2) miss a change by 5
    and the weight 5 misses every even change: a property of the national scheme, not of this code."""
    number = generate_id_number(random.Random(seed))
    digit = (int(number[position]) + delta) % 10
    changed = number[:position] + str(digit) + number[position + 1:]
    weight = WEIGHTS[position + 1]
    checksum_ok = weight * delta % 10 == 0
    assert is_valid_id_number(changed) == checksum_ok
    if not checksum_ok:
        with pytest.raises(InvalidIdNumber) as err:
            validate_id_number(changed)
        assert err.value.problem is IdNumberProblem.CHECK_DIGIT


@given(SEEDS, st.integers(1, 9))
def test_check_digit_change_is_always_caught(seed: int, delta: int) -> None:
    number = generate_id_number(random.Random(seed))
    changed = number[:9] + str((int(number[9]) + delta) % 10)
    assert not is_valid_id_number(changed)


@given(st.text(max_size=14))
def test_fuzz_only_invalid_id_number(s: str) -> None:
    try:
        number = validate_id_number(s, allow_resident=True)
    except InvalidIdNumber:
        return
    assert len(number) == 10 and number[0] in LETTER_CODES
