"""Daily statistics per office (MGMT-13, Ch.11 參.四): the nationwide replacement statistics table.

Two set-based aggregations, each one ``GROUP BY`` query whatever the number of rows: applications taken
per day, office, kind and status; card state changes per day, pickup office and new state (from the card
history). Days are Taipei days. Who sees what: office staff their office, city/county officers their
city/county, MOI the whole country. Before closing, each office reports the day's table to the city/county
and MOI (:func:`do_report_day`); these figures are kept apart from the monthly household registration
statistics (they are counted in no other table).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from neweid.server.accounts.access import capabilities_of, require
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.applications.models import Application
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.cards.models import CardEvent
from neweid.server.errors import AccessDeniedError, ValidationFailedError
from neweid.server.operations.errors import OutOfScopeError
from neweid.server.operations.models import DailyReport
from neweid.server.operations.rules import TAIPEI
from neweid.server.operations.staff import staff_office

Clock = Callable[[], datetime.datetime]
MAX_DAYS = 366


@dataclass(frozen=True)
class Scope:
    """What the statistics cover: one office, one city/county, or (both None) the whole country."""

    office_code: str | None = None
    county_code: str | None = None


@dataclass(frozen=True)
class ApplicationRow:
    day: datetime.date
    office_code: str
    kind: str
    status: str
    count: int


@dataclass(frozen=True)
class CardRow:
    day: datetime.date
    office_code: str
    state: str
    count: int


@dataclass(frozen=True)
class DailyStatistics:
    scope: Scope
    first_day: datetime.date
    last_day: datetime.date
    applications: tuple[ApplicationRow, ...]
    cards: tuple[CardRow, ...]


def resolve_scope(acting_user: Any, *, office_code: str | None = None,
                  county_code: str | None = None) -> Scope:
    """The scope asked for, if the user's role allows it (national ⊃ county ⊃ office)."""
    capabilities = capabilities_of(acting_user)
    if getattr(acting_user, "staff_profile", None) is None or not capabilities & {
            Capability.VIEW_OFFICE_REPORTS, Capability.VIEW_COUNTY_REPORTS, Capability.VIEW_NATIONAL_REPORTS}:
        raise AccessDeniedError()
    own: Office | None = acting_user.staff_profile.office
    if Capability.VIEW_NATIONAL_REPORTS in capabilities:
        return Scope(office_code, county_code)
    target_county = county_code
    if office_code is not None:
        office = Office.objects.filter(code=office_code).first()
        if office is None:
            raise OutOfScopeError()
        target_county = office.county_code
    if Capability.VIEW_COUNTY_REPORTS in capabilities:
        if target_county is None:
            target_county = own.county_code if own is not None else None
        if target_county is None or (own is not None and own.county_code != target_county):
            raise OutOfScopeError()
        return Scope(office_code, target_county)
    if own is None or office_code not in (None, own.code) or county_code is not None:
        raise OutOfScopeError()
    return Scope(own.code, None)


def _utc_bounds(first_day: datetime.date,
                last_day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(first_day, datetime.time.min, tzinfo=TAIPEI)
    end = datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=TAIPEI)
    return start, end


def _office_filter(prefix: str, scope: Scope) -> Q:
    condition = Q()
    if scope.office_code is not None:
        condition &= Q(**{f"{prefix}__code": scope.office_code})
    if scope.county_code is not None:
        condition &= Q(**{f"{prefix}__county_code": scope.county_code})
    return condition


def application_counts(scope: Scope, first_day: datetime.date, last_day: datetime.date) -> QuerySet[Any]:
    start, end = _utc_bounds(first_day, last_day)
    return (Application.objects.filter(_office_filter("office", scope), submitted_at__gte=start,
                                       submitted_at__lt=end)
            .annotate(day=TruncDate("submitted_at", tzinfo=TAIPEI))
            .values("day", "office__code", "kind", "status").annotate(n=Count("id"))
            .order_by("day", "office__code", "kind", "status"))


def card_counts(scope: Scope, first_day: datetime.date, last_day: datetime.date) -> QuerySet[Any]:
    start, end = _utc_bounds(first_day, last_day)
    return (CardEvent.objects.filter(_office_filter("card__pickup_office", scope), at__gte=start, at__lt=end)
            .annotate(day=TruncDate("at", tzinfo=TAIPEI))
            .values("day", "card__pickup_office__code", "to_state").annotate(n=Count("id"))
            .order_by("day", "card__pickup_office__code", "to_state"))


def daily_statistics(*, acting_user: Any, first_day: datetime.date, last_day: datetime.date | None = None,
                     office_code: str | None = None, county_code: str | None = None) -> DailyStatistics:
    """Applications and card state changes per day and office within the user's scope."""
    last = last_day if last_day is not None else first_day
    if last < first_day or (last - first_day).days >= MAX_DAYS:
        raise ValidationFailedError()
    scope = resolve_scope(acting_user, office_code=office_code, county_code=county_code)
    applications = tuple(ApplicationRow(row["day"], row["office__code"], row["kind"], row["status"], row["n"])
                         for row in application_counts(scope, first_day, last))
    cards = tuple(CardRow(row["day"], row["card__pickup_office__code"], row["to_state"], row["n"])
                  for row in card_counts(scope, first_day, last))
    return DailyStatistics(scope, first_day, last, applications, cards)


def figures(statistics: DailyStatistics) -> dict[str, Any]:
    """The table as JSON: {"applications": {kind: {status: n}}, "cards": {state: n}} (summed over days)."""
    applications: dict[str, dict[str, int]] = {}
    for a in statistics.applications:
        by_status = applications.setdefault(a.kind, {})
        by_status[a.status] = by_status.get(a.status, 0) + a.count
    cards: dict[str, int] = {}
    for c in statistics.cards:
        cards[c.state] = cards.get(c.state, 0) + c.count
    return {"applications": applications, "cards": cards}


def do_report_day(day: datetime.date, *, acting_user: Any, now: Clock = timezone.now) -> DailyReport:
    """The office reports the day's table to the city/county and MOI (again later the same day: replaced)."""
    with audited_action("operations.statistics.report_day", actor=actor_id(acting_user),
                        object_type="daily_report", extra={"day": day.isoformat()}) as audit:
        office = staff_office(acting_user, Capability.VIEW_OFFICE_REPORTS)
        require(acting_user, Capability.OPERATE_CASES)
        table = daily_statistics(acting_user=acting_user, first_day=day, office_code=office.code)
        report, _created = DailyReport.objects.update_or_create(
            office=office, day=day,
            defaults={"county_code": office.county_code, "figures": figures(table), "reported_at": now(),
                      "reported_by_staff": actor_id(acting_user)})
        audit.object_id = str(report.pk)
        return report


def reports(*, acting_user: Any, day: datetime.date, county_code: str | None = None) -> list[DailyReport]:
    """The offices' reports of a day as the city/county or MOI receives them."""
    scope = resolve_scope(acting_user, county_code=county_code)
    query = DailyReport.objects.filter(day=day).select_related("office")
    if scope.office_code is not None:
        query = query.filter(office__code=scope.office_code)
    if scope.county_code is not None:
        query = query.filter(county_code=scope.county_code)
    return list(query.order_by("office__code"))
