"""Demo data for ``neweid serve``: a few offices and one account per role (idempotent)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

from neweid.server.accounts.actions import (
    OfficeSpec,
    create_office_unaudited,
    create_staff_unaudited,
    grant_role_unaudited,
)
from neweid.server.accounts.authn import enrol_totp
from neweid.server.accounts.models import Office
from neweid.server.accounts.roles import Role
from neweid.server.audit.log import record

DEMO_OFFICES = (
    OfficeSpec("6300500001", "臺北市中正區戶政事務所",
               "Zhongzheng District Household Registration Office, Taipei", "63000050"),
    OfficeSpec("6300100001", "臺北市松山區戶政事務所",
               "Songshan District Household Registration Office, Taipei", "63000010"),
    OfficeSpec("1000201001", "宜蘭縣宜蘭市戶政事務所",
               "Yilan City Household Registration Office, Yilan County", "10002010"),
)

DEMO_ROLE_OFFICE = {Role.OFFICE_CLERK: 0, Role.OFFICE_SUPERVISOR: 0, Role.COUNTY_OFFICER: 0}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    office: str
    password: str | None  # None: the account existed already (credentials were shown when it was made)
    totp_secret: str | None
    totp_uri: str | None


def demo_password() -> str:
    """A random password that satisfies the policy (16 characters, four classes)."""
    pools = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#$%&*+-=?@^_")
    chars = [secrets.choice(pool) for pool in pools] + [secrets.choice("".join(pools)) for _ in range(12)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def ensure_demo_data(*, reset_credentials: bool = False) -> list[DemoAccount]:
    """Create missing demo offices and accounts; ``reset_credentials`` gives existing ones new ones."""
    accounts: list[DemoAccount] = []
    with transaction.atomic():
        offices = []
        for spec in DEMO_OFFICES:
            office = Office.objects.filter(code=spec.code).first()
            offices.append(office if office is not None else create_office_unaudited(spec))
        user_model = get_user_model()
        for role in Role:
            username = f"demo_{role.value}"
            office = offices[DEMO_ROLE_OFFICE[role]] if role in DEMO_ROLE_OFFICE else None
            user = user_model.objects.filter(username=username).first()
            if user is not None and not reset_credentials:
                accounts.append(DemoAccount(username, role, office.code if office else "", None, None, None))
                continue
            password = demo_password()
            if user is None:
                user = create_staff_unaudited(username, password, office=office)
                grant_role_unaudited(user, role)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
                TOTPDevice.objects.filter(user=user).delete()
            enrolment = enrol_totp(user)
            accounts.append(DemoAccount(username, role, office.code if office else "", password,
                                        enrolment.secret_base32, enrolment.uri))
        created = sum(1 for a in accounts if a.password is not None)
        if created:
            record("demo.ensure_data", object_type="staff", extra={"accounts_created_or_reset": created})
    return accounts
