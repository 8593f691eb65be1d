"""`neweid audit verify` and the demo data behind `neweid serve`."""

from __future__ import annotations

import pytest
from django.db import connection
from typer.testing import CliRunner

from neweid.cli import server
from neweid.server.accounts.demo import ensure_demo_data
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.audit.log import record

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_audit_verify_passes_on_an_intact_chain() -> None:
    for n in range(3):
        record("test.event", extra={"n": n})
    result = runner.invoke(server.app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_audit_verify_exits_1_with_the_broken_seq() -> None:
    entries = [record("test.event", extra={"n": n}) for n in range(3)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER audit_entry_append_only")
        cursor.execute("UPDATE audit_auditentry SET actor = 'S999' WHERE seq = %s", [entries[1].seq])
    result = runner.invoke(server.app, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"broken at entry {entries[1].seq}: altered" in result.output


def test_demo_data_is_idempotent() -> None:
    first = ensure_demo_data()
    assert {a.role for a in first} == set(Role)
    assert all(a.password and a.totp_secret for a in first)
    second = ensure_demo_data()
    assert all(a.password is None for a in second)
    assert Office.objects.count() == 368  # the 3 demo offices and one per other township
    reset = ensure_demo_data(reset_credentials=True)
    assert all(a.password for a in reset)
    assert {a.password for a in reset}.isdisjoint({a.password for a in first})


def test_demo_credentials_sign_in() -> None:
    import base64

    from django.test import Client
    from django_otp.oath import TOTP

    account = next(a for a in ensure_demo_data() if a.role is Role.OFFICE_CLERK)
    assert account.totp_secret is not None
    key = base64.b32decode(account.totp_secret + "=" * (-len(account.totp_secret) % 8))
    client = Client()
    response = client.post("/login/", {"username": account.username, "password": account.password,
                                       "otp_token": f"{TOTP(key).token():06d}"})
    assert response.status_code == 302
    assert "6300500001" in client.get("/").content.decode()
