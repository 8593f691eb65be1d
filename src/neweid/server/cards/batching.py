"""Production batches (MGMT-6, MGMT-1): from verified applications to cards in production and back.

* :func:`do_create_batches` takes, up to the day's capacity, first the re-productions of defective cards,
  then verified applications (oldest verification first); reads the latest household data for all of them
  at once (``registry.people`` in chunks); cancels the applications of people no longer on the register;
  creates the cards (serials drawn in bulk), their first history event, and the production file records.
* :func:`do_send_batch` sends a batch file to the production centre and moves its cards to production.
* :func:`do_apply_production_status` applies the centre's status replies (produced, defective, shipped),
  issues the citizen certificates of produced cards, and once every card is accounted for deletes the
  personal data of the transfer area.

Every step is set-based (a bounded number of queries whatever the number of cards), atomic, and writes one
audit entry.
"""

from __future__ import annotations

import datetime
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from neweid.server.accounts.access import require
from neweid.server.accounts.roles import Capability
from neweid.server.applications.models import Application, Status
from neweid.server.audit.context import actor_id
from neweid.server.audit.log import audited_action
from neweid.server.cards.ca import CardRef, CertificateRequest, CitizenCa
from neweid.server.cards.carddata import card_digests, file_digest, transfer_payload
from neweid.server.cards.errors import BadCapacityError, BatchStateError, ConcurrentChangeError
from neweid.server.cards.models import BatchStatus, Card, ProductionBatch, TransferRecord
from neweid.server.cards.production import (
    BatchFile,
    ProductionCentre,
    ProductionFileRecord,
    ProductionOutcome,
)
from neweid.server.cards.serials import draw_serials
from neweid.server.cards.states import CardState, CertificateState, DefectSource
from neweid.server.cards.transitions import INSERT_BATCH, chunks, record_creation, transition
from neweid.server.registry.interface import HouseholdRegistry, PersonRecord
from neweid.server.registry.simulated import LOOKUP_CHUNK

logger = logging.getLogger(__name__)

DEFAULT_DAILY_CAPACITY = 45_000
DEFAULT_BATCH_SIZE = 5_000
PRODUCTION_ACTOR = "system:production"
Rng = Callable[[int], bytes]


def daily_capacity() -> int:
    return int(getattr(settings, "NEWEID_DAILY_CAPACITY", DEFAULT_DAILY_CAPACITY))


def batch_size_setting() -> int:
    return int(getattr(settings, "NEWEID_BATCH_SIZE", DEFAULT_BATCH_SIZE))


def _actor(acting_user: Any | None) -> str:
    return actor_id(acting_user) if acting_user is not None else PRODUCTION_ACTOR


@dataclass(frozen=True)
class _Order:
    """One card to order: for an application, or re-producing a defective card."""

    application_id: int
    person_id: int
    id_number: str
    pickup_office_id: int
    renewal_date: datetime.date | None
    certificate_opt_in: bool
    reproduction_of: int | None


def _reproductions(limit: int) -> list[_Order]:
    rows = (Card.objects.filter(state=CardState.DEFECTIVE, reproduction__isnull=True)
            .order_by("state_changed_at", "pk")
            .values_list("pk", "application_id", "person_id", "person__id_number", "pickup_office_id",
                         "renewal_date", "application__certificate_opt_in")[:limit])
    return [_Order(app, person, id_number, office, renewal, opt_in, pk)
            for pk, app, person, id_number, office, renewal, opt_in in rows]


def _new_orders(limit: int) -> list[_Order]:
    rows = (Application.objects.filter(status=Status.VERIFIED).order_by("verified_at", "pk")
            .values_list("pk", "person_id", "person__id_number", "pickup_office_id", "renewal_date",
                         "certificate_opt_in")[:limit])
    return [_Order(pk, person, id_number, office, renewal, opt_in, None)
            for pk, person, id_number, office, renewal, opt_in in rows]


