"""Wiring of this app into the platform: the maker–checker action that activates a machine client, the
purge of the production package when the batch's transfer area is purged (same transaction), and the
chip-update flags of a card resolved when a chip update of it is requested."""

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


def resolve_chip_flags(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A chip update was requested for the card: the follow-up's flags on it are done with."""
    if created:
        from neweid.server.exchange.followup import resolve_chip_update_flags

        resolve_chip_update_flags([instance.card_id], at=instance.requested_at)


def register() -> None:
    from neweid.server.operations.models import ChipUpdate

    register_approvable(ACTIVATE_SYSTEM)
    post_save.connect(purge_package, sender=ProductionBatch, dispatch_uid="exchange.purge_package")
    post_save.connect(resolve_chip_flags, sender=ChipUpdate, dispatch_uid="exchange.resolve_chip_flags")
