"""Maker–checker: a second, different person approves important actions (SEC-1 dual control)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from neweid.server.accounts.approvals import (
    ApprovableAction,
    do_approve,
    do_cancel,
    do_reject,
    do_request_approval,
    register_approvable,
    unregister_approvable,
)
from neweid.server.accounts.models import ApprovalRequest, ApprovalStatus
from neweid.server.accounts.roles import Role
from neweid.server.audit.models import AuditEntry
from neweid.server.errors import AccessDeniedError, ConflictError, ErrorCode, ValidationFailedError
from tests.server.conftest import StaffAccount

pytestmark = pytest.mark.django_db

executed: list[tuple[int, Any]] = []


def _execute(request: ApprovalRequest, approver: Any) -> dict[str, Any]:
    executed.append((request.pk, approver.pk))
    return {"done": True}


@pytest.fixture
def approvable_void() -> Iterator[str]:
    register_approvable(ApprovableAction("test.void", _execute))
    executed.clear()
    yield "test.void"
    unregister_approvable("test.void")


def test_same_person_cannot_approve(make_staff: Callable[..., StaffAccount], approvable_void: str) -> None:
    supervisor = make_staff(Role.OFFICE_SUPERVISOR).user  # may both request and approve ...
    request = do_request_approval(approvable_void, {"reason_code": 1}, acting_user=supervisor,
                                  object_type="card", object_id="X1")
    with pytest.raises(AccessDeniedError) as raised:  # ... but not their own request
        do_approve(request.pk, acting_user=supervisor)
    assert raised.value.code == ErrorCode.SAME_PERSON
    with pytest.raises(AccessDeniedError):
        do_reject(request.pk, "no", acting_user=supervisor)
    request.refresh_from_db()
    assert request.status == ApprovalStatus.PENDING
    assert executed == []
    entry = AuditEntry.objects.filter(function="approval.approve").latest("seq")
    assert (entry.result, entry.error_code) == ("denied", ErrorCode.SAME_PERSON.value)


def test_another_supervisor_approves_and_the_action_runs(make_staff: Callable[..., StaffAccount],
                                                         approvable_void: str) -> None:
    clerk = make_staff(Role.OFFICE_CLERK).user
    supervisor = make_staff(Role.OFFICE_SUPERVISOR).user
    request = do_request_approval(approvable_void, {}, acting_user=clerk)
    approved = do_approve(request.pk, acting_user=supervisor)
    assert approved.status == ApprovalStatus.APPROVED
    assert approved.decided_by == supervisor
    assert approved.result == {"done": True}
    assert executed == [(request.pk, supervisor.pk)]
    with pytest.raises(ConflictError):  # decided once
        do_approve(request.pk, acting_user=make_staff(Role.OFFICE_SUPERVISOR).user)
    assert len(executed) == 1


def test_clerk_cannot_approve(make_staff: Callable[..., StaffAccount], approvable_void: str) -> None:
    maker = make_staff(Role.OFFICE_CLERK).user
    other_clerk = make_staff(Role.OFFICE_CLERK).user
    request = do_request_approval(approvable_void, {}, acting_user=maker)
    with pytest.raises(AccessDeniedError) as raised:
        do_approve(request.pk, acting_user=other_clerk)
    assert raised.value.code == ErrorCode.FORBIDDEN


def test_reject_and_cancel(make_staff: Callable[..., StaffAccount], approvable_void: str) -> None:
    clerk = make_staff(Role.OFFICE_CLERK).user
    supervisor = make_staff(Role.OFFICE_SUPERVISOR).user
    first = do_request_approval(approvable_void, {}, acting_user=clerk)
    assert do_reject(first.pk, "wrong card", acting_user=supervisor).status == ApprovalStatus.REJECTED
    second = do_request_approval(approvable_void, {}, acting_user=clerk)
    with pytest.raises(AccessDeniedError):
        do_cancel(second.pk, acting_user=supervisor)
    assert do_cancel(second.pk, acting_user=clerk).status == ApprovalStatus.CANCELLED
    assert executed == []


def test_unknown_action_refused(make_staff: Callable[..., StaffAccount]) -> None:
    with pytest.raises(ValidationFailedError) as raised:
        do_request_approval("no.such.action", {}, acting_user=make_staff(Role.OFFICE_CLERK).user)
    assert raised.value.code == ErrorCode.UNKNOWN_ACTION


def test_the_database_refuses_maker_as_checker(make_staff: Callable[..., StaffAccount],
                                               approvable_void: str) -> None:
    from django.db import IntegrityError, transaction

    clerk = make_staff(Role.OFFICE_CLERK).user
    request = do_request_approval(approvable_void, {}, acting_user=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.filter(pk=request.pk).update(decided_by=clerk)
