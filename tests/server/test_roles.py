"""Roles and least privilege: the role administrator assigns roles but operates nothing (SEC-1)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission

from neweid.server.accounts.access import capabilities_of, require
from neweid.server.accounts.actions import do_assign_role, do_remove_role
from neweid.server.accounts.approvals import do_request_approval
from neweid.server.accounts.roles import ROLE_CAPABILITIES, Capability, Role
from neweid.server.audit.models import AuditEntry
from neweid.server.errors import AccessDeniedError, ErrorCode
from tests.server.conftest import StaffAccount

pytestmark = pytest.mark.django_db


def test_groups_carry_exactly_their_capabilities() -> None:
    for role, capabilities in ROLE_CAPABILITIES.items():
        group = Group.objects.get(name=role.value)
        assert set(group.permissions.values_list("codename", flat=True)) == {c.value for c in capabilities}


def test_role_admin_cannot_operate_cases(make_staff: Callable[..., StaffAccount],
                                         approvable_noop: str) -> None:
    admin = make_staff(Role.ROLE_ADMIN).user
    with pytest.raises(AccessDeniedError) as raised:
        require(admin, Capability.OPERATE_CASES)
    assert raised.value.code == ErrorCode.SEPARATION_OF_DUTIES
    with pytest.raises(AccessDeniedError):
        do_request_approval(approvable_noop, {}, acting_user=admin)
    entry = AuditEntry.objects.filter(function="approval.request").latest("seq")
    assert (entry.result, entry.error_code) == ("denied", ErrorCode.SEPARATION_OF_DUTIES.value)


def test_role_admin_cannot_operate_even_with_a_direct_permission(
        make_staff: Callable[..., StaffAccount]) -> None:
    admin = make_staff(Role.ROLE_ADMIN).user
    admin.user_permissions.add(Permission.objects.get(codename="operate_cases"))
    assert Capability.OPERATE_CASES not in capabilities_of(admin)
    with pytest.raises(AccessDeniedError):
        require(admin, Capability.OPERATE_CASES)


def test_superuser_without_a_role_operates_nothing(make_staff: Callable[..., StaffAccount]) -> None:
    root = make_staff(None).user
    root.is_superuser = True
    root.save()
    assert capabilities_of(root) == frozenset()


def test_role_admin_assigns_roles_and_it_is_audited(make_staff: Callable[..., StaffAccount]) -> None:
    admin = make_staff(Role.ROLE_ADMIN)
    clerk = make_staff(None)
    do_assign_role(clerk.user, Role.OFFICE_CLERK, acting_user=admin.user)
    assert Capability.OPERATE_CASES in capabilities_of(clerk.user)
    staff_id = clerk.user.staff_profile.staff_id
    action = AuditEntry.objects.filter(function="accounts.assign_role").latest("seq")
    assert (action.actor, action.object_id, action.extra) == (admin.user.staff_profile.staff_id, staff_id,
                                                              {"role": "office_clerk"})
    change = AuditEntry.objects.filter(function="accounts.roles_changed").latest("seq")
    assert (change.actor, change.object_id, change.extra["groups"]) == (
        admin.user.staff_profile.staff_id, staff_id, ["office_clerk"])
    do_remove_role(clerk.user, Role.OFFICE_CLERK, acting_user=admin.user)
    assert Capability.OPERATE_CASES not in capabilities_of(clerk.user)


def test_only_role_admins_assign_roles(make_staff: Callable[..., StaffAccount]) -> None:
    supervisor = make_staff(Role.OFFICE_SUPERVISOR)
    clerk = make_staff(None)
    with pytest.raises(AccessDeniedError):
        do_assign_role(clerk.user, Role.OFFICE_CLERK, acting_user=supervisor.user)
    assert not clerk.user.groups.exists()


def test_nobody_assigns_roles_to_themselves(make_staff: Callable[..., StaffAccount]) -> None:
    admin = make_staff(Role.ROLE_ADMIN)
    with pytest.raises(AccessDeniedError) as raised:
        do_assign_role(admin.user, Role.OFFICE_SUPERVISOR, acting_user=admin.user)
    assert raised.value.code == ErrorCode.SEPARATION_OF_DUTIES


@pytest.mark.parametrize("exclusive", [Role.ROLE_ADMIN, Role.AUDITOR])
def test_exclusive_roles_are_not_combined(make_staff: Callable[..., StaffAccount], exclusive: Role) -> None:
    admin = make_staff(Role.ROLE_ADMIN)
    holder = make_staff(exclusive, with_office=True)
    with pytest.raises(AccessDeniedError) as raised:
        do_assign_role(holder.user, Role.OFFICE_CLERK, acting_user=admin.user)
    assert raised.value.code == ErrorCode.SEPARATION_OF_DUTIES
    clerk = make_staff(Role.OFFICE_CLERK)
    with pytest.raises(AccessDeniedError):
        do_assign_role(clerk.user, exclusive, acting_user=admin.user)


def test_auditor_reads_the_audit_log_only(make_staff: Callable[..., StaffAccount]) -> None:
    auditor = make_staff(Role.AUDITOR).user
    assert capabilities_of(auditor) == {Capability.VIEW_AUDIT}
