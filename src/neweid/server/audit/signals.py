"""Audit entries for authentication events and permission changes, from Django's and django-axes' signals.

Attempted user names are never written: a failure names the staff ID only when the account exists.
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out  # type: ignore[import-untyped]
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.http import HttpRequest

from neweid.server.audit.context import actor_id, client_ip
from neweid.server.audit.log import record
from neweid.server.audit.models import AuditResult
from neweid.server.errors import ErrorCode

DISPATCH_PREFIX = "neweid.audit."


def _source(request: HttpRequest | None) -> str | None:
    return client_ip(request) if request is not None else None


def _actor_for_username(username: object) -> str:
    if not isinstance(username, str) or not username:
        return ""
    user = get_user_model().objects.filter(username=username).select_related("staff_profile").first()
    return actor_id(user) if user is not None else ""


def on_logged_in(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    record("auth.login", actor=actor_id(user), source=_source(request))


def on_logged_out(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    record("auth.logout", actor=actor_id(user), source=_source(request))


def on_login_failed(sender: Any, credentials: dict[str, Any] | None = None,
                    request: HttpRequest | None = None, **kwargs: Any) -> None:
    actor = _actor_for_username((credentials or {}).get("username"))
    record("auth.login", result=AuditResult.DENIED, actor=actor, source=_source(request),
           error_code=ErrorCode.AUTH_FAILED.value, extra={"known_account": bool(actor)})


def on_locked_out(sender: Any, request: HttpRequest | None = None, username: str | None = None,
                  ip_address: str | None = None, **kwargs: Any) -> None:
    record("auth.lockout", result=AuditResult.DENIED, actor=_actor_for_username(username),
           source=ip_address if ip_address is not None else _source(request),
           error_code=ErrorCode.AUTH_LOCKED.value)


def _m2m_pks(pk_set: set[Any] | None) -> list[int]:
    return sorted(int(pk) for pk in pk_set or ())


def on_user_groups_changed(sender: Any, instance: Any, action: str, reverse: bool, model: Any,
                           pk_set: set[Any] | None, **kwargs: Any) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if reverse:  # group.user_set changed: instance is the Group, pk_set the users
        for user in get_user_model().objects.filter(pk__in=pk_set or ()).select_related("staff_profile"):
            record("accounts.roles_changed", object_type="staff", object_id=actor_id(user),
                   extra={"change": action, "groups": [instance.name]})
        return
    names = sorted(Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
    record("accounts.roles_changed", object_type="staff", object_id=actor_id(instance),
           extra={"change": action, "groups": names})


def on_user_permissions_changed(sender: Any, instance: Any, action: str, reverse: bool, model: Any,
                                pk_set: set[Any] | None, **kwargs: Any) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    record("accounts.permissions_changed", object_type="permission" if reverse else "staff",
           object_id=str(instance.pk) if reverse else actor_id(instance),
           extra={"change": action, "ids": _m2m_pks(pk_set)})


def on_group_permissions_changed(sender: Any, instance: Any, action: str, reverse: bool, model: Any,
                                 pk_set: set[Any] | None, **kwargs: Any) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    record("accounts.group_permissions_changed", object_type="permission" if reverse else "group",
           object_id=str(instance.pk) if reverse else instance.name,
           extra={"change": action, "ids": _m2m_pks(pk_set)})


def connect() -> None:
    user_model = get_user_model()
    user_logged_in.connect(on_logged_in, dispatch_uid=DISPATCH_PREFIX + "login")
    user_logged_out.connect(on_logged_out, dispatch_uid=DISPATCH_PREFIX + "logout")
    user_login_failed.connect(on_login_failed, dispatch_uid=DISPATCH_PREFIX + "login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid=DISPATCH_PREFIX + "locked_out")
    m2m_changed.connect(on_user_groups_changed, sender=user_model.groups.through,
                        dispatch_uid=DISPATCH_PREFIX + "user_groups")
    m2m_changed.connect(on_user_permissions_changed, sender=user_model.user_permissions.through,
                        dispatch_uid=DISPATCH_PREFIX + "user_permissions")
    m2m_changed.connect(on_group_permissions_changed, sender=Group.permissions.through,
                        dispatch_uid=DISPATCH_PREFIX + "group_permissions")
