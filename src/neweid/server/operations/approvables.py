"""Wiring of this app into the platform: its maker–checker actions, the mirror of rejected or withdrawn
approval requests onto its records, and the loss report closed by a reissue application."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.utils import timezone

from neweid.server.accounts.approvals import ApprovableAction, register_approvable
from neweid.server.accounts.models import ApprovalRequest, ApprovalStatus
from neweid.server.accounts.roles import Capability
from neweid.server.applications.models import Application, Kind


def _execute_chip_update(request: ApprovalRequest, approver: Any) -> dict[str, Any]:
    from neweid.server.operations.chip_updates import execute_approved

    return execute_approved(request, approver)


def _execute_voiding(request: ApprovalRequest, approver: Any) -> dict[str, Any]:
    from neweid.server.operations.voiding import execute_voiding

    return execute_voiding(request, approver)


def _execute_recall(request: ApprovalRequest, approver: Any) -> dict[str, Any]:
    from neweid.server.operations.recall import execute_recall

    return execute_recall(request, approver)


ACTIONS = (
    ApprovableAction("operations.chip_update", _execute_chip_update),
    ApprovableAction("operations.void_cards", _execute_voiding),
    # A recall is national: MOI administrators ask and another MOI administrator approves.
    ApprovableAction("operations.recall", _execute_recall, request_capability=Capability.MANAGE_OFFICES,
                     approve_capability=Capability.MANAGE_OFFICES),
)


def on_approval_decided(sender: Any, instance: ApprovalRequest, created: bool, **kwargs: Any) -> None:
    """A rejected or withdrawn request marks the record it was about (same transaction)."""
    if created or instance.status not in (ApprovalStatus.REJECTED, ApprovalStatus.CANCELLED):
        return
    from neweid.server.operations.models import ChipUpdate, Recall, VoidingRequest

    models: dict[str, Any] = {"operations.chip_update": ChipUpdate, "operations.void_cards": VoidingRequest,
                              "operations.recall": Recall}
    model = models.get(instance.action)
    if model is not None:
        model.objects.filter(approval=instance, status="pending").update(status="rejected",
                                                                           **_decided(model))


def _decided(model: Any) -> dict[str, Any]:
    names = {f.name for f in model._meta.get_fields()}
    return {"decided_at": timezone.now()} if "decided_at" in names else {}


def on_application_saved(sender: Any, instance: Application, created: bool, **kwargs: Any) -> None:
    """A reissue after loss closes the open loss report (MGMT-10: the old card is void for good)."""
    if created and instance.kind == Kind.REISSUE_LOSS:
        from neweid.server.operations.loss import close_loss_for_reissue

        close_loss_for_reissue(instance)


def register() -> None:
    for action in ACTIONS:
        register_approvable(action)
    post_save.connect(on_approval_decided, sender=ApprovalRequest, dispatch_uid="operations.approval_decided")
    post_save.connect(on_application_saved, sender=Application, dispatch_uid="operations.reissue_after_loss")
