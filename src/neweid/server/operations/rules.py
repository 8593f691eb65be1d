"""Pure rules of card operations (no database): who may report a loss and when offices answer the phone.

Loss reporting (MGMT-10, Ch.11 肆.二(二)): at the counter the person reports in person; by phone during
office hours the person calls any office, but a legal representative may call for 14–19 year olds; outside
office hours the 1996 hotline takes the call; for a child under 14 the legal representative always acts.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from neweid.population.validity import age_on

TAIPEI = zoneinfo.ZoneInfo("Asia/Taipei")
CHILD_AGE = 14  # under 14: the legal representative acts
ADULT_AGE = 20  # 14 to under 20: a legal representative may also report by phone


@dataclass(frozen=True)
class OfficeHours:
    """Weekday office hours in Taipei time (Monday = 0)."""

    opens: datetime.time = datetime.time(8, 0)
    closes: datetime.time = datetime.time(17, 0)
    weekdays: frozenset[int] = frozenset(range(5))

    def are_open(self, at: datetime.datetime) -> bool:
        local = at.astimezone(TAIPEI)
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes


OFFICE_HOURS = OfficeHours()


class ReporterVerdict:
    """Why a reporter is refused (None from :func:`reporter_refusal` means allowed)."""

    CHILD_NEEDS_REPRESENTATIVE = "child_needs_representative"
    NOT_A_REPRESENTATIVE = "not_a_representative"
    REPRESENTATIVE_NOT_ALLOWED = "representative_not_allowed"


def reporter_refusal(*, birth: datetime.date, on: datetime.date, by_representative: bool,
                     is_parent: bool, by_phone: bool) -> str | None:
    """Whether the reporter may report the loss (or revoke it); a reason code when not.

    ``by_representative``: someone other than the person reports; ``is_parent``: that someone is the
    person's father or mother on the register (the legal representative of a minor).
    """
    age = age_on(birth, on)
    if not by_representative:
        return ReporterVerdict.CHILD_NEEDS_REPRESENTATIVE if age < CHILD_AGE else None
    if not is_parent:
        return ReporterVerdict.NOT_A_REPRESENTATIVE
    if age < CHILD_AGE:
        return None
    if age < ADULT_AGE and by_phone:
        return None
    return ReporterVerdict.REPRESENTATIVE_NOT_ALLOWED
