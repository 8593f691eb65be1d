"""The operations API and console pages: loss, temporary certificates, chip updates, voiding, recalls,
statistics."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path

from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Status
from neweid.server.cards.ca import SimulatedCitizenCa
from neweid.server.cards.states import CardState
from neweid.server.operations.models import TemporaryCertificate
from neweid.server.urls import urlpatterns as project_urlpatterns
from tests.server.conftest import StaffAccount, sign_in
from tests.server.test_operations_support import make_application, make_card, make_family, make_person

# The console pages of this app, mounted as the project will mount them (at /operations/).
urlpatterns = [path("operations/", include("neweid.server.operations.urls")), *project_urlpatterns]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def ca(monkeypatch: pytest.MonkeyPatch) -> SimulatedCitizenCa:
    simulated = SimulatedCitizenCa()
    for module in ("loss", "voiding"):
        monkeypatch.setattr(f"neweid.server.operations.{module}.get_citizen_ca", lambda: simulated)
    return simulated


@pytest.fixture(autouse=True)
def office_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite may run at night: offices answer the phone in these tests."""
    monkeypatch.setattr("neweid.server.operations.rules.OfficeHours.are_open", lambda self, at: True)


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_openapi_lists_the_operations_endpoints(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {"/api/loss/reports", "/api/loss/revocations", "/api/temporary-certificates/",
            "/api/temporary-certificates/verification/{serial}", "/api/chip-updates/",
            "/api/voiding/requests",
            "/api/voiding/lists", "/api/recalls/", "/api/recalls/{recall_id}/progress",
            "/api/statistics/daily", "/api/statistics/daily-reports"} <= paths


def test_loss_api(client: Client, make_staff: Callable[..., StaffAccount], office: Office) -> None:
    person = make_person()
    card = make_card(person, office)
    assert _post(client, "/api/loss/reports", {"id_number": person.id_number, "channel": "counter"}
                 ).status_code == 401
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    response = _post(client, "/api/loss/reports", {"id_number": person.id_number, "channel": "counter"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["card_serial"], body["status"], body["office"]) == (card.serial, "active", office.code)
    again = _post(client, "/api/loss/reports", {"id_number": person.id_number, "channel": "counter"})
    assert again.status_code == 409 and again.json()["code"] == "O103"
    online = _post(client, "/api/loss/revocations", {"id_number": person.id_number, "channel": "online"})
    assert online.status_code == 422  # the citizen site's channel, not the staff API's
    revoked = _post(client, "/api/loss/revocations", {"id_number": person.id_number, "channel": "phone"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    bad = _post(client, "/api/loss/reports", {"id_number": "A123456788", "channel": "counter"})
    assert bad.status_code == 422


def test_temporary_certificate_api_and_public_verification(client: Client, office: Office,
                                                           make_staff: Callable[..., StaffAccount]) -> None:
    application = make_application(make_person(), office, status=Status.SUBMITTED)
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    response = _post(client, "/api/temporary-certificates/", {"application_id": application.pk, "days": 10})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status_url"].startswith("http://testserver/api/temporary-certificates/status/")
    assert body["record_url"] == f"/operations/temporary-certificates/{body['id']}/"
    anonymous = Client()
    verified = anonymous.get(f"/api/temporary-certificates/verification/{body['serial']}").json()
    assert verified["state"] == "valid" and verified["office"] == office.code
    assert "name" not in verified and "id_number" not in verified  # no personal data in public answers
    assert anonymous.get(body["status_url"]).json() == {"progress": "received"}
    assert anonymous.get("/api/temporary-certificates/verification/XXXX").json()["state"] == "unknown"


def test_chip_update_and_voiding_api(client: Client, office: Office,
                                     make_staff: Callable[..., StaffAccount]) -> None:
    card = make_card(make_person(), office)
    qc_card = make_card(make_person(), office, state=CardState.QC_PASSED)
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    face = _post(client, "/api/chip-updates/", {"card_id": card.pk, "fields": ["name"]})
    assert face.status_code == 422 and face.json()["code"] == "O201"
    voiding = _post(client, "/api/voiding/requests", {"card_ids": [qc_card.pk], "reason": "dead"})
    assert voiding.status_code == 201 and voiding.json()["approval_id"] is not None
    nothing = _post(client, "/api/voiding/lists", {"kind": "central_destruction"})
    assert nothing.status_code == 409 and nothing.json()["code"] == "O403"


def test_statistics_and_recall_api(client: Client, office: Office,
                                   make_staff: Callable[..., StaffAccount]) -> None:
    make_application(make_person(), office, status=Status.SUBMITTED)
    card = make_card(make_person(), office, serial="QQ0000001")
    sign_in(client, make_staff(Role.MOI_ADMIN))
    table = client.get("/api/statistics/daily", {"first_day": "2026-10-01"}).json()
    assert table["applications"][0]["office"] == office.code
    assert table["cards"][0]["state"] == "received"
    recall = _post(client, "/api/recalls/", {"title": "flaw", "reason": "lot", "remedy": "firmware_update",
                                            "serial_ranges": [["QQ0000001", "QQ0000009"]]})
    assert recall.status_code == 201 and recall.json()["cards"] == 1
    assert card.pk  # the card exists and was in scope
    assert client.get(f"/api/recalls/{recall.json()['id']}/progress").json() == []  # not approved yet


def test_console_report_loss_page(client: Client, office: Office,
                                  make_staff: Callable[..., StaffAccount]) -> None:
    father, _mother, child = make_family(date(2016, 1, 1))
    make_card(child, office)
    assert client.get("/operations/loss/").status_code == 302  # sign in first
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    assert client.get("/operations/loss/").status_code == 200
    refused = client.post("/operations/loss/", {"action": "report", "id_number": child.id_number,
                                                "channel": "counter", "reporter_id_number": ""})
    assert refused.status_code == 403 and "O101" in refused.content.decode()
    done = client.post("/operations/loss/", {"action": "report", "id_number": child.id_number,
                                             "channel": "counter", "reporter_id_number": father.id_number})
    assert done.status_code == 200 and "AB" in done.content.decode()
    invalid = client.post("/operations/loss/", {"action": "report", "id_number": "<script>", "channel": "x"})
    assert invalid.status_code == 400 and "<script>" not in invalid.content.decode().split("<form")[0]


def test_console_temporary_certificate_record(client: Client, office: Office, other_office: Office,
                                              make_staff: Callable[..., StaffAccount]) -> None:
    person = make_person()
    application = make_application(person, office, status=Status.SUBMITTED)
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    response = client.post("/operations/temporary-certificates/",
                           {"application_id": application.pk, "days": 30, "notes": "緊急用證"})
    assert response.status_code == 302
    certificate = TemporaryCertificate.objects.get()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "陳志明" in html and person.id_number in html and "緊急用證" in html
    assert "data:image/png;base64," in html  # the QR code
    assert certificate.serial[:4] in html
    TemporaryCertificate.objects.filter(pk=certificate.pk).update(office=other_office)
    assert client.get(response["Location"]).status_code == 404  # another office's record
