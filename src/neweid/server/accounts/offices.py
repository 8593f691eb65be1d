"""One household registration office (戶政事務所) per township, for all 368 townships at once.

Every township of :func:`neweid.population.data.townships` that has no office yet gets one, with the code
``<township code>01`` and names like the demo offices' ("臺北市中正區戶政事務所", "Zhongzheng District
Household Registration Office, Taipei"). A township that has an office already (whatever its code) is
left alone, so running it again changes nothing. Set-based: two reads and one bulk insert; one audit
entry per run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from neweid.population.data import County, Township, counties, townships
from neweid.server.accounts.access import require
from neweid.server.accounts.actions import OfficeSpec
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Capability
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action, record

#: The six special municipalities: "Taipei City" reads "Taipei" in an office's English name.
MUNICIPALITIES = frozenset({"63000", "64000", "65000", "66000", "67000", "68000"})
#: The audit log's actor for runs from the command line without a staff account.
CLI_ACTOR = "cli"
FUNCTION = "accounts.generate_township_offices"


def _county_name_en(county: County) -> str:
    if county.code in MUNICIPALITIES and county.name_en.endswith(" City"):
        return county.name_en.removesuffix(" City")
    return county.name_en


def township_office_spec(township: Township) -> OfficeSpec:
    """The generated office of ``township``: code, zh and en names."""
    county = counties()[township.county_code]
    return OfficeSpec(code=f"{township.code}01", name_zh=f"{county.name_zh}{township.name_zh}戶政事務所",
                      name_en=f"{township.name_en} Household Registration Office, {_county_name_en(county)}",
                      township_code=township.code)


def township_office_specs() -> tuple[OfficeSpec, ...]:
    """One office per township, in township code order (368)."""
    return tuple(township_office_spec(t) for t in sorted(townships().values(), key=lambda t: t.code))


def _missing(specs: Iterable[OfficeSpec]) -> list[OfficeSpec]:
    covered = set(Office.objects.values_list("township_code", flat=True).distinct())
    taken = set(Office.objects.values_list("code", flat=True))
    return [s for s in specs if s.township_code not in covered and s.code not in taken]


def create_township_offices_unaudited() -> int:
    """Create the offices of the townships without one (no audit entry: the caller writes it); returns how
    many were created."""
    missing = _missing(township_office_specs())
    county_of = {code: t.county_code for code, t in townships().items()}
    Office.objects.bulk_create(
        [Office(code=s.code, name_zh=s.name_zh, name_en=s.name_en, county_code=county_of[s.township_code],
                township_code=s.township_code) for s in missing], batch_size=1_000)
    return len(missing)


def bootstrap_township_offices(*, actor: str = CLI_ACTOR) -> int:
    """For bootstrapping (``neweid offices generate`` without a staff account, demo data): create the
    missing offices with one audit entry (none when nothing was missing)."""
    with transaction.atomic():
        created = create_township_offices_unaudited()
        if created:
            record(FUNCTION, actor=actor, object_type="office", extra={"created": created})
    return created


def do_create_township_offices(*, acting_user: Any) -> int:
    """An MOI administrator creates the missing township offices (one audit entry); returns the count."""
    with audited_action(FUNCTION, actor=actor_id(acting_user), object_type="office") as audit:
        require(acting_user, Capability.MANAGE_OFFICES)
        created = create_township_offices_unaudited()
        audit.extra["created"] = created
        return created
