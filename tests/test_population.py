"""Synthetic citizens (neweid.population): determinism, validity of every field, CARD-10 boundaries,
photos (CARD-11), romanisation and the surname calibration."""

from __future__ import annotations

import csv
import io
import itertools
import random
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from neweid.formats.idnumber import validate_id_number
from neweid.formats.sex import Sex
from neweid.formats.zones import Birthplace, HouseholdRegion, MaritalStatus, MilitaryStatus
from neweid.population import (
    Citizen,
    PopulationError,
    ReferenceDataError,
    generate_card_serial,
    generate_citizen,
    generate_citizens,
    make_photo,
    make_print_photo,
    renewal_date,
)
from neweid.population import data as refdata
from neweid.population.romanise import RomanisationSystem, hanyu_pinyin, romanise_name, wade_giles
from neweid.population.validity import add_years, age_on

TODAY = date(2026, 9, 1)
DATA = Path(__file__).resolve().parent.parent / "src" / "neweid" / "data"
ROMANISED = re.compile(r"[A-Z]+, [A-Z]+(-[A-Z]+)*")


def _csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# Independent ID-number check (letter table straight from the reference CSV, weights 1,9,8,...,1,1).
LETTER_NUMBERS = {r["letter"]: int(r["number"]) for r in _csv("tw_id_letters.csv")}
COUNTY_LETTERS = {r["code"]: r["id_letter"] for r in _csv("tw_counties.csv")}
VILLAGE_CODES = {r["code"] for r in _csv("tw_villages.csv")}
POPULATED_CODES = {r["code"] for r in _csv("tw_village_population_2026_08.csv")}


