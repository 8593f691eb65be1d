"""Opening a maker–checker request inside an operation's own transaction.

:func:`neweid.server.accounts.approvals.do_request_approval` is a durable action of its own, so it
cannot run inside another action; an operation that creates a record *and* its approval request must do
both atomically. :func:`open_approval` does what ``do_request_approval`` does (checks, row, audit entry
``approval.request``) within the caller's transaction; approving and rejecting stay with
``do_approve``/``do_reject``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from neweid.server.accounts.access import require
from neweid.server.accounts.approvals import approvable
from neweid.server.accounts.models import ApprovalRequest, ApprovalStatus, Office
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import record


def open_approval(action: str, payload: dict[str, Any], *, acting_user: Any, object_type: str,
                  object_id: str | int, office: Office | None) -> ApprovalRequest:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("open_approval runs inside an action's transaction")
    spec = approvable(action)
    require(acting_user, spec.request_capability)
    request = ApprovalRequest.objects.create(
        action=action, payload=payload, object_type=object_type, object_id=str(object_id), office=office,
        requested_by=acting_user, requested_at=timezone.now())
    record("approval.request", actor=actor_id(acting_user), object_type="approval", object_id=request.pk,
           extra={"action": action})
    return request


def is_pending(request: ApprovalRequest | None) -> bool:
    return request is not None and request.status == ApprovalStatus.PENDING
