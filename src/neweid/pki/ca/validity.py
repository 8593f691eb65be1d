"""Validity periods of citizen certificates (CARD-10, report Ch.7 參.一).

* A card's certificates run from the card's issue date (the date printed on the face), for 5 years, and
  never past the card's renewal date (應換領日期). A citizen who opted out at issue and asks later gets no
  extension: the period still starts on the card's issue date.
* A certificate can be reissued once (重新簽發), only while it is not revoked; the reissued certificate runs
  from the reissue until 5 years later, never past 10 years from the card's issue date (the GPKI limit on
  a subscriber key's life) and never past the renewal date.
* Cards of applicants under 14 are renewed after 5 years, so their certificates cannot be reissued; cards
  of applicants of 65 or more have no renewal date: 5 years, one reissue for 5 more, then a new card.

Dates are calendar dates in Taiwan (UTC+8, no daylight saving); a period starts at 00:00:00 Taipei time
of its first day and ends at 23:59:59 Taipei time of the day before its end date (notAfter is inclusive).
A request that breaks a rule raises :class:`~neweid.pki.ca.errors.ValidityError` whose ``code`` says which.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from neweid.pki.ca.errors import Refusal, ValidityError

__all__ = [
    "CERTIFICATE_YEARS",
    "KEY_LIFE_YEARS",
    "MAX_REISSUES",
    "TAIPEI",
    "CardValidity",
    "ValidityPeriod",
    "add_years",
    "card_renewal_date",
    "first_period",
    "reissue_period",
]

TAIPEI = datetime.timezone(datetime.timedelta(hours=8), "Asia/Taipei")
CERTIFICATE_YEARS = 5
KEY_LIFE_YEARS = 10
MAX_REISSUES = 1


def add_years(day: datetime.date, years: int) -> datetime.date:
    """``day`` plus calendar years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, tzinfo=TAIPEI).astimezone(datetime.UTC)


def _end_before(day: datetime.date) -> datetime.datetime:
    return _start_of(day) - datetime.timedelta(seconds=1)


def card_renewal_date(
    birth_date: datetime.date, application_date: datetime.date, issue_date: datetime.date
) -> datetime.date | None:
    """The renewal date CARD-10 prints on a card: 5 years after issue for applicants under 14, 10 years
    from 14 to under 65, none from 65 (age on the application date)."""
    age = application_date.year - birth_date.year - (
        (application_date.month, application_date.day) < (birth_date.month, birth_date.day))
    if age < 0:
        raise ValidityError("the application date precedes the birth date", Refusal.BEFORE_CARD_ISSUE)
    if age < 14:
        return add_years(issue_date, 5)
    if age < 65:
        return add_years(issue_date, 10)
    return None


@dataclass(frozen=True)
class CardValidity:
    """What the CA needs to know about the card: its issue date and renewal date (None: 65+, no date)."""

    issue_date: datetime.date
    renewal_date: datetime.date | None

    def __post_init__(self) -> None:
        if not isinstance(self.issue_date, datetime.date) or isinstance(self.issue_date, datetime.datetime):
            raise ValidityError("the card issue date must be a date", Refusal.BEFORE_CARD_ISSUE)
        renewal = self.renewal_date
        if renewal is not None and (
            not isinstance(renewal, datetime.date) or isinstance(renewal, datetime.datetime)
        ):
            raise ValidityError("the card renewal date must be a date or None", Refusal.PAST_RENEWAL_DATE)
        if self.renewal_date is not None and self.renewal_date <= self.issue_date:
            raise ValidityError("the card renewal date must come after its issue date",
                                Refusal.PAST_RENEWAL_DATE)


@dataclass(frozen=True)
class ValidityPeriod:
    """A certificate's notBefore and notAfter (UTC, whole seconds, notAfter inclusive)."""

    not_before: datetime.datetime
    not_after: datetime.datetime


def _aware(name: str, moment: datetime.datetime) -> datetime.datetime:
    if not isinstance(moment, datetime.datetime) or moment.tzinfo is None:
        raise ValidityError(f"{name} must be a timezone-aware datetime", Refusal.BEFORE_CARD_ISSUE)
    return moment.astimezone(datetime.UTC).replace(microsecond=0)


def _checked_end(
    card: CardValidity,
    not_before: datetime.datetime,
    five_years_end: datetime.datetime,
    hard_end: datetime.datetime,
    now: datetime.datetime,
    requested: datetime.datetime | None,
) -> datetime.datetime:
    renewal_end = None if card.renewal_date is None else _end_before(card.renewal_date)
    maximum = min(five_years_end, hard_end) if renewal_end is None else min(five_years_end, hard_end,
                                                                             renewal_end)
    if now >= maximum:
        raise ValidityError("the certificate period allowed by this card has ended; a new card is needed",
                            Refusal.CARD_EXPIRED)
    if requested is None:
        return maximum
    end = _aware("not_after", requested)
    if renewal_end is not None and end > renewal_end:
        raise ValidityError(f"a certificate must not be valid past the card's renewal date "
                            f"{card.renewal_date}", Refusal.PAST_RENEWAL_DATE)
    if end > min(five_years_end, hard_end):
        raise ValidityError(f"a certificate is valid for at most {CERTIFICATE_YEARS} years "
                            f"(and {KEY_LIFE_YEARS} years from the card's issue)", Refusal.PAST_FIVE_YEARS)
    if end <= max(not_before, now):
        raise ValidityError("the requested end of validity lies in the past", Refusal.CARD_EXPIRED)
    return end


def first_period(
    card: CardValidity, *, now: datetime.datetime, not_after: datetime.datetime | None = None
) -> ValidityPeriod:
    """The period of a card's first certificate: its issue date, for 5 years, never past the renewal date.
    ``not_after`` may shorten it, never lengthen it."""
    current = _aware("now", now)
    start = _start_of(card.issue_date)
    five = _end_before(add_years(card.issue_date, CERTIFICATE_YEARS))
    end = _checked_end(card, start, five, five, current, not_after)
    return ValidityPeriod(start, end)


def reissue_period(
    card: CardValidity,
    reissues_so_far: int,
    *,
    now: datetime.datetime,
    not_after: datetime.datetime | None = None,
) -> ValidityPeriod:
    """The period of a reissued certificate (from ``now``), or :class:`ValidityError` if CARD-10 forbids
    the reissue: one reissue per card, none when the renewal date ends the first period."""
    current = _aware("now", now)
    if reissues_so_far >= MAX_REISSUES:
        raise ValidityError("a certificate may be reissued only once; after that a new card is needed",
                            Refusal.REISSUE_LIMIT)
    first_end = add_years(card.issue_date, CERTIFICATE_YEARS)
    if card.renewal_date is not None and card.renewal_date <= first_end:
        raise ValidityError("the card's renewal date ends the certificate period: renew the card instead",
                            Refusal.NEW_CARD_NEEDED)
    start = max(current, _start_of(card.issue_date))
    five = start + (_start_of(add_years(start.astimezone(TAIPEI).date(), CERTIFICATE_YEARS))
                    - _start_of(start.astimezone(TAIPEI).date())) - datetime.timedelta(seconds=1)
    hard = _end_before(add_years(card.issue_date, KEY_LIFE_YEARS))
    end = _checked_end(card, start, five, hard, current, not_after)
    return ValidityPeriod(start, end)
