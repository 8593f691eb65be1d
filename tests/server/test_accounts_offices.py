"""One household registration office per township: set-based, idempotent, one audit entry, and the
`neweid offices generate` command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from neweid.cli import offices as offices_cli
from neweid.population.data import townships
from neweid.server.accounts.actions import OfficeSpec, create_office_unaudited
from neweid.server.accounts.models import Office
from neweid.server.accounts.offices import (
    CLI_ACTOR,
    FUNCTION,
    bootstrap_township_offices,
    do_create_township_offices,
    township_office_specs,
)
from neweid.server.accounts.roles import Role
from neweid.server.audit.models import AuditEntry
from neweid.server.errors import AccessDeniedError
from tests.server.conftest import StaffAccount

pytestmark = pytest.mark.django_db


def test_one_office_per_township_named_like_the_demo_offices() -> None:
    specs = township_office_specs()
    assert len(specs) == len(townships()) == 368
    assert len({s.code for s in specs}) == 368 and len({s.township_code for s in specs}) == 368
    by_township = {s.township_code: s for s in specs}
    assert by_township["10002010"] == OfficeSpec("1000201001", "宜蘭縣宜蘭市戶政事務所",
                                                 "Yilan City Household Registration Office, Yilan County",
                                                 "10002010")
    taipei = by_township["63000050"]
    assert (taipei.name_zh, taipei.name_en) == (
        "臺北市中正區戶政事務所", "Zhongzheng District Household Registration Office, Taipei")
    assert by_township["10018010"].name_en.endswith(", Hsinchu City")  # not a municipality: kept apart
    assert all(s.code.startswith(s.township_code) and len(s.code) == 10 for s in specs)


def test_bootstrap_creates_the_missing_offices_once(django_assert_max_num_queries: Any) -> None:
    existing = create_office_unaudited(OfficeSpec("6300500001", "臺北市中正區戶政事務所", "Zhongzheng",
                                                  "63000050"))
    with django_assert_max_num_queries(12):  # set-based: not one query per office
        assert bootstrap_township_offices() == 367
    assert Office.objects.count() == 368
    assert set(Office.objects.values_list("township_code", flat=True)) == set(townships())
    assert Office.objects.filter(township_code="63000050").get() == existing  # its township is covered
    office = Office.objects.get(code="1000201001")
    assert (office.county_code, office.township_code, office.active) == ("10002", "10002010", True)
    assert bootstrap_township_offices() == 0  # idempotent
    entries = AuditEntry.objects.filter(function=FUNCTION)
    assert entries.count() == 1  # one per run that made offices
    assert entries.get().actor == CLI_ACTOR and entries.get().extra == {"created": 367}


def test_only_office_managers_generate_offices(make_staff: Callable[..., StaffAccount]) -> None:
    clerk = make_staff(Role.OFFICE_CLERK)  # its office (the `office` fixture) covers Zhongzheng
    with pytest.raises(AccessDeniedError):
        do_create_township_offices(acting_user=clerk.user)
    assert Office.objects.count() == 1
    admin = make_staff(Role.MOI_ADMIN)
    assert do_create_township_offices(acting_user=admin.user) == 367
    assert do_create_township_offices(acting_user=admin.user) == 0
    entries = AuditEntry.objects.filter(function=FUNCTION).order_by("seq")
    results = list(entries.values_list("result", "extra"))
    assert results == [("denied", {}), ("success", {"created": 367}), ("success", {"created": 0})]


def test_cli_generate(make_staff: Callable[..., StaffAccount]) -> None:
    runner = CliRunner()
    result = runner.invoke(offices_cli.app, ["generate"])
    assert result.exit_code == 0, result.output
    assert "367 office(s) created; 368 in all" in result.output  # the `office` fixture covers one
    admin = make_staff(Role.MOI_ADMIN)
    again = runner.invoke(offices_cli.app, ["generate", "--by", admin.username])
    assert again.exit_code == 0 and "0 office(s) created; 368 in all" in again.output
    unknown = runner.invoke(offices_cli.app, ["generate", "--by", "nobody-here"])
    assert unknown.exit_code == 1 and "no active staff account" in unknown.output
