"""Wiring of this app into the platform: the maker–checker action that activates a machine client, and the
purge of the production package when the batch's transfer area is purged (same transaction)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from neweid.server.accounts.approvals import ApprovableAction, register_approvable
from neweid.server.accounts.models import ApprovalRequest
from neweid.server.accounts.roles import Capability
from neweid.server.cards.models import ProductionBatch


def _execute_activation(request: ApprovalRequest, approver: Any) -> dict[str, Any]:
    from neweid.server.exchange.systems import execute_activation

    return execute_activation(request, approver)


ACTIVATE_SYSTEM = ApprovableAction("exchange.activate_system", _execute_activation,
                                   request_capability=Capability.MANAGE_OFFICES,
                                   approve_capability=Capability.MANAGE_OFFICES)


def purge_package(sender: Any, instance: ProductionBatch, created: bool, **kwargs: Any) -> None:
    """The batch's personal data left the transfer area: so do the package's lines (data and photos)."""
    if instance.transfer_purged_at is not None:
        from neweid.server.exchange.models import PackageFile

        PackageFile.objects.filter(batch=instance).delete()


def register() -> None:
    register_approvable(ACTIVATE_SYSTEM)
    post_save.connect(purge_package, sender=ProductionBatch, dispatch_uid="exchange.purge_package")
