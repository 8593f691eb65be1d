"""Write actions on offices and staff: atomic, audited (``do_*``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from neweid.population.data import counties, townships
from neweid.server.accounts.access import require, roles_of
from neweid.server.accounts.models import Office, StaffProfile
from neweid.server.accounts.roles import EXCLUSIVE_ROLES, OFFICE_ROLES, Capability, Role
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.errors import AccessDeniedError, ConflictError, ErrorCode, ValidationFailedError


def new_staff_id(rng: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A random, non-personal staff ID: "S" and 9 digits."""
    return "S" + str(int.from_bytes(rng(8), "big") % 10**9).zfill(9)


def _check_township(county_code: str, township_code: str) -> None:
    township = townships().get(township_code)
    if township is None:
        raise ValidationFailedError(_("Unknown township code."))
    if township.county_code != county_code or county_code not in counties():
        raise ValidationFailedError(_("The township is not in that city or county."))


@dataclass(frozen=True)
class OfficeSpec:
    code: str
    name_zh: str
    name_en: str
    township_code: str


def create_office_unaudited(spec: OfficeSpec) -> Office:
    """For bootstrapping (demo data, migrations of reference data); staff use :func:`do_create_office`."""
    township = townships().get(spec.township_code)
    if township is None:
        raise ValidationFailedError(_("Unknown township code."))
    _check_township(township.county_code, spec.township_code)
    if Office.objects.filter(code=spec.code).exists():
        raise ConflictError(_("An office with this code exists."))
    return Office.objects.create(code=spec.code, name_zh=spec.name_zh, name_en=spec.name_en,
                                 county_code=township.county_code, township_code=spec.township_code)


def do_create_office(spec: OfficeSpec, *, acting_user: Any) -> Office:
    with audited_action("accounts.create_office", actor=actor_id(acting_user), object_type="office",
                        object_id=spec.code):
        require(acting_user, Capability.MANAGE_OFFICES)
        return create_office_unaudited(spec)


def _validated_password(password: str, user: User | None = None) -> str:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailedError(" ".join(str(m) for m in exc.messages)) from None
    return password


def create_staff_unaudited(username: str, password: str, *, office: Office | None,
                           rng: Callable[[int], bytes] = secrets.token_bytes) -> User:
    """A user with a staff profile; the password must satisfy the policy."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ConflictError(_("This user name is taken."))
    user = user_model(username=username)
    _validated_password(password, user)
    user.set_password(password)
    user.save()
    staff_id = new_staff_id(rng)
    while StaffProfile.objects.filter(staff_id=staff_id).exists():
        staff_id = new_staff_id(rng)
    StaffProfile.objects.create(user=user, staff_id=staff_id, office=office)
    return user


def do_create_staff(username: str, password: str, *, office: Office | None, acting_user: Any) -> User:
    with audited_action("accounts.create_staff", actor=actor_id(acting_user), object_type="staff") as audit:
        require(acting_user, Capability.ASSIGN_ROLES)
        user = create_staff_unaudited(username, password, office=office)
        audit.object_id = actor_id(user)
        audit.extra["office"] = office.code if office is not None else ""
        return user


def check_role_combination(roles: Iterable[Role], *, has_office: bool) -> None:
    """Exclusive roles stand alone; office roles need an office."""
    held = frozenset(roles)
    if held & EXCLUSIVE_ROLES and len(held) > 1:
        raise AccessDeniedError(_("This role cannot be combined with another role."),
                                code=ErrorCode.SEPARATION_OF_DUTIES)
    if held & OFFICE_ROLES and not has_office:
        raise ValidationFailedError(_("This role needs an office."))


def grant_role_unaudited(user: Any, role: Role) -> None:
    check_role_combination(roles_of(user) | {role}, has_office=_office_of(user) is not None)
    user.groups.add(Group.objects.get(name=role.value))


def _office_of(user: Any) -> Office | None:
    profile = getattr(user, "staff_profile", None)
    return profile.office if profile is not None else None


def do_assign_role(user: Any, role: Role, *, acting_user: Any) -> None:
    """Give ``user`` a role. Only role administrators, never to themselves."""
    with audited_action("accounts.assign_role", actor=actor_id(acting_user), object_type="staff",
                        object_id=actor_id(user), extra={"role": role.value}):
        require(acting_user, Capability.ASSIGN_ROLES)
        if user.pk == acting_user.pk:
            raise AccessDeniedError(_("Nobody assigns roles to themselves."),
                                    code=ErrorCode.SEPARATION_OF_DUTIES)
        if getattr(user, "staff_profile", None) is None:
            raise ValidationFailedError(_("Only staff accounts hold roles."))
        grant_role_unaudited(user, role)


def do_remove_role(user: Any, role: Role, *, acting_user: Any) -> None:
    with audited_action("accounts.remove_role", actor=actor_id(acting_user), object_type="staff",
                        object_id=actor_id(user), extra={"role": role.value}):
        require(acting_user, Capability.ASSIGN_ROLES)
        if user.pk == acting_user.pk:
            raise AccessDeniedError(_("Nobody changes their own roles."), code=ErrorCode.SEPARATION_OF_DUTIES)
        user.groups.remove(Group.objects.get(name=role.value))


def do_change_password(user: Any, old_password: str, new_password: str) -> None:
    """The user changes their own password (policy checked; history kept by the validator)."""
    with audited_action("accounts.change_password", actor=actor_id(user), object_type="staff",
                        object_id=actor_id(user)):
        if not user.check_password(old_password):
            raise AccessDeniedError(_("The current password is not correct."), code=ErrorCode.AUTH_FAILED)
        _validated_password(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