def latest_records(registry: HouseholdRegistry, id_numbers: Sequence[str]) -> dict[str, PersonRecord]:
    """The register's latest data for many people, read in chunks."""
    records: dict[str, PersonRecord] = {}
    unique = list(dict.fromkeys(id_numbers))
    for start in range(0, len(unique), LOOKUP_CHUNK):
        records.update(registry.people(unique[start:start + LOOKUP_CHUNK]))
    return records


def _certificate_state(order: _Order, record: PersonRecord) -> CertificateState:
    if not order.certificate_opt_in:
        return CertificateState.NOT_REQUESTED
    if record.under_guardianship:
        return CertificateState.NOT_ALLOWED  # MGMT-5: persons under guardianship have no certificate
    return CertificateState.PENDING


def do_create_batches(day: datetime.date, *, registry: HouseholdRegistry, acting_user: Any | None = None,
                      capacity: int | None = None, batch_size: int | None = None, rng: Rng = os.urandom,
                      now: datetime.datetime | None = None) -> list[ProductionBatch]:
    """Batch the day's production (see the module's docstring); returns the new batches (maybe none)."""
    actor = _actor(acting_user)
    moment = now if now is not None else timezone.now()
    with audited_action("cards.create_batches", actor=actor, object_type="production_day",
                        object_id=day.isoformat()) as audit:
        if acting_user is not None:
            require(acting_user, Capability.MANAGE_OFFICES)
        capacity = daily_capacity() if capacity is None else capacity
        size = batch_size_setting() if batch_size is None else batch_size
        if capacity <= 0 or size <= 0:
            raise BadCapacityError()
        room = capacity - Card.objects.filter(batch__production_date=day).count()
        orders = _reproductions(max(room, 0))
        orders += _new_orders(max(room - len(orders), 0))
        records = latest_records(registry, [o.id_number for o in orders]) if orders else {}
        registered, gone = [], []
        for order in orders:
            record = records.get(order.id_number)
            if record is not None and record.status.is_registered:
                registered.append(order)
            elif order.reproduction_of is None:
                gone.append(order.application_id)
        _cancel_applications(gone, moment)
        batches = _make_batches(day, registered, records, size, actor, moment, rng)
        new_applications = [o.application_id for o in registered if o.reproduction_of is None]
        marked = sum(Application.objects.filter(pk__in=chunk, status=Status.VERIFIED)
                     .update(status=Status.BATCHED) for chunk in chunks(new_applications))
        if marked != len(new_applications):
            raise ConcurrentChangeError()
        audit.extra.update({"batches": len(batches), "cards": len(registered),
                            "reproductions": sum(1 for o in registered if o.reproduction_of is not None),
                            "cancelled_not_registered": len(gone), "capacity": capacity})
    logger.info("production day %s: %d cards in %d batches", day.isoformat(), len(registered), len(batches))
    return batches


def _cancel_applications(application_ids: list[int], moment: datetime.datetime) -> None:
    for chunk in chunks(application_ids):
        Application.objects.filter(pk__in=chunk, status=Status.VERIFIED).update(status=Status.CANCELLED,
                                                                               cancelled_at=moment)


