"""Fixtures for the server tests (pytest-django): offices, staff accounts per role with TOTP devices."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_otp.oath import TOTP

from neweid.server.accounts.actions import (
    OfficeSpec,
    create_office_unaudited,
    create_staff_unaudited,
    grant_role_unaudited,
)
from neweid.server.accounts.authn import enrol_totp
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import OFFICE_ROLES, Role

STRONG_PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    """PBKDF2 at a million rounds would make the password tests slow; the policy does not depend on it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class StaffAccount:
    user: Any
    password: str
    totp_key: bytes

    @property
    def username(self) -> str:
        return str(self.user.username)

    def token(self, offset_steps: int = 0) -> str:
        return f"{TOTP(self.totp_key, drift=offset_steps).token():06d}"

    def wrong_token(self) -> str:
        return f"{(int(self.token()) + 500_000) % 1_000_000:06d}"


@pytest.fixture
def office(db: None) -> Office:
    return create_office_unaudited(OfficeSpec("6300500001", "臺北市中正區戶政事務所",
                                              "Zhongzheng Household Registration Office", "63000050"))


@pytest.fixture
def other_office(db: None) -> Office:
    return create_office_unaudited(OfficeSpec("1000201001", "宜蘭縣宜蘭市戶政事務所",
                                              "Yilan City Household Registration Office", "10002010"))


_numbers = itertools.count(1)


@pytest.fixture
def make_staff(db: None, office: Office) -> Callable[..., StaffAccount]:
    def make(role: Role | None, *, username: str | None = None,
             with_office: bool | None = None) -> StaffAccount:
        name = username or f"{role.value if role else 'nobody'}_{next(_numbers)}"
        needs_office = role in OFFICE_ROLES if with_office is None else with_office
        user = create_staff_unaudited(name, STRONG_PASSWORD, office=office if needs_office or role is None
                                      else None)
        if role is not None:
            grant_role_unaudited(user, role)
        enrolment = enrol_totp(user)
        padded = enrolment.secret_base32 + "=" * (-len(enrolment.secret_base32) % 8)
        return StaffAccount(user, STRONG_PASSWORD, base64.b32decode(padded))
    return make


def sign_in(client: Client, account: StaffAccount, *, password: str | None = None, token: str | None = None,
            ip: str = "10.0.0.1") -> Any:
    return client.post("/login/", {"username": account.username,
                                   "password": account.password if password is None else password,
                                   "otp_token": account.token() if token is None else token},
                       REMOTE_ADDR=ip)


@pytest.fixture
def approvable_noop() -> Any:
    from neweid.server.accounts.approvals import ApprovableAction, register_approvable, unregister_approvable

    register_approvable(ApprovableAction("test.noop", lambda request, approver: None))
    yield "test.noop"
    unregister_approvable("test.noop")
