"""The demo data of `neweid serve`: a population in the demo offices' townships, cases in every state, made
once (idempotent), and every menu page of the demo accounts shows some of it."""

from __future__ import annotations

import base64
from collections import Counter

import pytest
from django.test import Client
from django_otp.oath import TOTP

from neweid.server.accounts.demo import (
    CARD_PLAN,
    DEMO_APPLICATIONS,
    DEMO_OFFICES,
    DEMO_PEOPLE,
    DemoAccount,
    demo_hints,
    demo_villages,
    ensure_demo_data,
)
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Application, Status
from neweid.server.audit.models import AuditEntry
from neweid.server.audit.verify import verify_chain
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState
from neweid.server.operations.models import Recall, RecallStatus, TemporaryCertificate
from neweid.server.registry.models import Household, Person

pytestmark = pytest.mark.django_db

STATES = {"shipped": CardState.SHIPPED, "received": CardState.RECEIVED, "passed": CardState.QC_PASSED,
          "notified": CardState.NOTIFIED, "issued": CardState.ISSUED}


@pytest.fixture
def accounts() -> dict[Role, DemoAccount]:
    return {account.role: account for account in ensure_demo_data()}


def _client(account: DemoAccount) -> Client:
    assert account.password is not None and account.totp_secret is not None
    key = base64.b32decode(account.totp_secret + "=" * (-len(account.totp_secret) % 8))
    client = Client()
    response = client.post("/login/", {"username": account.username, "password": account.password,
                                       "otp_token": f"{TOTP(key).token():06d}"})
    assert response.status_code == 302
    return client


def _snapshot() -> tuple[int, ...]:
    return (Person.objects.count(), Household.objects.count(), Application.objects.count(),
            Card.objects.count(), TemporaryCertificate.objects.count(), Recall.objects.count(),
            AuditEntry.objects.count())


def test_population_lives_in_the_demo_townships(accounts: dict[Role, DemoAccount]) -> None:
    codes = {v.code for v in demo_villages()}
    assert {code[:8] for code in codes} == {spec.township_code for spec in DEMO_OFFICES}
    assert Person.objects.count() == DEMO_PEOPLE
    households = Household.objects.all()
    assert {h.village_code for h in households} <= codes
    assert all(h.household_number[0] in "AG" for h in households)  # Taipei City, Yilan County
    assert all(h.address.startswith(("臺北市中正區", "臺北市松山區", "宜蘭縣宜蘭市")) for h in households)


def test_cases_are_in_every_state(accounts: dict[Role, DemoAccount]) -> None:
    office = DEMO_OFFICES[0].code
    statuses = Counter(Application.objects.filter(office__code=office).values_list("status", flat=True))
    produced = sum(CARD_PLAN.values())
    assert sum(statuses.values()) == DEMO_APPLICATIONS
    assert statuses[Status.SUBMITTED] == DEMO_APPLICATIONS - produced
    assert statuses[Status.COMPLETED] == CARD_PLAN["issued"]
    assert statuses[Status.BATCHED] == produced - CARD_PLAN["issued"]
    states = Counter(Card.objects.filter(pickup_office__code=office).values_list("state", flat=True))
    assert states == {STATES[step]: count for step, count in CARD_PLAN.items()}
    assert TemporaryCertificate.objects.filter(office__code=office).count() == 1
    recall = Recall.objects.get()
    assert recall.status == RecallStatus.PENDING
    assert recall.card_count == produced - CARD_PLAN["shipped"]
    assert verify_chain().ok


def test_demo_data_is_idempotent(accounts: dict[Role, DemoAccount]) -> None:
    before = _snapshot()
    again = ensure_demo_data()
    assert all(account.password is None for account in again)
    assert _snapshot() == before


def test_without_population_only_accounts_are_made() -> None:
    ensure_demo_data(population=False)
    assert Person.objects.count() == 0
    assert Application.objects.count() == 0


def test_hints_name_what_to_try(accounts: dict[Role, DemoAccount]) -> None:
    hints = demo_hints()
    assert hints.people == DEMO_PEOPLE
    assert len(hints.to_receive) == CARD_PLAN["shipped"]
    assert len(hints.to_check) == CARD_PLAN["received"]
    assert len(hints.to_notify) == CARD_PLAN["passed"]
    assert len(hints.to_issue) == CARD_PLAN["notified"]
    assert len(hints.card_holders) == CARD_PLAN["issued"]
    assert hints.find_citizen and hints.open_applications
    text = "\n".join(hints.lines())
    assert hints.to_issue[0] in text and hints.card_holders[0] in text


def test_console_pages_show_the_demo_data(accounts: dict[Role, DemoAccount]) -> None:
    hints = demo_hints()
    clerk = _client(accounts[Role.OFFICE_CLERK])
    receive = clerk.get("/cards/receive/").content.decode()
    for serial in hints.to_receive + hints.to_check + hints.to_notify:
        assert serial in receive
    found = clerk.get("/applications/find/", {"id_number": hints.find_citizen[0]})
    assert found.status_code == 200
    assert hints.find_citizen[0] in found.content.decode()
    day = Card.objects.select_related("batch").first().batch.production_date  # type: ignore[union-attr]
    statistics = clerk.get("/api/statistics/daily", {"first_day": day.isoformat()})
    assert statistics.status_code == 200
    assert statistics.json()["cards"]
    assert "Demo: chip firmware check" in _client(accounts[Role.MOI_ADMIN]).get("/recalls/").content.decode()
    assert "稽核軌跡鏈完整" in _client(accounts[Role.AUDITOR]).get("/audit/").content.decode()
    assert "demo_office_clerk" in _client(accounts[Role.ROLE_ADMIN]).get("/staff/").content.decode()


def test_a_demo_card_can_be_issued_in_the_console(accounts: dict[Role, DemoAccount]) -> None:
    serial = demo_hints().to_issue[0]
    clerk = _client(accounts[Role.OFFICE_CLERK])
    response = clerk.post("/cards/issue/", {"serial": serial, "documents_checked": "on", "collector": "self",
                                            "stub_signed": "on"})
    assert response.status_code == 200, response.content.decode()[:2000]
    assert Card.objects.get(serial=serial).state == CardState.ISSUED
