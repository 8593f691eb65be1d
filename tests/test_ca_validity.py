"""CARD-10 certificate validity: 5 years from the card's issue, one reissue, never past the renewal date."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neweid.pki.ca.errors import Refusal, ValidityError
from neweid.pki.ca.validity import (
    TAIPEI,
    CardValidity,
    add_years,
    card_renewal_date,
    first_period,
    reissue_period,
)

ISSUE = datetime.date(2026, 11, 2)
NOW = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)


def taipei(d: datetime.date, h: int = 0, m: int = 0, s: int = 0) -> datetime.datetime:
    return datetime.datetime(d.year, d.month, d.day, h, m, s, tzinfo=TAIPEI)


def test_first_period_adult_card_is_five_years_from_issue_date_in_taipei() -> None:
    period = first_period(CardValidity(ISSUE, add_years(ISSUE, 10)), now=NOW)
    assert period.not_before == taipei(ISSUE)
    assert period.not_after == taipei(datetime.date(2031, 11, 1), 23, 59, 59)


def test_first_period_under_14_ends_at_renewal_date() -> None:
    card = CardValidity(ISSUE, datetime.date(2030, 6, 1))  # renewal before the 5 years are over
    assert first_period(card, now=NOW).not_after == taipei(datetime.date(2030, 5, 31), 23, 59, 59)


def test_opt_out_then_later_issue_keeps_the_card_start() -> None:
    later = NOW + datetime.timedelta(days=400)
    period = first_period(CardValidity(ISSUE, None), now=later)
    assert period.not_before == taipei(ISSUE)
    assert period.not_after == taipei(datetime.date(2031, 11, 1), 23, 59, 59)


def test_requested_end_past_renewal_is_refused_with_reason() -> None:
    card = CardValidity(ISSUE, datetime.date(2029, 1, 1))
    with pytest.raises(ValidityError, match="renewal date 2029-01-01") as info:
        first_period(card, now=NOW, not_after=taipei(datetime.date(2029, 1, 2)))
    assert info.value.code is Refusal.PAST_RENEWAL_DATE


def test_requested_end_past_five_years_is_refused() -> None:
    card = CardValidity(ISSUE, None)
    with pytest.raises(ValidityError) as info:
        first_period(card, now=NOW, not_after=taipei(datetime.date(2032, 1, 1)))
    assert info.value.code is Refusal.PAST_FIVE_YEARS


def test_requested_shorter_end_is_kept() -> None:
    end = taipei(datetime.date(2028, 1, 1), 12)
    assert first_period(CardValidity(ISSUE, None), now=NOW, not_after=end).not_after == end


def test_requested_end_in_the_past_is_refused() -> None:
    with pytest.raises(ValidityError) as info:
        first_period(CardValidity(ISSUE, None), now=NOW, not_after=NOW - datetime.timedelta(days=1))
    assert info.value.code is Refusal.CARD_EXPIRED


def test_no_certificate_after_the_period_ends() -> None:
    with pytest.raises(ValidityError) as info:
        first_period(CardValidity(ISSUE, add_years(ISSUE, 10)), now=NOW.replace(year=2032))
    assert info.value.code is Refusal.CARD_EXPIRED


def test_reissue_adult_card_runs_five_more_years_capped_by_renewal() -> None:
    card = CardValidity(ISSUE, add_years(ISSUE, 10))
    at = taipei(datetime.date(2031, 10, 1), 10).astimezone(datetime.UTC)
    period = reissue_period(card, 0, now=at)
    assert period.not_before == at
    assert period.not_after == taipei(datetime.date(2036, 10, 1), 9, 59, 59)  # 5 years from the reissue
    late = taipei(datetime.date(2031, 12, 1)).astimezone(datetime.UTC)
    assert reissue_period(card, 0, now=late).not_after == taipei(datetime.date(2036, 11, 1), 23, 59, 59)


def test_reissue_only_once() -> None:
    with pytest.raises(ValidityError, match="only once") as info:
        reissue_period(CardValidity(ISSUE, None), 1, now=NOW)
    assert info.value.code is Refusal.REISSUE_LIMIT


def test_reissue_refused_for_under_14_card() -> None:
    card = CardValidity(ISSUE, add_years(ISSUE, 5))
    with pytest.raises(ValidityError) as info:
        reissue_period(card, 0, now=NOW.replace(year=2031))
    assert info.value.code is Refusal.NEW_CARD_NEEDED


def test_65_plus_card_without_renewal_date_gets_one_reissue_up_to_ten_years() -> None:
    card = CardValidity(ISSUE, None)
    first = first_period(card, now=NOW)
    reissued = reissue_period(card, 0, now=first.not_after - datetime.timedelta(days=30))
    assert reissued.not_after <= taipei(add_years(ISSUE, 10)) - datetime.timedelta(seconds=1)
    with pytest.raises(ValidityError):
        reissue_period(card, 1, now=first.not_after)
    with pytest.raises(ValidityError) as info:
        reissue_period(card, 0, now=taipei(add_years(ISSUE, 10)).astimezone(datetime.UTC))
    assert info.value.code is Refusal.CARD_EXPIRED


def test_renewal_date_rules_by_age() -> None:
    issue = datetime.date(2026, 11, 2)
    assert card_renewal_date(datetime.date(2013, 11, 3), issue, issue) == datetime.date(2031, 11, 2)  # 12
    assert card_renewal_date(datetime.date(2012, 11, 2), issue, issue) == datetime.date(2036, 11, 2)  # 14
    assert card_renewal_date(datetime.date(1961, 11, 3), issue, issue) == datetime.date(2036, 11, 2)  # 64
    assert card_renewal_date(datetime.date(1961, 11, 2), issue, issue) is None  # 65 today


def test_card_validity_rejects_renewal_before_issue_and_datetimes() -> None:
    with pytest.raises(ValidityError):
        CardValidity(ISSUE, ISSUE)
    with pytest.raises(ValidityError):
        CardValidity(NOW, None)  # type: ignore[arg-type]
    with pytest.raises(ValidityError):
        first_period(CardValidity(ISSUE, None), now=datetime.datetime(2026, 11, 2))  # noqa: DTZ001


@given(
    st.dates(datetime.date(2000, 1, 1), datetime.date(2040, 12, 31)),
    st.one_of(st.none(), st.integers(1, 4000)),
    st.integers(0, 4000),
)
def test_periods_never_exceed_the_rules(
    issue: datetime.date, renewal_days: int | None, age_days: int
) -> None:
    renewal = None if renewal_days is None else issue + datetime.timedelta(days=renewal_days)
    card = CardValidity(issue, renewal)
    now = taipei(issue).astimezone(datetime.UTC) + datetime.timedelta(days=age_days)
    for make in (lambda: first_period(card, now=now), lambda: reissue_period(card, 0, now=now)):
        try:
            period = make()
        except ValidityError as exc:
            assert exc.code in {Refusal.CARD_EXPIRED, Refusal.NEW_CARD_NEEDED}
            continue
        assert period.not_before < period.not_after
        assert now < period.not_after
        if renewal is not None:
            assert period.not_after < taipei(renewal)
        assert period.not_after < taipei(add_years(issue, 10))
        assert period.not_after - period.not_before <= datetime.timedelta(days=5 * 366)