def _id_is_valid(number: str) -> bool:
    if not re.fullmatch(r"[A-Z][12][0-9]{8}", number):
        return False
    code = LETTER_NUMBERS[number[0]]
    digits = [code // 10, code % 10] + [int(c) for c in number[1:]]
    return sum(d * w for d, w in zip(digits, (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1), strict=True)) % 10 == 0


@pytest.fixture(scope="module")
def sample() -> list[Citizen]:
    return generate_citizens(random.Random(20260901), 3000, today=TODAY)


# --- determinism ------------------------------------------------------------------------------------


def test_same_seed_same_citizen() -> None:
    one = generate_citizen(random.Random(42), today=TODAY)
    assert one == generate_citizen(random.Random(42), today=TODAY)
    first = generate_citizens(random.Random(9), 50, today=TODAY)
    assert first == generate_citizens(random.Random(9), 50, today=TODAY)


def test_different_seeds_differ() -> None:
    ids = {generate_citizen(random.Random(seed), today=TODAY).id_number for seed in range(50)}
    assert len(ids) == 50


def test_photos_are_deterministic() -> None:
    citizen = generate_citizen(random.Random(3), today=TODAY)
    assert make_photo(random.Random(3), citizen) == make_photo(random.Random(3), citizen)


# --- identity fields ----------------------------------------------------------------------------------


def test_id_numbers_valid_and_letter_matches_registration_county(sample: list[Citizen]) -> None:
    for citizen in sample:
        assert _id_is_valid(citizen.id_number), citizen.id_number
        assert validate_id_number(citizen.id_number) == citizen.id_number
        assert citizen.id_number[0] == COUNTY_LETTERS[citizen.registration_county_code]
        assert citizen.id_number[1] == ("1" if citizen.sex is Sex.MALE else "2")
        if citizen.birthplace.county_code is not None:
            assert citizen.registration_county_code == citizen.birthplace.county_code
        else:
            assert citizen.registration_county_code == citizen.household.county_code


def test_id_numbers_are_unique_enough(sample: list[Citizen]) -> None:
    assert len({c.id_number for c in sample}) >= len(sample) - 1


def test_card_serial_and_can(sample: list[Citizen]) -> None:
    for citizen in sample[:200]:
        assert re.fullmatch(r"[A-Z]{2}[0-9]{7}", citizen.card_serial)
        assert citizen.can == citizen.card_serial[-6:]
        assert citizen.can.isdigit() and len(citizen.can) == 6


def test_generate_card_serial_prefix() -> None:
    assert generate_card_serial(random.Random(1), "AB").startswith("AB")
    for bad in ("N", "NEW", "n1", "1E"):
        with pytest.raises(PopulationError):
            generate_card_serial(random.Random(1), bad)


# --- names --------------------------------------------------------------------------------------------


def test_names_non_empty_and_romanised(sample: list[Citizen]) -> None:
    table = refdata.pinyin_table()
    for citizen in sample:
        assert citizen.surname and citizen.given_name and citizen.father_name and citizen.mother_name
        assert citizen.chinese_name == citizen.surname + citizen.given_name
        assert all(ch in table for ch in citizen.chinese_name)
        assert ROMANISED.fullmatch(citizen.romanised_name), citizen.romanised_name
        assert citizen.romanised_name == romanise_name(citizen.surname, citizen.given_name,
                                                       citizen.romanisation)


def test_father_shares_surname_and_spouse_iff_married(sample: list[Citizen]) -> None:
    for citizen in sample:
        if not citizen.naturalised:
            assert citizen.father_name.startswith(citizen.surname)
            assert citizen.foreign_name is None
        assert (citizen.spouse_name is not None) == (citizen.marital_status is MaritalStatus.MARRIED)


def test_rare_characters_appear_in_a_large_sample(sample: list[Citizen]) -> None:
    rare = set(refdata.rare_characters())
    with_rare = [c for c in sample if rare & set(c.given_name)]
    assert 5 <= len(with_rare) <= 90  # about 1 %
    beyond_bmp = [c for c in generate_citizens(random.Random(5), 6000, today=TODAY)
                  if any(ord(ch) > 0xFFFF for ch in c.given_name)]
    assert beyond_bmp, "no name with a character beyond the BMP in 6000 citizens"
    assert any(ord(ch) > 0xFFFF for ch in rare)


def test_naturalised_citizens_have_foreign_names(sample: list[Citizen]) -> None:
    naturalised = [c for c in sample if c.naturalised]
    assert 5 <= len(naturalised) <= 60
    for citizen in naturalised:
        assert citizen.foreign_name is not None
        assert re.fullmatch(r"[A-Z]+, [A-Z]+( [A-Z]+)*", citizen.foreign_name), citizen.foreign_name
        assert citizen.birthplace.county_code is None
        assert citizen.age >= 20


def test_surname_distribution_follows_ranking(sample: list[Citizen]) -> None:
    counts = Counter(c.surname for c in sample if not c.naturalised)
    assert counts.most_common(1)[0][0] == "陳"
    assert counts["陳"] > counts["林"] > counts["楊"]


def test_given_names_by_sex() -> None:
    male = {r["given_name"] for r in _csv("tw_given_names.csv") if r["sex"] == "M"}
    citizens = generate_citizens(random.Random(11), 500, today=TODAY)
    men_with_listed_names = [c for c in citizens if c.sex is Sex.MALE and c.given_name in male]
    women_with_male_names = [c for c in citizens if c.sex is Sex.FEMALE and c.given_name in male]
    assert len(men_with_listed_names) > 100
    assert len(women_with_male_names) < len(men_with_listed_names) / 10


# --- household and birthplace -------------------------------------------------------------------------


def test_households_are_real_villages(sample: list[Citizen]) -> None:
    for citizen in sample:
        region = citizen.household
        assert region.village_code in VILLAGE_CODES and region.village_code in POPULATED_CODES
        assert region.village_code.startswith(region.township_code)
        assert region.township_code.startswith(region.county_code)
        assert 1 <= region.neighbourhood <= 30
        prefix = f"{region.county_name}{region.township_name}{region.village_name}{region.neighbourhood}鄰"
        assert citizen.address.startswith(prefix)
        assert re.search(r"[路街]([一二三四五]段)?([0-9]+巷)?([0-9]+弄)?[0-9]+(之[0-9])?號([0-9]+樓)?$",
                         citizen.address), citizen.address


def test_households_follow_population(sample: list[Citizen]) -> None:
    by_county = Counter(c.household.county_name for c in sample)
    assert by_county["新北市"] > by_county["臺北市"] > by_county["連江縣"]
    assert by_county["新北市"] / len(sample) == pytest.approx(4.0 / 23.2, abs=0.03)


def test_birthplaces(sample: list[Citizen]) -> None:
    counties = refdata.counties()
    abroad = 0
    for citizen in sample:
        place = citizen.birthplace
        if place.county_code is None:
            abroad += 1
            assert place.name not in {c.name_zh for c in counties.values()}
        else:
            assert counties[place.county_code].name_zh == place.name
    assert 0 < abroad < len(sample) * 0.08


# --- dates, status, validity (CARD-10) ----------------------------------------------------------------


@pytest.mark.parametrize("age", [0, 1, 13, 14, 17, 18, 36, 64, 65, 100])
def test_requested_age_is_exact(age: int) -> None:
    for seed in range(20):
        citizen = generate_citizen(random.Random(seed), today=TODAY, age=age)
        assert citizen.age == age == age_on(citizen.birth_date, TODAY)
        assert citizen.issue_date == TODAY
        assert citizen.renewal_date == renewal_date(citizen.birth_date, TODAY)


def test_requested_age_on_leap_day() -> None:
    leap = date(2028, 2, 29)
    for seed in range(50):
        citizen = generate_citizen(random.Random(seed), today=leap, age=1)
        assert age_on(citizen.birth_date, leap) == 1


@pytest.mark.parametrize("age", [-1, 111])
def test_impossible_age_rejected(age: int) -> None:
    with pytest.raises(PopulationError):
        generate_citizen(random.Random(1), today=TODAY, age=age)


def test_negative_count_rejected() -> None:
    with pytest.raises(PopulationError):
        generate_citizens(random.Random(1), -1, today=TODAY)


@pytest.mark.parametrize(
    ("birth", "application", "expected"),
    [
        (date(2012, 9, 2), date(2026, 9, 1), date(2031, 9, 1)),  # 13, the day before turning 14: 5 years
        (date(2012, 9, 1), date(2026, 9, 1), date(2036, 9, 1)),  # 14th birthday: 10 years
        (date(1961, 9, 2), date(2026, 9, 1), date(2036, 9, 1)),  # 64, the day before turning 65: 10 years
        (date(1961, 9, 1), date(2026, 9, 1), None),  # 65th birthday: no renewal date
        (date(1930, 1, 1), date(2026, 9, 1), None),
        (date(2026, 9, 1), date(2026, 9, 1), date(2031, 9, 1)),  # newborn
        (date(2020, 1, 1), date(2028, 2, 29), date(2033, 2, 28)),  # leap day + 5 years
        (date(2000, 1, 1), date(2028, 2, 29), date(2038, 2, 28)),  # leap day + 10 years
    ],
)
def test_renewal_date_boundaries(birth: date, application: date, expected: date | None) -> None:
    assert renewal_date(birth, application) == expected


def test_leap_day_birthday_counts_from_1_march() -> None:
    assert age_on(date(2012, 2, 29), date(2026, 2, 28)) == 13
    assert age_on(date(2012, 2, 29), date(2026, 3, 1)) == 14
    assert renewal_date(date(2012, 2, 29), date(2026, 2, 28)) == date(2031, 2, 28)
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


def test_application_before_birth_rejected() -> None:
    with pytest.raises(PopulationError):
        renewal_date(date(2020, 1, 2), date(2020, 1, 1))


def test_renewal_dates_in_sample(sample: list[Citizen]) -> None:
    for citizen in sample:
        if citizen.age < 14:
            assert citizen.renewal_date == add_years(TODAY, 5)
        elif citizen.age < 65:
            assert citizen.renewal_date == add_years(TODAY, 10)
        else:
            assert citizen.renewal_date is None


def test_marital_status_consistent_with_age(sample: list[Citizen]) -> None:
    assert all(c.marital_status is MaritalStatus.SINGLE for c in sample if c.age < 18)
    adults = [c for c in sample if 40 <= c.age < 65]
    married = sum(c.marital_status is MaritalStatus.MARRIED for c in adults)
    assert 0.45 < married / len(adults) < 0.85


def test_military_status_by_sex_and_age(sample: list[Citizen]) -> None:
    for citizen in sample:
        status = citizen.military_status
        if citizen.sex is Sex.FEMALE:
            assert status is MilitaryStatus.NOT_APPLICABLE_FEMALE
            continue
        assert status is not MilitaryStatus.NOT_APPLICABLE_FEMALE
        if citizen.age < 18:
            assert status is MilitaryStatus.NOT_SERVED
        if status is MilitaryStatus.MILITARY_TRAINING:
            assert 1994 <= citizen.birth_date.year <= 2004
        if status is MilitaryStatus.SUBSTITUTE:
            assert citizen.birth_date.year >= 1981
    older_men = [c for c in sample if c.sex is Sex.MALE and c.age >= 40]
    assert sum(c.military_status is MilitaryStatus.REGULAR for c in older_men) > len(older_men) / 2


# --- fits the chip data groups ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32),
       age=st.none() | st.integers(min_value=0, max_value=110))