def _make_batches(day: datetime.date, orders: list[_Order], records: dict[str, PersonRecord], size: int,
                  actor: str, moment: datetime.datetime, rng: Rng) -> list[ProductionBatch]:
    if not orders:
        return []
    serials = draw_serials(len(orders), rng)
    last = ProductionBatch.objects.filter(production_date=day).aggregate(last=Max("sequence"))["last"] or 0
    batches = []
    for number, start in enumerate(range(0, len(orders), size), start=last + 1):
        group = orders[start:start + size]
        batch = ProductionBatch.objects.create(
            reference=f"B{day:%Y%m%d}-{number:03d}", production_date=day, sequence=number, size=len(group),
            reproductions=sum(1 for o in group if o.reproduction_of is not None), created_at=moment,
            created_by=actor)
        cards = []
        for order, serial in zip(group, serials[start:start + size], strict=True):
            record = records[order.id_number]
            digests = card_digests(record)
            cards.append(Card(
                application_id=order.application_id, person_id=order.person_id,
                pickup_office_id=order.pickup_office_id, serial=serial, state=CardState.ORDERED,
                state_changed_at=moment, batch=batch, reproduction_of_id=order.reproduction_of,
                issue_date=day, renewal_date=order.renewal_date,
                certificate_state=_certificate_state(order, record), data_as_of=record.as_of,
                face_digest=digests.face, chip_digest=digests.chip))
        Card.objects.bulk_create(cards, batch_size=INSERT_BATCH)
        record_creation(cards, actor=actor, now=moment, batch_ref=batch.reference,
                        reason="re-production" if batch.reproductions else "")
        TransferRecord.objects.bulk_create(
            (TransferRecord(batch=batch, card_id=card.pk, payload=transfer_payload(
                records[order.id_number], serial=card.serial, issue_date=day, renewal_date=card.renewal_date,
                certificate=card.certificate_state == CertificateState.PENDING,
                application_id=order.application_id))
             for card, order in zip(cards, group, strict=True)),
            batch_size=INSERT_BATCH)
        batches.append(batch)
    return batches


# -- sending ------------------------------------------------------------------------------------------


def batch_file(batch: ProductionBatch) -> BatchFile:
    """The production file of a batch, from its transfer records (cards still ordered, serial order)."""
    rows = (TransferRecord.objects.filter(batch=batch, card__state=CardState.ORDERED).order_by("card__serial")
            .values_list("payload", "card__serial", "card__pickup_office__code", "card__reproduction_of_id"))
    records = tuple(ProductionFileRecord(serial, office, reproduction is not None, payload)
                    for payload, serial, office, reproduction in rows)
    lines = [{"serial": r.serial, "pickup_office": r.pickup_office, "reproduction": r.reproduction,
              "data": dict(r.data)} for r in records]
    return BatchFile(batch.reference, batch.production_date, records, file_digest(lines))


def _locked_batch(batch_id: int) -> ProductionBatch:
    batch = ProductionBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        raise BatchStateError()
    return batch


def do_send_batch(batch_id: int, *, centre: ProductionCentre, acting_user: Any | None = None,
                  now: datetime.datetime | None = None) -> ProductionBatch:
    """Send the batch file; its cards go ORDERED → IN_PRODUCTION. If the centre fails nothing changes."""
    actor = _actor(acting_user)
    moment = now if now is not None else timezone.now()
    with audited_action("cards.send_batch", actor=actor, object_type="production_batch",
                        object_id=batch_id) as audit:
        if acting_user is not None:
            require(acting_user, Capability.MANAGE_OFFICES)
        batch = _locked_batch(batch_id)
        audit.object_id = batch.reference
        if batch.status != BatchStatus.CREATED:
            raise BatchStateError()
        file = batch_file(batch)
        centre.send_batch(file)
        moved = transition(Card.objects.filter(batch=batch, state=CardState.ORDERED), CardState.IN_PRODUCTION,
                           actor=actor, batch_ref=batch.reference, now=moment)
        batch.status, batch.sent_at, batch.file_digest = BatchStatus.SENT, moment, file.digest
        batch.save(update_fields=["status", "sent_at", "file_digest"])
        audit.extra.update({"cards": len(moved), "digest": file.digest})
        return batch


# -- status replies -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusSummary:
    produced: int
    defective: int
    shipped: int
    certificates: int
    completed: bool


