"""The cards API (/api/cards/...) and the console pages "receive and check cards" and "issue a card"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path

from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.cards import api
from neweid.server.cards.issuance import check_user_code
from neweid.server.cards.models import Card, PickupConfirmation
from neweid.server.cards.states import CardState
from neweid.server.urls import urlpatterns as root_urlpatterns
from tests.server.conftest import StaffAccount, sign_in
from tests.server.test_cards_support import World, card_of, make_application, make_person, world

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]
__all__ = ["world"]

# The console pages are mounted here as the project's URL configuration should mount them (see the report).
urlpatterns = [path("cards/", include("neweid.server.cards.urls")), *root_urlpatterns]


@pytest.fixture
def signed_in(client: Client, make_staff: Callable[..., StaffAccount], world: World,
              monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setattr(api, "registry_factory", lambda: world.registry)
    monkeypatch.setattr(api, "ca_factory", lambda: world.ca)
    monkeypatch.setattr(api, "notifier_factory", lambda: world.notifier)
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    return client


def test_the_router_is_in_the_schema(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {"/api/cards/roster", "/api/cards/receive", "/api/cards/qc", "/api/cards/notify",
            "/api/cards/{serial}", "/api/cards/{serial}/history", "/api/cards/{serial}/issue"} <= paths


def test_sign_in_is_required(client: Client) -> None:
    assert client.get("/api/cards/roster").status_code == 401
    assert client.post("/api/cards/receive", {}, content_type="application/json").status_code == 401


def test_the_whole_office_flow_through_the_api(signed_in: Client, world: World, office: Office) -> None:
    applications = [make_application(make_person(), office, email="c@example.org") for _ in range(3)]
    world.produce()
    roster = signed_in.get("/api/cards/roster").json()
    assert roster["office"] == office.code and roster["count"] == 3
    serials = [c["serial"] for c in roster["cards"]]
    assert signed_in.post("/api/cards/receive", {"shipment": roster["cards"][0]["shipment"]},
                          content_type="application/json").json() == {"count": 3}
    qc = signed_in.post("/api/cards/qc", {"passed": serials[:2], "defective": {serials[2]: "chip dead"}},
                        content_type="application/json").json()
    assert qc == {"passed": 2, "defective": 1, "voided": {}, "certificates_revoked": 0}
    assert signed_in.post("/api/cards/notify", {}, content_type="application/json").json() == {"count": 2}
    response = signed_in.post(f"/api/cards/{serials[0]}/issue",
                              {"documents_checked": True, "collector": "self"},
                              content_type="application/json")
    body = response.json()
    assert response.status_code == 200 and body["state"] == "issued" and len(body["default_user_code"]) == 10
    status = signed_in.get(f"/api/cards/{serials[0]}").json()
    assert status["state"] == "issued" and status["pickup_office"] == office.code
    history = signed_in.get(f"/api/cards/{serials[0]}/history").json()
    assert [h["to_state"] for h in history] == ["ordered", "in_production", "produced", "shipped", "received",
                                                "qc_passed", "notified", "issued"]
    assert applications[0].person.id_number not in str(history) + str(status) + str(roster)


def test_errors_carry_their_codes(signed_in: Client, world: World, office: Office) -> None:
    application = make_application(make_person(), office)
    world.produce()
    serial = card_of(application).serial
    response = signed_in.post(f"/api/cards/{serial}/issue", {"documents_checked": True, "collector": "self"},
                              content_type="application/json")
    assert response.status_code == 409
    assert response.json()["code"] == "C409" and "shipped" in response.json()["message"]
    assert signed_in.get("/api/cards/ZZ0000000").json()["code"] == "C404"
    assert signed_in.get("/api/cards/not-a-serial").status_code == 404
    bad = signed_in.post("/api/cards/receive", {"serials": ["AA1234567"]}, content_type="application/json")
    assert bad.status_code == 409 and bad.json()["code"] == "C302"


def test_the_receive_page(signed_in: Client, world: World, office: Office) -> None:
    application = make_application(make_person(), office)
    world.produce()
    serial = card_of(application).serial
    page = signed_in.get("/cards/receive/")
    assert page.status_code == 200 and serial in page.content.decode()
    signed_in.post("/cards/receive/", {"action": "receive", "serials": serial})
    assert card_of(application).state == CardState.RECEIVED
    signed_in.post("/cards/receive/", {"action": "qc", "passed": serial})
    assert card_of(application).state == CardState.QC_PASSED
    signed_in.post("/cards/receive/", {"action": "notify", "serials": ""})
    assert card_of(application).state == CardState.NOTIFIED
    refused = signed_in.post("/cards/receive/", {"action": "receive", "serials": "AA1234567"})
    assert refused.status_code == 409 and "C302" in refused.content.decode()


def test_the_issue_page_shows_the_user_code_once(signed_in: Client, world: World, office: Office,
                                                 django_capture_on_commit_callbacks: Any) -> None:
    application = make_application(make_person(), office)
    world.produce()
    serial = card_of(application).serial
    for action, extra in (("receive", {"serials": serial}), ("qc", {"passed": serial}),
                          ("notify", {"serials": serial})):
        signed_in.post("/cards/receive/", {"action": action, **extra})
    refused = signed_in.post("/cards/issue/", {"serial": serial, "collector": "self", "stub_signed": "on"})
    assert refused.status_code == 422 and "C405" in refused.content.decode()
    page = signed_in.post("/cards/issue/", {"serial": serial.lower(), "collector": "self",
                                            "documents_checked": "on", "stub_signed": "on"})
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    confirmation = PickupConfirmation.objects.get(card__serial=serial)
    text = page.content.decode()
    code = next(word for word in text.replace("<", " ").replace(">", " ").split()
                if len(word) == 10 and word.isalnum() and word.isupper() and word != serial)
    assert check_user_code(code, confirmation.user_code_hash) and code not in confirmation.user_code_hash
    assert Card.objects.get(serial=serial).state == CardState.ISSUED


def test_pages_need_a_signed_in_clerk(client: Client) -> None:
    response = client.get("/cards/receive/")
    assert response.status_code == 302 and "/login/" in response["Location"]
