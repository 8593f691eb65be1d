"""Console pages: find a citizen and take an application, in zh-Hant (default) and English.

The project's URL configuration does not mount the applications pages yet, so this module is its own
URLconf: the project's URLs plus /applications/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import include, path

from neweid.server.accounts.roles import Role
from neweid.server.applications.models import Application
from neweid.server.urls import urlpatterns as project_urlpatterns
from tests.server.conftest import StaffAccount, sign_in
from tests.server.test_applications_support import jpeg, make_person, png

urlpatterns = [path("applications/", include("neweid.server.applications.urls")), *project_urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def clerk_client(client: Client, make_staff: Callable[..., StaffAccount]) -> Client:
    sign_in(client, make_staff(Role.OFFICE_CLERK))
    return client


def english(client: Client) -> Client:
    client.cookies["neweid_language"] = "en"
    return client


def test_pages_need_a_signed_in_staff_member(client: Client) -> None:
    for url in ("/applications/find/", "/applications/new/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/login/"


def test_find_a_citizen_in_zh_hant(clerk_client: Client) -> None:
    person = make_person(under_guardianship=True)
    page = clerk_client.post("/applications/find/", {"id_number": person.id_number}).content.decode()
    assert "查詢民眾資料" in page and "陳志明" in page and "現住" in page
    assert "不得申請自然人憑證" in page and "受理申請" in page


def test_find_a_citizen_in_english(clerk_client: Client) -> None:
    person = make_person()
    page = english(clerk_client).post("/applications/find/", {"id_number": person.id_number}).content.decode()
    assert "Find a citizen" in page and "Active" in page and "Take an application" in page


def test_find_an_unknown_citizen(clerk_client: Client) -> None:
    response = clerk_client.post("/applications/find/", {"id_number": "A123456789"})
    assert response.status_code == 404 and "E404" in response.content.decode()


def test_find_rejects_malformed_input(clerk_client: Client) -> None:
    response = clerk_client.post("/applications/find/", {"id_number": "<script>"})
    assert response.status_code == 200 and "<script>" not in response.content.decode()


def test_take_application_form_labels(clerk_client: Client) -> None:
    zh = clerk_client.get("/applications/new/").content.decode()
    assert "申請方式" in zh and "附加自然人憑證" in zh and "全面換證" in zh
    en = english(clerk_client).get("/applications/new/").content.decode()
    assert "Channel" in en and "Attach the citizen certificate" in en and "Nationwide replacement" in en
    assert 'value="online"' not in en  # staff take site, counter and home applications


def _form(person: Any, **extra: Any) -> dict[str, Any]:
    return {"id_number": person.id_number, "channel": "counter", "kind": "replacement",
            "replacement_reason": "photo", "applicant_role": "self", "certificate_opt_in": "on",
            "photo": SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg"), **extra}


def test_take_an_application(clerk_client: Client) -> None:
    person = make_person()
    response = clerk_client.post("/applications/new/", _form(person))
    application = Application.objects.get(person=person)
    assert response.status_code == 302 and response["Location"] == f"/applications/{application.pk}/"
    assert application.replacement_reason == "photo" and application.fee == 200
    detail = clerk_client.get(response["Location"]).content.decode()
    assert "變更相片" in detail and "NT$ 200" in detail


def test_refusal_is_shown_with_its_code(clerk_client: Client) -> None:
    person = make_person()
    bad_photo = SimpleUploadedFile("p.png", png(), content_type="image/png")
    response = english(clerk_client).post("/applications/new/", _form(person, photo=bad_photo))
    page = response.content.decode()
    assert response.status_code == 422 and "P201" in page and "JPEG" in page
    assert not Application.objects.exists()


def test_lookup_is_a_post_audited_without_the_id_number(clerk_client: Client) -> None:
    from neweid.server.audit.models import AuditEntry

    person = make_person()
    # an ID number in the query string is not searched: ID numbers stay out of URLs and access logs
    page = clerk_client.get("/applications/find/", {"id_number": person.id_number}).content.decode()
    assert "陳志明" not in page
    assert not AuditEntry.objects.filter(function="applications.find_citizen").exists()
    clerk_client.post("/applications/find/", {"id_number": person.id_number})
    entry = AuditEntry.objects.filter(function="applications.find_citizen").latest("seq")
    assert entry.result == "success" and entry.object_type == "person"
    assert person.id_number not in f"{entry.object_id} {entry.extra}"
    page = clerk_client.post("/applications/find/", {"id_number": person.id_number}).content.decode()
    assert "?id_number=" not in page  # the take-an-application step posts the number instead
    prefilled = clerk_client.post("/applications/new/", {"step": "prefill", "id_number": person.id_number})
    assert prefilled.status_code == 200 and f'value="{person.id_number}"' in prefilled.content.decode()
    assert not Application.objects.exists()
