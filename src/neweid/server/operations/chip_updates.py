"""Chip content updates (MGMT-11, CARD-7): only data that is not printed on the card face.

The clerk names the fields to update; the new values are read from the household register (the latest
household data), never typed in. A field printed on the face (or read-only on the chip) is refused with
:class:`~neweid.server.operations.errors.NewCardRequiredError` (code ``O201``): that change needs a new
card. So is any request while the register holds face data other than the card's. A second person
approves (maker–checker, action ``operations.chip_update``); the approved update waits for the chip write
(a later issue), after which :func:`do_record_chip_written` makes the card's chip digest current, which
the issuance check of the cards app relies on (MGMT-8).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone

from neweid.formats.filemap import ZONES, Access, Zone
from neweid.server.accounts.approvals import open_approval
from neweid.server.accounts.models import ApprovalRequest
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action, record
from neweid.server.cards.carddata import chip_fields, digest, face_fields
from neweid.server.cards.models import Card
from neweid.server.cards.states import CardState
from neweid.server.errors import NotFoundError
from neweid.server.operations.errors import (
    CardNotUpdatableError,
    NewCardRequiredError,
    NothingToUpdateError,
    UnknownChipFieldError,
)
from neweid.server.operations.models import ChipUpdate, ChipUpdateStatus
from neweid.server.operations.staff import staff_office
from neweid.server.registry.interface import HouseholdRegistry, PersonRecord
from neweid.server.registry.wiring import household_registry

Clock = Callable[[], datetime.datetime]
ACTION = "operations.chip_update"

#: Field names the office uses -> the chip file holding it (zone, data group).
CHIP_FILES: dict[str, tuple[Zone, int]] = {
    "household_region": (Zone.HOUSEHOLD, 1),
    "name": (Zone.PUBLIC, 1),
    "id_number": (Zone.PUBLIC, 2),
    "birth_date": (Zone.PUBLIC, 3),
    "address": (Zone.PUBLIC, 4),
    "marital_status": (Zone.PUBLIC, 5),
    "military_status": (Zone.PUBLIC, 6),
    "serial": (Zone.PUBLIC, 7),
    "renewal_date": (Zone.PUBLIC, 8),
    "issue_date": (Zone.PUBLIC, 9),
    "photo": (Zone.PUBLIC, 10),
    "spouse": (Zone.ENCRYPTED, 1),
    "father": (Zone.ENCRYPTED, 2),
    "mother": (Zone.ENCRYPTED, 3),
    "birthplace": (Zone.ENCRYPTED, 4),
    "sex": (Zone.ENCRYPTED, 5),
}
#: Cards whose chip an office may update: at the office before issuance, or in the citizen's hands.
UPDATABLE_STATES = frozenset({CardState.RECEIVED, CardState.QC_PASSED, CardState.NOTIFIED, CardState.ISSUED})


def is_updatable(field: str) -> bool:
    """Whether the chip file of ``field`` may be updated without a new card (from the file map)."""
    zone, number = CHIP_FILES[field]
    spec = next(z for z in ZONES if z.zone is zone).data_group(number)
    return spec.update is not Access.NEVER


UPDATABLE_FIELDS = frozenset(name for name in CHIP_FILES if is_updatable(name))


def _values(record: PersonRecord, field: str) -> dict[str, Any]:
    """The register's current value(s) of an updatable field, as written to the chip."""
    chip = chip_fields(record)
    region = record.household.region
    match field:
        case "household_region":
            return {"village_code": region.village_code, "neighbourhood": region.neighbourhood,
                    "county_name": region.county_name, "township_name": region.township_name,
                    "village_name": region.village_name}
        case "address":
            return {"address": chip["address"]}
        case "military_status":
            return {"military_status": chip["military_status"]}
        case "birthplace":
            return {"birthplace_name": chip["birthplace_name"],
                    "birthplace_county_code": chip["birthplace_county_code"]}
        case _:
            return {f"{field}_name": chip[f"{field}_name"]}


def check_fields(fields: Iterable[str]) -> tuple[str, ...]:
    """Sorted, distinct field names; unknown names and face fields refused."""
    names = tuple(sorted(set(fields)))
    if not names:
        raise NothingToUpdateError()
    unknown = [name for name in names if name not in CHIP_FILES]
    if unknown:
        raise UnknownChipFieldError()
    if any(name not in UPDATABLE_FIELDS for name in names):
        raise NewCardRequiredError()
    return names


def do_request_chip_update(card_id: int, fields: Iterable[str], *, acting_user: Any, reason: str = "",
                           registry: HouseholdRegistry | None = None,
                           now: Clock = timezone.now) -> ChipUpdate:
    """Record a chip update of ``fields`` with the register's current values and ask for approval."""
    registry = registry if registry is not None else household_registry(clock=now)
    with audited_action("operations.chip_update.request", actor=actor_id(acting_user),
                        object_type="chip_update", extra={"card": card_id}) as audit:
        office = staff_office(acting_user)
        audit.extra["fields"] = sorted({str(f) for f in fields})[:20]
        names = check_fields(audit.extra["fields"])
        card = Card.objects.select_for_update().select_related("person").filter(pk=card_id).first()
        if card is None:
            raise NotFoundError()
        if card.state not in UPDATABLE_STATES:
            raise CardNotUpdatableError()
        person = registry.person(card.person.id_number)
        if digest(face_fields(person)) != card.face_digest:
            raise NewCardRequiredError()
        new_digest = digest(chip_fields(person))
        if new_digest == card.chip_digest:
            raise NothingToUpdateError()
        changes = {name: _values(person, name) for name in names}
        update = ChipUpdate.objects.create(
            card=card, person=card.person, office=office, changes=changes, fields=list(names),
            new_chip_digest=new_digest, reason=reason[:200], requested_at=now())
        update.approval = open_approval(ACTION, {"chip_update": update.pk}, acting_user=acting_user,
                                        object_type="chip_update", object_id=update.pk, office=office)
        update.save(update_fields=["approval"])
        audit.object_id = str(update.pk)
        return update


def execute_approved(request: ApprovalRequest, approver: Any) -> dict[str, Any]:
    """Maker–checker executor: the update is approved and waits for the chip write."""
    update = ChipUpdate.objects.select_for_update().get(pk=request.payload["chip_update"])
    update.status = ChipUpdateStatus.APPROVED
    update.decided_at = timezone.now()
    update.save(update_fields=["status", "decided_at"])
    record("operations.chip_update.approved", actor=actor_id(approver), object_type="chip_update",
           object_id=update.pk, extra={"card": update.card_id, "fields": update.fields})
    return {"chip_update": update.pk, "fields": update.fields}


def do_record_chip_written(update_id: int, *, acting_user: Any, now: Clock = timezone.now) -> ChipUpdate:
    """The chip was written (by the update terminal of a later issue): the card's chip data is current."""
    with audited_action("operations.chip_update.written", actor=actor_id(acting_user),
                        object_type="chip_update", object_id=update_id):
        staff_office(acting_user)
        update = ChipUpdate.objects.select_for_update().filter(pk=update_id).first()
        if update is None:
            raise NotFoundError()
        if update.status != ChipUpdateStatus.APPROVED:
            raise CardNotUpdatableError()
        Card.objects.filter(pk=update.card_id).update(chip_digest=update.new_chip_digest)
        update.status = ChipUpdateStatus.WRITTEN
        update.written_at = now()
        update.save(update_fields=["status", "written_at"])
        return update
