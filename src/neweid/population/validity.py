"""Card validity (CARD-10): the renewal date printed on the card and stored in public-zone DG8.

The renewal date depends on the applicant's age on the application date: under 14, 5 years; from 14 to
under 65, 10 years; from 65, none (the card does not need renewing).
"""

from __future__ import annotations

from datetime import date

from neweid.population.errors import PopulationError

CHILD_AGE_LIMIT = 14  # under 14: 5-year card
SENIOR_AGE = 65  # 65 and older: no renewal date
CHILD_VALIDITY_YEARS = 5
ADULT_VALIDITY_YEARS = 10


def add_years(day: date, years: int) -> date:
    """``day`` moved by ``years`` calendar years; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        if day.month == 2 and day.day == 29:
            return day.replace(year=day.year + years, day=28)
        raise PopulationError(f"{day.isoformat()} + {years} years is out of range") from None


def age_on(birth: date, day: date) -> int:
    """Completed years of age on ``day``; a 29 February birthday is reached on 1 March in common years."""
    if day < birth:
        raise PopulationError(f"{day.isoformat()} is before the date of birth {birth.isoformat()}")
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def renewal_date(birth: date, application_date: date) -> date | None:
    """The card's renewal date per CARD-10, or ``None`` for applicants aged 65 or more."""
    age = age_on(birth, application_date)
    if age < CHILD_AGE_LIMIT:
        return add_years(application_date, CHILD_VALIDITY_YEARS)
    if age < SENIOR_AGE:
        return add_years(application_date, ADULT_VALIDITY_YEARS)
    return None
