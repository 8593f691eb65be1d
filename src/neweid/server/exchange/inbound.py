"""Files the other systems post: blank chips with their keys' CSRs and the status replies from the
production centre, change notifications from the household registration system.

Each is one audited action on behalf of the system (actor ``system:<name>``), all-or-nothing, and
idempotent: posting the same file twice changes nothing the second time.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from neweid.pki.ca.errors import CaError
from neweid.pki.ca.profiles import KeyAlgorithm, load_csr
from neweid.server.audit.log import audited_action
from neweid.server.cards.errors import BatchStateError
from neweid.server.cards.models import BatchStatus, Card, ProductionBatch
from neweid.server.cards.states import LIVE_STATES
from neweid.server.cards.transitions import INSERT_BATCH, chunks
from neweid.server.exchange.errors import ChipAlreadyKnownError, ExchangeFileError, UnknownCardError
from neweid.server.exchange.fileformat import (
    ExchangeFile,
    FileType,
    KeyMaterialRecord,
    NotificationRecord,
    StatusRecord,
)
from neweid.server.exchange.models import BlankChip, ExchangeSystem, RegistryNotification, StatusReply

Clock = Callable[[], datetime.datetime]
_CSR_FIELDS = (("csr_sign_rsa", KeyAlgorithm.RSA_2048), ("csr_encrypt_rsa", KeyAlgorithm.RSA_2048),
               ("csr_sign_ec", KeyAlgorithm.EC_P521), ("csr_encrypt_ec", KeyAlgorithm.EC_P521))


@dataclass(frozen=True)
class Received:
    received: int
    duplicates: int
    cards_affected: int = 0


def _expect(file: ExchangeFile, file_type: FileType) -> None:
    if file.header.type is not file_type:
        raise ExchangeFileError(f"a {file_type.value} file was expected")


def _check_csrs(record: KeyMaterialRecord, line: int) -> None:
    for name, algorithm in _CSR_FIELDS:
        try:
            key = load_csr(getattr(record, name).encode("ascii"))
        except (CaError, UnicodeEncodeError):
            raise ExchangeFileError(f"line {line}.{name}: not a valid certificate request") from None
        if key.algorithm is not algorithm:
            raise ExchangeFileError(f"line {line}.{name}: the key must be {algorithm.value}")


def do_receive_key_material(file: ExchangeFile, *, system: ExchangeSystem,
                            now: Clock = timezone.now) -> Received:
    """Blank chips pre-produced by the centre (Ch.6 肆.三(二)): each chip serial with its 4 CSRs."""
    _expect(file, FileType.KEY_MATERIAL)
    with audited_action("exchange.production.key_material", actor=system.actor, object_type="exchange_file",
                        object_id=file.header.sha256[:16]) as audit:
        records = [r for r in file.records if isinstance(r, KeyMaterialRecord)]
        serials = [r.chip_serial for r in records]
        if len(set(serials)) != len(serials):
            raise ExchangeFileError("a chip serial appears twice in the file")
        known: dict[str, tuple[str, ...]] = {}
        for chunk in chunks(serials):
            known.update((chip.chip_serial, chip.csrs())
                         for chip in BlankChip.objects.filter(chip_serial__in=chunk))
        new = []
        for line, record in enumerate(records, start=2):
            csrs = (record.csr_sign_rsa, record.csr_encrypt_rsa, record.csr_sign_ec, record.csr_encrypt_ec)
            if record.chip_serial in known:
                if known[record.chip_serial] != csrs:
                    raise ChipAlreadyKnownError()
                continue
            _check_csrs(record, line)
            new.append(BlankChip(chip_serial=record.chip_serial, csr_sign_rsa=csrs[0],
                                 csr_encrypt_rsa=csrs[1], csr_sign_ec=csrs[2], csr_encrypt_ec=csrs[3],
                                 received_at=now(),
                                 received_from=system.name))
        BlankChip.objects.bulk_create(new, batch_size=INSERT_BATCH)
        audit.extra.update({"chips": len(new), "duplicates": len(records) - len(new)})
        return Received(len(new), len(records) - len(new))


def do_receive_status(file: ExchangeFile, *, system: ExchangeSystem, now: Clock = timezone.now) -> Received:
    """Status replies for one batch (Ch.6 肆.二(三)): produced, defective (with the chip serial and what
    is wrong), shipped. Applied to the cards by the next poll (``neweid cards poll``)."""
    _expect(file, FileType.STATUS)
    reference = file.header.batch or ""
    with audited_action("exchange.production.status", actor=system.actor, object_type="production_batch",
                        object_id=reference) as audit:
        batch = ProductionBatch.objects.select_for_update().filter(reference=reference).first()
        if batch is None or batch.status not in (BatchStatus.SENT, BatchStatus.PRODUCED):
            raise BatchStateError()
        records = [r for r in file.records if isinstance(r, StatusRecord)]
        cards = dict(Card.objects.filter(batch=batch).values_list("serial", "blank_chip__chip_serial"))
        for record in records:
            if record.serial not in cards:
                raise UnknownCardError()
            if record.chip_serial and cards[record.serial] not in (None, record.chip_serial):
                raise ExchangeFileError(f"card {record.serial}: the chip serial is not the card's chip")
            if record.outcome == "shipped" and not record.shipment:
                raise ExchangeFileError(f"card {record.serial}: a shipped card needs its shipment")
        existing = {reply.serial: reply for reply in StatusReply.objects.filter(batch=batch)}
        changed, added = [], []
        for record in records:
            values = {"outcome": record.outcome, "shipment": record.shipment,
                      "chip_serial": record.chip_serial, "defect_note": record.defect_note[:200]}
            reply = existing.get(record.serial)
            if reply is None:
                added.append(StatusReply(batch=batch, serial=record.serial, received_at=now(),
                                         received_from=system.name, **values))
            elif any(getattr(reply, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(reply, key, value)
                reply.received_at, reply.received_from = now(), system.name
                changed.append(reply)
        StatusReply.objects.bulk_create(added, batch_size=INSERT_BATCH)
        StatusReply.objects.bulk_update(changed, ["outcome", "shipment", "chip_serial", "defect_note",
                                                  "received_at", "received_from"], batch_size=INSERT_BATCH)
        audit.extra.update({"replies": len(records), "new": len(added), "changed": len(changed),
                            "defective": sum(1 for r in records if r.outcome == "defective")})
        return Received(len(added) + len(changed), len(records) - len(added) - len(changed))


def do_receive_notifications(file: ExchangeFile, *, system: ExchangeSystem,
                             now: Clock = timezone.now) -> Received:
    """Registry changes (deaths, emigrations, name changes...), kept for the offices' follow-up (voiding,
    chip updates); the reply counts the live cards of the people named."""
    _expect(file, FileType.NOTIFICATIONS)
    with audited_action("exchange.registry.notifications", actor=system.actor, object_type="exchange_file",
                        object_id=file.header.sha256[:16]) as audit:
        records = [r for r in file.records if isinstance(r, NotificationRecord)]
        ids = [r.event_id for r in records]
        known: set[int] = set()
        for chunk in chunks(ids):
            known.update(RegistryNotification.objects.filter(event_id__in=chunk)
                         .values_list("event_id", flat=True))
        new = {r.event_id: r for r in records if r.event_id not in known}
        RegistryNotification.objects.bulk_create(
            (RegistryNotification(event_id=r.event_id, kind=r.kind, id_number=r.id_number,
                                  effective_date=r.effective_date, recorded_at=r.recorded_at,
                                  received_at=now(), received_from=system.name)
             for r in new.values()), batch_size=INSERT_BATCH)
        people = sorted({r.id_number for r in new.values()})
        affected = sum(Card.objects.filter(person__id_number__in=chunk, state__in=list(LIVE_STATES)).count()
                       for chunk in chunks(people))
        audit.extra.update({"notifications": len(new), "duplicates": len(records) - len(new),
                            "cards_affected": affected})
        return Received(len(new), len(records) - len(new), affected)
