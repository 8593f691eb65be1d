"""Synthetic citizens for personalising test cards (CARD-1, CARD-2, CARD-10).

Everything is drawn from one ``random.Random``, so a seed gives the same citizen every time::

    citizen = generate_citizen(random.Random(7), today=date(2026, 9, 1))

No real person is described: names, ID numbers and street addresses are random; villages are real and
drawn in proportion to their registered population (neweid/data/README.md).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from neweid.formats.idnumber import generate_id_number
from neweid.formats.sex import Sex
from neweid.formats.zones import Birthplace, HouseholdRegion, MaritalStatus, MilitaryStatus
from neweid.population.address import draw_household, draw_village
from neweid.population.data import counties, townships
from neweid.population.errors import PopulationError
from neweid.population.names import (
    ForeignOrigin,
    draw_given_name,
    draw_origin,
    draw_other_surname,
    draw_surname,
    foreign_name,
)
from neweid.population.romanise import RomanisationSystem, romanise_name
from neweid.population.validity import add_years, age_on, renewal_date

MAX_AGE = 110
CARD_SERIAL_PREFIX = "NE"
_CARD_SERIAL = re.compile(r"[A-Z]{2}[0-9]{7}")

NATURALISED_PROBABILITY = 0.01
BORN_ABROAD_PROBABILITY = 0.015
BORN_IN_HOUSEHOLD_COUNTY_PROBABILITY = 0.7
WADE_GILES_PROBABILITY = 0.7
SAME_SEX_SPOUSE_PROBABILITY = 0.01
MALE_BIRTH_SHARE = 0.5

# Share of the population by 5-year age band (0-4, 5-9, ..., 95-99), roughly Taiwan in the mid-2020s.
AGE_BAND_WEIGHTS: tuple[float, ...] = (
    3.0, 3.7, 4.3, 4.4, 5.3, 6.4, 6.9, 7.5, 8.4, 8.2, 7.2, 7.3, 7.0, 6.6, 5.6, 3.9, 2.5, 1.6, 0.8, 0.3,
)

# Probability of being married (having a spouse: the card shows 有) by lower age bound.
_MARRIED_BY_AGE: tuple[tuple[int, float], ...] = (
    (0, 0.0), (18, 0.01), (20, 0.05), (25, 0.2), (30, 0.45), (35, 0.58), (40, 0.62), (50, 0.65),
    (65, 0.6), (75, 0.45), (85, 0.25),
)

BORN_ABROAD_PLACES: tuple[str, ...] = ("美國", "日本", "加拿大", "新加坡", "馬來西亞", "香港", "澳大利亞")
# People born before 1950 on the mainland have their province registered as birthplace.
MAINLAND_PROVINCES: tuple[str, ...] = ("福建省", "浙江省", "江蘇省", "山東省", "廣東省", "湖南省", "四川省")
MAINLAND_BIRTH_YEAR_LIMIT = 1950
MAINLAND_BIRTH_PROBABILITY = 0.15


@dataclass(frozen=True)
class Citizen:
    """One synthetic person with everything needed to personalise a card."""

    id_number: str
    sex: Sex
    surname: str
    given_name: str
    romanised_name: str  # SURNAME, GIVEN-NAME
    romanisation: RomanisationSystem
    foreign_name: str | None  # naturalised citizens: SURNAME, GIVEN NAMES
    naturalised: bool
    birth_date: date
    birthplace: Birthplace
    registration_county_code: str  # county of first household registration: the ID number's letter
    household: HouseholdRegion
    address: str
    marital_status: MaritalStatus
    military_status: MilitaryStatus
    spouse_name: str | None
    father_name: str
    mother_name: str
    card_serial: str
    issue_date: date
    renewal_date: date | None
    age: int  # on the issue (application) date

    @property
    def chinese_name(self) -> str:
        return self.surname + self.given_name

    @property
    def can(self) -> str:
        """Card access number: the last 6 digits of the card serial (CARD-2)."""
        return self.card_serial[-6:]


def generate_card_serial(rng: random.Random, prefix: str = CARD_SERIAL_PREFIX) -> str:
    """A card serial (MRZ document number) ``^[A-Z]{2}[0-9]{7}$``; its last 6 digits are the CAN."""
    serial = prefix + "".join(str(rng.randrange(10)) for _ in range(7))
    if not _CARD_SERIAL.fullmatch(serial):
        raise PopulationError(f"card serial prefix must be 2 upper-case letters, got {prefix!r}")
    return serial


def draw_age(rng: random.Random) -> int:
    band = rng.choices(range(len(AGE_BAND_WEIGHTS)), weights=AGE_BAND_WEIGHTS)[0]
    return band * 5 + rng.randrange(5)


def birth_date_for_age(rng: random.Random, today: date, age: int) -> date:
    """A uniformly drawn date of birth giving exactly ``age`` completed years on ``today``."""
    if not 0 <= age <= MAX_AGE:
        raise PopulationError(f"age must be from 0 to {MAX_AGE}, got {age}")
    latest = add_years(today, -age)
    earliest = add_years(today, -(age + 1)) + timedelta(days=1)
    birth = earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))
    if age_on(birth, today) != age:  # pragma: no cover - guards the calendar arithmetic above
        raise PopulationError(f"internal error: birth date {birth} does not give age {age} on {today}")
    return birth


def _married(rng: random.Random, age: int) -> bool:
    probability = 0.0
    for lower, p in _MARRIED_BY_AGE:
        if age >= lower:
            probability = p
    return rng.random() < probability


def military_status(rng: random.Random, sex: Sex, birth: date, age: int) -> MilitaryStatus:
    """A plausible 役別 for the sex, age and birth cohort (women have none)."""
    if sex is Sex.FEMALE:
        return MilitaryStatus.NOT_APPLICABLE_FEMALE
    if age < 18:
        return MilitaryStatus.NOT_SERVED
    roll = rng.random()
    if roll < 0.04:
        return MilitaryStatus.EXEMPT
    if roll < 0.10:
        return MilitaryStatus.NATIONAL_GUARD
    not_yet = 0.9 if age < 20 else 0.6 if age < 23 else 0.25 if age < 26 else 0.05 if age <= 36 else 0.0
    if rng.random() < not_yet:
        return MilitaryStatus.NOT_SERVED
    roll = rng.random()
    if 1994 <= birth.year <= 2004:  # four-month military training for these cohorts
        if roll < 0.8:
            return MilitaryStatus.MILITARY_TRAINING
        return MilitaryStatus.SUBSTITUTE if roll < 0.95 else MilitaryStatus.REGULAR
    if birth.year >= 1981 and roll < 0.15:  # substitute service exists since 2000
        return MilitaryStatus.SUBSTITUTE
    return MilitaryStatus.REGULAR


def _birthplace(rng: random.Random, household: HouseholdRegion, birth: date) -> Birthplace:
    if birth.year < MAINLAND_BIRTH_YEAR_LIMIT and rng.random() < MAINLAND_BIRTH_PROBABILITY:
        return Birthplace(rng.choice(MAINLAND_PROVINCES))
    if rng.random() < BORN_ABROAD_PROBABILITY:
        return Birthplace(rng.choice(BORN_ABROAD_PLACES))
    if rng.random() < BORN_IN_HOUSEHOLD_COUNTY_PROBABILITY:
        code = household.county_code
    else:
        code = townships()[draw_village(rng).township_code].county_code
    return Birthplace(counties()[code].name_zh, code)


def _opposite(sex: Sex) -> Sex:
    return Sex.FEMALE if sex is Sex.MALE else Sex.MALE


def _spouse_sex(rng: random.Random, sex: Sex) -> Sex:
    return sex if rng.random() < SAME_SEX_SPOUSE_PROBABILITY else _opposite(sex)


def _chinese_person(rng: random.Random, sex: Sex, avoid_surname: str) -> str:
    return draw_other_surname(rng, avoid_surname) + draw_given_name(rng, sex)


def generate_citizen(rng: random.Random, *, today: date, age: int | None = None) -> Citizen:
    """A realistic synthetic citizen applying for a card on ``today`` (issue date = ``today``)."""
    if age is None:
        age = draw_age(rng)
    birth = birth_date_for_age(rng, today, age)
    naturalised = age >= 20 and rng.random() < NATURALISED_PROBABILITY
    origin: ForeignOrigin | None = draw_origin(rng) if naturalised else None
    if origin is not None:
        sex = Sex.FEMALE if rng.random() < 0.9 else Sex.MALE
    else:
        sex = Sex.MALE if rng.random() < MALE_BIRTH_SHARE else Sex.FEMALE

    foreign: str | None = None
    if origin is not None:
        origin_surname = rng.choice(origin.surnames)
        surname = origin_surname[1] or draw_surname(rng)
        foreign = foreign_name(rng, origin, sex, origin_surname)
        father = foreign_name(rng, origin, Sex.MALE, origin_surname)
        mother = foreign_name(rng, origin, Sex.FEMALE)
    else:
        surname = draw_surname(rng)
        father = surname + draw_given_name(rng, Sex.MALE)
        mother = _chinese_person(rng, Sex.FEMALE, surname)
    given = draw_given_name(rng, sex)
    system = (RomanisationSystem.WADE_GILES if rng.random() < WADE_GILES_PROBABILITY
              else RomanisationSystem.HANYU_PINYIN)

    household = draw_household(rng)
    if origin is not None:
        birthplace = Birthplace(origin.country_zh)
    else:
        birthplace = _birthplace(rng, household.region, birth)
    registration = birthplace.county_code or household.region.county_code
    id_number = generate_id_number(rng, counties()[registration].id_letter, sex)

    married = _married(rng, age) or (origin is not None and rng.random() < 0.8)
    spouse = _chinese_person(rng, _spouse_sex(rng, sex), surname) if married else None

    return Citizen(
        id_number=id_number,
        sex=sex,
        surname=surname,
        given_name=given,
        romanised_name=romanise_name(surname, given, system),
        romanisation=system,
        foreign_name=foreign,
        naturalised=naturalised,
        birth_date=birth,
        birthplace=birthplace,
        registration_county_code=registration,
        household=household.region,
        address=household.address,
        marital_status=MaritalStatus.MARRIED if married else MaritalStatus.SINGLE,
        military_status=military_status(rng, sex, birth, age),
        spouse_name=spouse,
        father_name=father,
        mother_name=mother,
        card_serial=generate_card_serial(rng),
        issue_date=today,
        renewal_date=renewal_date(birth, today),
        age=age,
    )


def generate_citizens(rng: random.Random, count: int, *, today: date) -> list[Citizen]:
    """``count`` citizens with ages drawn from the population's age structure."""
    if count < 0:
        raise PopulationError(f"count must not be negative, got {count}")
    return [generate_citizen(rng, today=today) for _ in range(count)]
