"""The applications API: multipart submission, get/list, verify, cancel, quota (409 with alternatives),
schedules and letters; staff session auth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from neweid.server.accounts.roles import Role
from neweid.server.applications import api as applications_api
from neweid.server.applications.models import Application, OfficeDailyQuota
from neweid.server.registry.simulated import SimulatedRegistry
from neweid.server.registry.values import PersonStatus
from tests.server.conftest import StaffAccount, sign_in
from tests.server.test_applications_support import (
    HOME_VILLAGE,
    OTHER_VILLAGE,
    make_household,
    make_person,
    png,
)
from tests.server.test_applications_support import jpeg as make_jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_client(client: Client, make_staff: Callable[..., StaffAccount]) -> Client:
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    return client


def photo(data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", make_jpeg() if data is None else data, content_type="image/jpeg")


def post(client: Client, **fields: Any) -> Any:
    body = {"channel": "counter", "kind": "nationwide_replacement", "photo": photo(), **fields}
    return client.post("/api/applications/", body)


def test_schema_lists_the_endpoints(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])
    assert {"/api/applications/", "/api/applications/{application_id}", "/api/applications/quota",
            "/api/applications/{application_id}/verify", "/api/applications/schedules"} <= paths


def test_signed_out_is_refused(client: Client) -> None:
    response = post(client, id_number=make_person().id_number)
    assert response.status_code == 401 and response.json()["code"] == "E401"
    assert client.get("/api/applications/").status_code == 401


def test_submit_get_list_verify(clerk_client: Client) -> None:
    person = make_person()
    response = post(clerk_client, id_number=person.id_number, certificate_opt_in="false",
                    contact_email="a@example.tw")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id_number"] == person.id_number and body["status"] == "submitted"
    assert body["certificate_opt_in"] is False and body["certificate_refusal"] == "declined"
    application_date = dt.date.fromisoformat(body["application_date"])
    assert body["renewal_date"] == application_date.replace(year=application_date.year + 10).isoformat()
    got = clerk_client.get(f"/api/applications/{body['id']}").json()
    assert got == body
    listed = clerk_client.get("/api/applications/?status=submitted").json()
    assert [a["id"] for a in listed] == [body["id"]]
    assert clerk_client.get("/api/applications/?status=verified").json() == []
    verified = clerk_client.post(f"/api/applications/{body['id']}/verify")
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    again = clerk_client.post(f"/api/applications/{body['id']}/verify")
    assert again.status_code == 409 and again.json()["code"] == "P501"


def test_rule_refusal_shows_its_code(clerk_client: Client) -> None:
    response = post(clerk_client, id_number=make_person(status=PersonStatus.MISSING).id_number)
    assert response.status_code == 422
    assert response.json()["code"] == "P110" and response.json()["message"]


def test_photo_refusals(clerk_client: Client) -> None:
    person = make_person()
    response = post(clerk_client, id_number=person.id_number, photo=photo(png()))
    assert response.status_code == 422 and response.json()["code"] == "P201"
    response = post(clerk_client, id_number=person.id_number, photo=photo(make_jpeg(800, 1000)))
    assert response.json()["code"] == "P203"
    big = make_jpeg() + b"\0" * (5 * 1024 * 1024)
    response = post(clerk_client, id_number=person.id_number, photo=photo(big))
    assert response.status_code == 422 and response.json()["code"] == "P202"
    assert Application.objects.count() == 0


def test_missing_photo_is_a_validation_error(clerk_client: Client) -> None:
    response = clerk_client.post("/api/applications/", {"id_number": make_person().id_number,
                                                         "channel": "counter", "kind": "first_issuance"})
    assert response.status_code == 422 and response.json()["code"] == "E422"


def test_quota_full_answers_409_with_alternatives(clerk_client: Client, office: Any) -> None:
    pickup = dt.date(2027, 1, 10)
    OfficeDailyQuota.objects.create(office=office, day=pickup, capacity=0)
    OfficeDailyQuota.objects.create(office=office, day=pickup + timedelta(days=1), capacity=2)
    outsider = make_person(make_household(OTHER_VILLAGE))
    response = post(clerk_client, id_number=outsider.id_number, channel="online", pickup_office=office.code,
                    pickup_date=pickup.isoformat())
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "P301"
    assert body["alternatives"] == [{"office": office.code, "day": "2027-01-11", "remaining": 2}]


def test_quota_availability_and_setting(client: Client, make_staff: Callable[..., StaffAccount],
                                        office: Any) -> None:
    sign_in(client, make_staff(Role.OFFICE_SUPERVISOR))
    body = {"office": office.code, "first_day": "2027-01-10", "capacity": 25, "days": 3}
    response = client.put("/api/applications/quota", body, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"count": 3}
    slots = client.get("/api/applications/quota?first_day=2027-01-09&days=5").json()
    assert [(s["day"], s["remaining"]) for s in slots] == [("2027-01-10", 25), ("2027-01-11", 25),
                                                            ("2027-01-12", 25)]
    assert OfficeDailyQuota.objects.count() == 3


def test_clerk_cannot_set_quota(clerk_client: Client, office: Any) -> None:
    response = clerk_client.put("/api/applications/quota", {"office": office.code, "first_day": "2027-01-10",
                                                            "capacity": 25}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "E403"


def test_other_office_sees_nothing(clerk_client: Client, make_staff: Callable[..., StaffAccount],
                                   other_office: Any) -> None:
    created = post(clerk_client, id_number=make_person().id_number).json()
    stranger = make_staff(Role.OFFICE_CLERK)
    stranger.user.staff_profile.office = other_office
    stranger.user.staff_profile.save()
    other = Client()
    sign_in(other, stranger, ip="10.0.0.2")
    assert other.get(f"/api/applications/{created['id']}").status_code == 404
    assert other.get("/api/applications/").json() == []
    assert other.post(f"/api/applications/{created['id']}/cancel").status_code == 404


def test_cancel(clerk_client: Client) -> None:
    created = post(clerk_client, id_number=make_person().id_number).json()
    response = clerk_client.post(f"/api/applications/{created['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_verify_many(clerk_client: Client) -> None:
    ids = [post(clerk_client, id_number=make_person().id_number).json()["id"] for _ in range(3)]
    response = clerk_client.post("/api/applications/verify", {"ids": ids}, content_type="application/json")
    assert response.json() == {"count": 3}


def test_schedule_letters_and_qr(clerk_client: Client) -> None:
    make_person(make_household(HOME_VILLAGE, 7))
    today = timezone.localdate()
    day = (today + timedelta(days=30)).isoformat()
    created = clerk_client.post("/api/applications/schedules", {"village_code": HOME_VILLAGE,
                                                                "neighbourhood": 7, "day": day,
                                                                "location": "活動中心"},
                                content_type="application/json")
    assert created.status_code == 201, created.content
    schedule_id = created.json()["id"]
    generated = clerk_client.post(f"/api/applications/schedules/{schedule_id}/letters")
    assert generated.json()["letters"] == 1
    letters = clerk_client.get(f"/api/applications/schedules/{schedule_id}/letters").json()
    assert len(letters) == 1 and letters[0]["people"] == 1 and "?letter=" in letters[0]["url"]
    qr = clerk_client.get(f"/api/applications/letters/{letters[0]['id']}/qr.png")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"
    assert qr.content.startswith(b"\x89PNG")
    too_soon = clerk_client.post("/api/applications/schedules", {
        "village_code": HOME_VILLAGE, "day": (today + timedelta(days=3)).isoformat(),
        "location": "x"}, content_type="application/json")
    assert too_soon.status_code == 422 and too_soon.json()["code"] == "P401"


def test_registry_outage_is_e503(clerk_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    down = SimulatedRegistry()
    down.faults.go_down()
    monkeypatch.setattr(applications_api, "registry_factory", lambda: down)
    response = post(clerk_client, id_number=make_person().id_number)
    assert response.status_code == 503 and response.json()["code"] == "E503"
