"""Authorisation checks used by every service: one place that answers "may this staff member do X?".

Capabilities come from role groups only (no superuser shortcut: a Django superuser without a role operates
nothing), and the exclusive roles never get case capabilities, whatever permissions someone adds.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from django.db.models import Q

from neweid.server.accounts.roles import CASE_CAPABILITIES, EXCLUSIVE_ROLES, Capability, Role
from neweid.server.errors import AccessDeniedError, ErrorCode


def roles_of(user: Any) -> frozenset[Role]:
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    names = set(user.groups.values_list("name", flat=True))
    return frozenset(role for role in Role if role.value in names)


def capabilities_of(user: Any) -> frozenset[Capability]:
    """The capabilities granted by the user's roles and direct permissions (accounts app only)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    codenames = set(Permission.objects.filter(Q(group__user=user) | Q(user=user),
                                              content_type__app_label="accounts")
                    .values_list("codename", flat=True))
    granted = frozenset(c for c in Capability if c.value in codenames)
    if roles_of(user) & EXCLUSIVE_ROLES:
        granted -= CASE_CAPABILITIES
    return granted


def has_capability(user: Any, capability: Capability) -> bool:
    return capability in capabilities_of(user)


def require(user: Any, capability: Capability) -> None:
    """Raise AccessDeniedError unless ``user`` (active staff) has ``capability``."""
    if getattr(user, "staff_profile", None) is None:
        raise AccessDeniedError()
    if capability in capabilities_of(user):
        return
    if capability in CASE_CAPABILITIES and roles_of(user) & EXCLUSIVE_ROLES:
        raise AccessDeniedError(code=ErrorCode.SEPARATION_OF_DUTIES)
    raise AccessDeniedError()
