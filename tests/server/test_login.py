"""Staff sign-in: TOTP required, session renewed, lockout of account and address (django-axes)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from neweid.server.accounts.roles import Role
from neweid.server.audit.models import AuditEntry
from neweid.server.errors import ErrorCode
from tests.server.conftest import StaffAccount, sign_in

pytestmark = pytest.mark.django_db


def _signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_sign_in_with_password_and_totp(client: Client, make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    client.get("/login/")
    before = client.cookies.get("neweid_session")
    response = sign_in(client, account)
    assert response.status_code == 302
    assert response["Location"] == "/"
    after = client.cookies["neweid_session"].value
    assert before is None or before.value != after  # a new session id at login
    home = client.get("/")
    assert home.status_code == 200
    assert account.user.staff_profile.staff_id in home.content.decode()
    entry = AuditEntry.objects.filter(function="auth.login").latest("seq")
    assert (entry.result, entry.actor, entry.source) == ("success", account.user.staff_profile.staff_id,
                                                        "10.0.0.1")


def test_password_alone_is_not_enough(client: Client, make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    response = client.post("/login/", {"username": account.username, "password": account.password})
    assert response.status_code == 400  # the form requires the code
    response = sign_in(client, account, token=account.wrong_token())
    assert response.status_code == 401
    assert ErrorCode.AUTH_FAILED.value in response.content.decode()
    assert not _signed_in(client)


def test_unconfirmed_device_does_not_count(client: Client, make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    account.user.totpdevice_set.update(confirmed=False)
    assert sign_in(client, account).status_code == 401
    assert not _signed_in(client)


def test_session_without_otp_verification_is_refused(client: Client,
                                                     make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    client.force_login(account.user)  # password-only session, e.g. from another entry point
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/api/me").status_code == 401


def test_the_same_message_for_wrong_password_and_wrong_code(client: Client,
                                                            make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    wrong_password = sign_in(client, account, password="Wrong-Password-1").content.decode()
    wrong_code = sign_in(client, account, token=account.wrong_token()).content.decode()
    marker = ErrorCode.AUTH_FAILED.value
    assert marker in wrong_password and marker in wrong_code


def test_account_locked_after_3_failures_from_any_address(client: Client,
                                                          make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    for n in range(3):
        sign_in(Client(), account, password="Wrong-Password-1", ip=f"10.0.1.{n}")
    response = sign_in(client, account, ip="10.0.9.9")  # right credentials, fresh address
    assert response.status_code == 403
    assert ErrorCode.AUTH_LOCKED.value in response.content.decode()
    assert not _signed_in(client)
    lockouts = AuditEntry.objects.filter(function="auth.lockout")
    assert lockouts.exists()
    assert lockouts.first().actor == account.user.staff_profile.staff_id  # type: ignore[union-attr]


def test_wrong_totp_codes_count_towards_the_lockout(client: Client,
                                                    make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    for _ in range(3):
        sign_in(Client(), account, token=account.wrong_token(), ip="10.0.2.1")
    response = sign_in(client, account, ip="10.0.2.2")
    assert response.status_code == 403
    assert not _signed_in(client)


def test_address_locked_after_3_failures_for_any_account(client: Client,
                                                         make_staff: Callable[..., StaffAccount]) -> None:
    victims = [make_staff(Role.OFFICE_CLERK) for _ in range(3)]
    other = make_staff(Role.OFFICE_SUPERVISOR)
    for victim in victims:  # one failure per account: no account reaches the limit
        sign_in(Client(), victim, password="Wrong-Password-1", ip="10.0.3.3")
    response = sign_in(client, other, ip="10.0.3.3")
    assert response.status_code == 403
    assert not _signed_in(client)
    assert sign_in(Client(), other, ip="10.0.3.4", token=other.token(1)).status_code == 302


def test_failures_are_audited_without_user_names(client: Client,
                                                 make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    client.post("/login/", {"username": "no-such-person", "password": "Whatever-123!", "otp_token": "123456"},
                REMOTE_ADDR="10.0.4.4")
    sign_in(Client(), account, password="Wrong-Password-1", ip="10.0.4.5")
    failures = list(AuditEntry.objects.filter(function="auth.login", result="denied").order_by("seq"))
    assert [(e.actor, e.source, e.extra["known_account"]) for e in failures] == [
        ("", "10.0.4.4", False), (account.user.staff_profile.staff_id, "10.0.4.5", True)]
    assert all("no-such-person" not in str(e.extra) for e in failures)


def test_logout_ends_the_session(client: Client, make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    sign_in(client, account)
    assert _signed_in(client)
    assert client.get("/logout/").status_code == 405  # POST only (CSRF-protected)
    client.post("/logout/")
    assert not _signed_in(client)
    assert AuditEntry.objects.filter(function="auth.logout").exists()


def test_session_cookie_expires_after_idle_time(client: Client,
                                                make_staff: Callable[..., StaffAccount]) -> None:
    account = make_staff(Role.OFFICE_CLERK)
    sign_in(client, account)
    response = client.get("/")
    cookie = response.cookies["neweid_session"]
    assert cookie["httponly"]
    assert client.session.get_expiry_age() == 15 * 60