def test_citizen_fits_zone_data_groups(seed: int, age: int | None) -> None:
    citizen = generate_citizen(random.Random(seed), today=TODAY, age=age)
    assert HouseholdRegion.decode(citizen.household.encode()) == citizen.household
    assert Birthplace.decode(citizen.birthplace.encode()) == citizen.birthplace
    assert len(citizen.address.encode("utf-8")) < 256
    assert generate_citizen(random.Random(seed), today=TODAY, age=age) == citizen


# --- photos (CARD-11) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_chip_photo_is_small_jpeg(seed: int) -> None:
    citizen = generate_citizen(random.Random(seed), today=TODAY)
    data = make_photo(random.Random(seed), citizen)
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert len(data) <= 20 * 1024
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (300, 385)


def test_print_photo_meets_card_11() -> None:
    citizen = generate_citizen(random.Random(1), today=TODAY)
    data = make_print_photo(random.Random(1), citizen)
    assert len(data) <= 5 * 1024 * 1024
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.width >= 826 and image.height >= 1062
        # crown-to-chin: the head (everything not background) along the centre column spans 70-80 %
        background = image.getpixel((2, 2))
        column = [image.getpixel((image.width // 2, y)) for y in range(image.height)]
        top = next(y for y, px in enumerate(column) if _far(px, background))
        assert 0.05 * image.height < top < 0.15 * image.height


def _far(a: object, b: object) -> bool:
    assert isinstance(a, tuple) and isinstance(b, tuple)
    return sum(abs(int(x) - int(y)) for x, y in zip(a, b, strict=True)) > 60


def test_photos_vary_with_rng() -> None:
    citizen = generate_citizen(random.Random(1), today=TODAY)
    assert len({make_photo(random.Random(seed), citizen) for seed in range(6)}) > 1


# --- romanisation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pinyin", "wg"),
    [("zhang", "chang"), ("cai", "tsai"), ("xu", "hsu"), ("xie", "hsieh"), ("guo", "kuo"), ("zeng", "tseng"),
     ("ye", "yeh"), ("zhuang", "chuang"), ("lv", "lu"), ("jiang", "chiang"), ("he", "ho"), ("luo", "lo"),
     ("zhong", "chung"), ("you", "yu"), ("shi", "shih"), ("zhi", "chih"), ("zi", "tzu"), ("yan", "yen"),
     ("ke", "ko"), ("xue", "hsueh"), ("ruan", "juan"), ("zhuo", "cho"), ("rong", "jung"), ("e", "o"),
     ("jun", "chun"), ("xuan", "hsuan"), ("yue", "yueh"), ("xiong", "hsiung"), ("gui", "kuei"),
     ("hui", "hui"), ("bo", "po"), ("de", "te"), ("lian", "lien"), ("qing", "ching")],
)
def test_wade_giles(pinyin: str, wg: str) -> None:
    assert wade_giles(pinyin) == wg


def test_passport_names() -> None:
    assert romanise_name("陳", "家豪", RomanisationSystem.WADE_GILES) == "CHEN, CHIA-HAO"
    assert romanise_name("陳", "家豪", RomanisationSystem.HANYU_PINYIN) == "CHEN, JIA-HAO"
    assert romanise_name("呂", "淑芬", RomanisationSystem.HANYU_PINYIN) == "LYU, SHU-FEN"
    assert romanise_name("呂", "淑芬", RomanisationSystem.WADE_GILES) == "LU, SHU-FEN"
    assert romanise_name("林", "𠮷", RomanisationSystem.WADE_GILES) == "LIN, CHI"
    assert hanyu_pinyin("nv") == "nyu"


def test_every_generatable_character_is_romanised() -> None:
    table = refdata.pinyin_table()
    for surname in (r["surname"] for r in _csv("tw_surnames.csv")):
        assert surname in table
    for name in (r["given_name"] for r in _csv("tw_given_names.csv")):
        assert all(ch in table for ch in name)
    for syllable in table.values():
        assert re.fullmatch(r"[a-z]+", wade_giles(syllable))


@pytest.mark.parametrize("bad", ["", "zh1", "ü", "chen-"])
def test_bad_syllable_rejected(bad: str) -> None:
    with pytest.raises(PopulationError):
        wade_giles(bad)


def test_unknown_character_rejected() -> None:
    with pytest.raises(PopulationError):
        romanise_name("陳", "龘", RomanisationSystem.WADE_GILES)
    with pytest.raises(PopulationError):
        romanise_name("", "家豪", RomanisationSystem.WADE_GILES)


# --- reference data -----------------------------------------------------------------------------------


def test_surname_calibration_matches_published_figures() -> None:
    shares = refdata.surname_weights()
    assert [name for name, _ in shares[:3]] == ["陳", "林", "黃"]
    assert [share for _, share in shares[:3]] == [11.14, 8.31, 6.05]
    assert sum(share for _, share in shares[:10]) == pytest.approx(52.78)
    assert sum(share for _, share in shares) == pytest.approx(96.57)
    values = [share for _, share in shares]
    assert all(a > b for a, b in itertools.pairwise(values))


def test_village_join() -> None:
    villages = refdata.villages()
    assert len(villages) == 7755  # README: codes present in both files
    assert all(v.code in VILLAGE_CODES and v.population > 0 for v in villages)
    assert all(not (0xE000 <= ord(ch) <= 0xF8FF or ord(ch) >= 0xF0000) for v in villages for ch in v.name_zh)


def test_missing_data_file_is_a_reference_data_error() -> None:
    with pytest.raises(ReferenceDataError):
        refdata.read_text("no-such-file.csv")
