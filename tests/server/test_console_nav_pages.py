"""The read-only pages behind the menu: audit chain (auditors), recalls (city/county, MOI), staff list (role
administrators). Each shows its data and nothing personal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from neweid.server.accounts.roles import Role
from neweid.server.audit.log import record
from neweid.server.audit.models import AuditResult
from neweid.server.operations.models import Recall, RecallRemedy, RecallStatus
from tests.server.conftest import StaffAccount, sign_in

pytestmark = pytest.mark.django_db


def _client(make_staff: Callable[..., StaffAccount], role: Role) -> Client:
    client = Client()
    assert sign_in(client, make_staff(role)).status_code == 302
    return client


def test_audit_page_shows_an_intact_chain_and_the_latest_entries_without_personal_data(
        make_staff: Callable[..., StaffAccount]) -> None:
    client = _client(make_staff, Role.AUDITOR)
    record("test.lookup", object_type="person", object_id="A123456789", source="192.0.2.77",
           result=AuditResult.FAILURE, error_code="E404", extra={"note": "kept out of the page"})
    response = client.get("/audit/")
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "稽核軌跡鏈完整" in html
    assert "test.lookup" in html and "E404" in html and "不受理" in html
    for hidden in ("A123456789", "192.0.2.77", "kept out of the page"):
        assert hidden not in html


def test_audit_page_shows_where_the_chain_is_broken(make_staff: Callable[..., StaffAccount]) -> None:
    client = _client(make_staff, Role.AUDITOR)
    entries = [record("test.event", extra={"n": n}) for n in range(3)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_entry_append_only")
        cursor.execute("UPDATE audit_auditentry SET actor = 'S999' WHERE seq = %s", [entries[1].seq])
    html = client.get("/audit/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"The chain is broken at entry {entries[1].seq}" in html
    assert "An entry was altered" in html


def test_recalls_page_lists_recalls_with_translated_states(make_staff: Callable[..., StaffAccount]) -> None:
    Recall.objects.create(title="Chip lot 7 firmware", reason="test", remedy=RecallRemedy.FIRMWARE_UPDATE,
                          status=RecallStatus.PENDING, requested_at=timezone.now(), requested_by_staff="S1",
                          card_count=42, batch_ids=[1])
    for role in (Role.MOI_ADMIN, Role.COUNTY_OFFICER):
        html = _client(make_staff, role).get("/recalls/").content.decode()
        assert "Chip lot 7 firmware" in html
        assert "待核准" in html and "韌體更新" in html
        assert "<td>42</td>" in html


def test_recalls_page_without_recalls(make_staff: Callable[..., StaffAccount]) -> None:
    html = _client(make_staff, Role.MOI_ADMIN).get("/recalls/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No recalls." in html


def test_staff_page_lists_accounts_offices_and_roles(make_staff: Callable[..., StaffAccount]) -> None:
    clerk = make_staff(Role.OFFICE_CLERK, username="clerk_listed")
    client = _client(make_staff, Role.ROLE_ADMIN)
    html = client.get("/staff/").content.decode()
    assert "clerk_listed" in html
    assert clerk.user.staff_profile.staff_id in html
    assert "6300500001" in html
    assert "戶政事務所承辦人員" in html and "權限管理者" in html
    assert "Office clerk" in client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize("path", ["/audit/", "/recalls/", "/staff/"])
def test_pages_answer_only_get(make_staff: Callable[..., StaffAccount], path: str) -> None:
    role = {"/audit/": Role.AUDITOR, "/recalls/": Role.MOI_ADMIN, "/staff/": Role.ROLE_ADMIN}[path]
    assert _client(make_staff, role).post(path).status_code == 405
