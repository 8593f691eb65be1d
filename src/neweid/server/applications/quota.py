"""Daily quotas of out-of-district online pickups per office (MGMT-2), never oversold.

A place is taken by one conditional UPDATE (``used = used + 1 WHERE used < capacity``): the database
serialises concurrent updates of the row, and whoever finds it full is told so, with other days and
offices that still have room. A CHECK constraint (``used <= capacity``) backs this up.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from neweid.server.accounts.access import has_capability
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.applications.errors import ApplicationErrorCode, ApplicationRefusedError, QuotaSlot
from neweid.server.applications.models import OfficeDailyQuota
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.errors import AccessDeniedError

ALTERNATIVE_DAYS = 14  # how far ahead alternatives are looked for
MAX_ALTERNATIVES = 10
MAX_QUOTA_DAYS = 366


def reserve_place(office_id: int, day: date) -> bool:
    """Take one place; False when the office has no quota that day or it is used up."""
    taken = (OfficeDailyQuota.objects.filter(office_id=office_id, day=day, used__lt=F("capacity"))
             .update(used=F("used") + 1))
    return taken == 1


def release_place(office_id: int, day: date) -> None:
    """Give a place back (a cancelled application)."""
    OfficeDailyQuota.objects.filter(office_id=office_id, day=day, used__gt=0).update(used=F("used") - 1)


def availability(offices: Iterable[Office], first_day: date, days: int = 1) -> list[QuotaSlot]:
    """The remaining places of ``offices`` from ``first_day`` for ``days`` days (days without a quota
    are left out: no out-of-district pickups are offered on them)."""
    rows = (OfficeDailyQuota.objects
            .filter(office__in=list(offices), day__gte=first_day, day__lt=first_day + timedelta(days=days))
            .order_by("day", "office__code")
            .values_list("office__code", "day", "capacity", "used"))
    return [QuotaSlot(code, day, capacity - used) for code, day, capacity, used in rows]


def alternatives(office: Office, day: date, *, today: date) -> tuple[QuotaSlot, ...]:
    """Places still free: the same office on other days, then other offices of the same city/county on
    the wanted day and the days after (at most :data:`MAX_ALTERNATIVES`)."""
    start = max(today, day - timedelta(days=ALTERNATIVE_DAYS // 2))
    same_office = [s for s in availability([office], start, ALTERNATIVE_DAYS) if s.remaining > 0
                   and s.day != day]
    same_office.sort(key=lambda s: (abs((s.day - day).days), s.day))
    county = Office.objects.filter(county_code=office.county_code, active=True).exclude(pk=office.pk)
    nearby = [s for s in availability(county, day, ALTERNATIVE_DAYS // 2) if s.remaining > 0]
    return tuple((same_office + nearby)[:MAX_ALTERNATIVES])


def _may_manage(user: Any, office: Office) -> bool:
    if has_capability(user, Capability.MANAGE_OFFICES):
        return True
    profile = getattr(user, "staff_profile", None)
    return (has_capability(user, Capability.APPROVE_REQUESTS) and profile is not None
            and profile.office_id == office.pk)


def do_set_quota(office: Office, first_day: date, capacity: int, *, days: int = 1,
                 acting_user: Any) -> int:
    """Set the office's capacity for ``days`` days from ``first_day`` (its supervisor or an MOI
    administrator); a capacity below the places already taken is refused. Returns the days set."""
    with audited_action("applications.set_quota", actor=actor_id(acting_user), object_type="office",
                        object_id=office.code,
                        extra={"first_day": first_day.isoformat(), "days": days, "capacity": capacity}):
        if not _may_manage(acting_user, office):
            raise AccessDeniedError()
        if capacity < 0 or not 1 <= days <= MAX_QUOTA_DAYS:
            raise ApplicationRefusedError(ApplicationErrorCode.BAD_QUOTA)
        wanted = [first_day + timedelta(days=i) for i in range(days)]
        OfficeDailyQuota.objects.bulk_create([OfficeDailyQuota(office=office, day=d, capacity=capacity)
                                              for d in wanted], ignore_conflicts=True)
        rows = OfficeDailyQuota.objects.filter(office=office, day__in=wanted)
        taken = list(rows.select_for_update().values_list("used", flat=True))
        if any(used > capacity for used in taken):
            raise ApplicationRefusedError(ApplicationErrorCode.BAD_QUOTA,
                                          _("More places are already taken than the new capacity."))
        return rows.update(capacity=capacity)