def do_apply_production_status(batch_id: int, *, centre: ProductionCentre, ca: CitizenCa,
                               acting_user: Any | None = None,
                               now: datetime.datetime | None = None) -> StatusSummary:
    """Ask the centre for the batch's statuses and apply them (see the module's docstring)."""
    actor = _actor(acting_user)
    moment = now if now is not None else timezone.now()
    with audited_action("cards.production_status", actor=actor, object_type="production_batch",
                        object_id=batch_id) as audit:
        if acting_user is not None:
            require(acting_user, Capability.MANAGE_OFFICES)
        batch = _locked_batch(batch_id)
        audit.object_id = batch.reference
        if batch.status not in (BatchStatus.SENT, BatchStatus.PRODUCED):
            raise BatchStateError()
        statuses = centre.poll_status(batch.reference)
        current = {serial: (pk, state) for serial, pk, state in
                   Card.objects.filter(batch=batch).values_list("serial", "pk", "state")}
        if any(status.serial not in current for status in statuses):
            raise BatchStateError()
        produce, defect = [], []
        ship: dict[str, list[int]] = defaultdict(list)
        for status in statuses:
            pk, state = current[status.serial]
            if status.outcome is ProductionOutcome.DEFECTIVE:
                if state in (CardState.IN_PRODUCTION, CardState.PRODUCED):
                    defect.append(pk)
                continue
            if state == CardState.IN_PRODUCTION:
                produce.append(pk)
            if status.outcome is ProductionOutcome.SHIPPED and state in (CardState.IN_PRODUCTION,
                                                                          CardState.PRODUCED):
                ship[status.shipment].append(pk)
        ref = batch.reference
        if produce:
            transition(produce, CardState.PRODUCED, actor=actor, batch_ref=ref, now=moment)
        certificates = _issue_certificates(produce, ca)
        if defect:
            transition(defect, CardState.DEFECTIVE, actor=actor, batch_ref=ref, now=moment,
                       reason="defective in production",
                       updates={"defect_source": DefectSource.PRODUCTION, "defect_note": "production"})
        for shipment, ids in sorted(ship.items()):  # one UPDATE per shipment (pickup office)
            transition(ids, CardState.SHIPPED, actor=actor, batch_ref=shipment, now=moment,
                       updates={"shipment": shipment})
        completed = not Card.objects.filter(batch=batch, state__in=(CardState.IN_PRODUCTION,
                                                                    CardState.PRODUCED)).exists()
        pending = Card.objects.filter(batch=batch, state=CardState.IN_PRODUCTION).exists()
        if completed:
            TransferRecord.objects.filter(batch=batch).delete()  # personal data leaves the transfer area
            batch.status, batch.completed_at, batch.transfer_purged_at = BatchStatus.COMPLETED, moment, moment
        elif not pending:
            batch.status = BatchStatus.PRODUCED
        batch.save(update_fields=["status", "completed_at", "transfer_purged_at"])
        shipped = sum(len(ids) for ids in ship.values())
        audit.extra.update({"produced": len(produce), "defective": len(defect), "shipped": shipped,
                            "shipments": len(ship), "certificates": certificates, "completed": completed})
        return StatusSummary(len(produce), len(defect), shipped, certificates, completed)


def _issue_certificates(card_ids: list[int], ca: CitizenCa) -> int:
    """Certificates of newly produced cards that asked for one; one UPDATE per distinct validity period."""
    requests: list[CertificateRequest] = []
    for chunk in chunks(card_ids):
        requests.extend(
            CertificateRequest(CardRef(pk, serial), issue, renewal) for pk, serial, issue, renewal in
            Card.objects.filter(pk__in=chunk, certificate_state=CertificateState.PENDING)
            .values_list("pk", "serial", "issue_date", "renewal_date"))
    if not requests:
        return 0
    issued = ca.issue(requests)
    periods: dict[tuple[datetime.datetime, datetime.datetime], list[int]] = defaultdict(list)
    for certificate in issued:
        periods[(certificate.not_before, certificate.not_after)].append(certificate.card.card_id)
    for (not_before, not_after), ids in periods.items():
        for chunk in chunks(ids):
            Card.objects.filter(pk__in=chunk).update(certificate_state=CertificateState.ACTIVE,
                                                     certificate_not_before=not_before,
                                                     certificate_not_after=not_after)
    return len(issued)
