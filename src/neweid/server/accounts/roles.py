"""Roles (Django groups) and the capabilities (permissions) each one grants: least privilege.

The role administrator assigns roles and creates accounts but operates no case and approves nothing; the
auditor only reads the audit log. Both roles are exclusive: whoever holds one holds no other role.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, transaction


class Capability(StrEnum):
    """Permission codenames of ``accounts.StaffProfile`` (see its Meta)."""

    OPERATE_CASES = "operate_cases"
    APPROVE_REQUESTS = "approve_requests"
    VIEW_OFFICE_REPORTS = "view_office_reports"
    VIEW_COUNTY_REPORTS = "view_county_reports"
    VIEW_NATIONAL_REPORTS = "view_national_reports"
    MANAGE_OFFICES = "manage_offices"
    ASSIGN_ROLES = "assign_roles"
    VIEW_AUDIT = "view_audit"

    @property
    def perm(self) -> str:
        return f"accounts.{self.value}"


class Role(StrEnum):
    """Group names."""

    OFFICE_CLERK = "office_clerk"
    OFFICE_SUPERVISOR = "office_supervisor"
    COUNTY_OFFICER = "county_officer"
    MOI_ADMIN = "moi_admin"
    AUDITOR = "auditor"
    ROLE_ADMIN = "role_admin"


C = Capability
ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.OFFICE_CLERK: frozenset({C.OPERATE_CASES, C.VIEW_OFFICE_REPORTS}),
    Role.OFFICE_SUPERVISOR: frozenset({C.OPERATE_CASES, C.APPROVE_REQUESTS, C.VIEW_OFFICE_REPORTS}),
    Role.COUNTY_OFFICER: frozenset({C.APPROVE_REQUESTS, C.VIEW_OFFICE_REPORTS, C.VIEW_COUNTY_REPORTS}),
    Role.MOI_ADMIN: frozenset({C.APPROVE_REQUESTS, C.VIEW_COUNTY_REPORTS, C.VIEW_NATIONAL_REPORTS,
                               C.MANAGE_OFFICES}),
    Role.AUDITOR: frozenset({C.VIEW_AUDIT}),
    Role.ROLE_ADMIN: frozenset({C.ASSIGN_ROLES}),
}

# Capabilities that act on citizens' cases; never available to the exclusive roles.
CASE_CAPABILITIES = frozenset({C.OPERATE_CASES, C.APPROVE_REQUESTS})
EXCLUSIVE_ROLES = frozenset({Role.ROLE_ADMIN, Role.AUDITOR})
# Roles that need an office (the others work at city/county or national level).
OFFICE_ROLES = frozenset({Role.OFFICE_CLERK, Role.OFFICE_SUPERVISOR})

ROLE_LABELS: dict[Role, tuple[str, str]] = {  # (zh-Hant, English), for templates and the CLI
    Role.OFFICE_CLERK: ("戶政事務所承辦人員", "Office clerk"),
    Role.OFFICE_SUPERVISOR: ("戶政事務所主管", "Office supervisor"),
    Role.COUNTY_OFFICER: ("直轄市、縣(市)政府承辦人員", "City/county officer"),
    Role.MOI_ADMIN: ("內政部管理者", "MOI administrator"),
    Role.AUDITOR: ("稽核人員", "Auditor"),
    Role.ROLE_ADMIN: ("權限管理者", "Role administrator"),
}


def sync_roles(using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the role groups and give each exactly its capabilities (idempotent)."""
    from neweid.server.accounts.models import StaffProfile

    content_type = ContentType.objects.db_manager(using).get_for_model(StaffProfile, for_concrete_model=True)
    permissions = {p.codename: p for p in Permission.objects.using(using).filter(content_type=content_type)}
    with transaction.atomic(using=using):
        for role, capabilities in ROLE_CAPABILITIES.items():
            group, _ = Group.objects.using(using).get_or_create(name=role.value)
            wanted = {permissions[c.value].pk for c in capabilities if c.value in permissions}
            current = set(group.permissions.values_list("pk", flat=True))
            if current - wanted:
                group.permissions.remove(*(current - wanted))
            if wanted - current:
                group.permissions.add(*(wanted - current))


def sync_roles_after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    sync_roles(using)
