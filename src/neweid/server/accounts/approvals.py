"""Maker–checker (dual control, SEC-1): important actions run only when a second person approves.

A later issue registers its actions (e.g. "card.void", "card.recall", "chip.update") with
:func:`register_approvable`; the executor runs inside the approval's transaction, so the approval, the
action's changes and both audit entries commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from neweid.server.accounts.access import require
from neweid.server.accounts.models import ApprovalRequest, ApprovalStatus, Office
from neweid.server.accounts.roles import Capability
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action, record
from neweid.server.errors import (
    AccessDeniedError,
    ConflictError,
    ErrorCode,
    NotFoundError,
    ValidationFailedError,
)

Executor = Callable[[ApprovalRequest, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class ApprovableAction:
    name: str
    execute: Executor  # (request, approver) -> result to keep (JSON, no personal data) or None
    request_capability: Capability = Capability.OPERATE_CASES
    approve_capability: Capability = Capability.APPROVE_REQUESTS


_ACTIONS: dict[str, ApprovableAction] = {}


def register_approvable(action: ApprovableAction) -> None:
    if action.name in _ACTIONS and _ACTIONS[action.name] != action:
        raise ValueError(f"approvable action {action.name!r} is already registered")
    _ACTIONS[action.name] = action


def unregister_approvable(name: str) -> None:
    _ACTIONS.pop(name, None)


def approvable(name: str) -> ApprovableAction:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise ValidationFailedError(_("Unknown action."), code=ErrorCode.UNKNOWN_ACTION) from None


def _create_request(action: str, payload: dict[str, Any], *, acting_user: Any, object_type: str,
                    object_id: str, office: Office | None) -> ApprovalRequest:
    spec = approvable(action)
    require(acting_user, spec.request_capability)
    return ApprovalRequest.objects.create(
        action=action, payload=payload, object_type=object_type, object_id=object_id, office=office,
        requested_by=acting_user, requested_at=timezone.now())


def do_request_approval(action: str, payload: dict[str, Any], *, acting_user: Any, object_type: str = "",
                        object_id: str = "", office: Office | None = None) -> ApprovalRequest:
    """The maker asks for ``action`` on an object; nothing happens until someone else approves."""
    with audited_action("approval.request", actor=actor_id(acting_user), object_type="approval",
                        extra={"action": action}) as audit:
        request = _create_request(action, payload, acting_user=acting_user, object_type=object_type,
                                  object_id=object_id, office=office)
        audit.object_id = str(request.pk)
        return request


def open_approval(action: str, payload: dict[str, Any], *, acting_user: Any, object_type: str,
                  object_id: str | int, office: Office | None) -> ApprovalRequest:
    """:func:`do_request_approval` inside the caller's action (same checks, row and audit entry), for an
    operation that creates a record and its approval request atomically."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("open_approval runs inside an action's transaction")
    request = _create_request(action, payload, acting_user=acting_user, object_type=object_type,
                              object_id=str(object_id), office=office)
    record("approval.request", actor=actor_id(acting_user), object_type="approval", object_id=request.pk,
           extra={"action": action})
    return request


def _pending_for_update(request_id: int) -> ApprovalRequest:
    request = ApprovalRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFoundError()
    if request.status != ApprovalStatus.PENDING:
        raise ConflictError(_("This request has already been decided."), code=ErrorCode.APPROVAL_NOT_PENDING)
    return request


def do_approve(request_id: int, *, acting_user: Any) -> ApprovalRequest:
    """The checker approves: must be another person holding the approving capability; runs the action."""
    with audited_action("approval.approve", actor=actor_id(acting_user), object_type="approval",
                        object_id=request_id) as audit:
        request = _pending_for_update(request_id)
        spec = approvable(request.action)
        audit.extra["action"] = request.action
        if request.requested_by_id == acting_user.pk:
            raise AccessDeniedError(_("The person who asked cannot approve."), code=ErrorCode.SAME_PERSON)
        require(acting_user, spec.approve_capability)
        request.status = ApprovalStatus.APPROVED
        request.decided_by = acting_user
        request.decided_at = timezone.now()
        request.result = spec.execute(request, acting_user) or {}
        request.save(update_fields=["status", "decided_by", "decided_at", "result"])
        return request


def do_reject(request_id: int, reason: str, *, acting_user: Any) -> ApprovalRequest:
    with audited_action("approval.reject", actor=actor_id(acting_user), object_type="approval",
                        object_id=request_id) as audit:
        request = _pending_for_update(request_id)
        spec = approvable(request.action)
        audit.extra["action"] = request.action
        if request.requested_by_id == acting_user.pk:
            raise AccessDeniedError(_("The person who asked cannot decide."), code=ErrorCode.SAME_PERSON)
        require(acting_user, spec.approve_capability)
        request.status = ApprovalStatus.REJECTED
        request.decided_by = acting_user
        request.decided_at = timezone.now()
        request.reason = reason
        request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        return request


def do_cancel(request_id: int, *, acting_user: Any) -> ApprovalRequest:
    """The maker withdraws a pending request."""
    with audited_action("approval.cancel", actor=actor_id(acting_user), object_type="approval",
                        object_id=request_id):
        request = _pending_for_update(request_id)
        if request.requested_by_id != acting_user.pk:
            raise AccessDeniedError()
        request.status = ApprovalStatus.CANCELLED
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_at"])
        return request
