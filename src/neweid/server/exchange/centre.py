"""The production centre behind the exchange API: a :class:`~neweid.server.cards.production.ProductionCentre`
whose "send" prepares the integrated production package in the transfer area and whose "poll" reads the
status replies the centre has posted (Ch.6 肆.三).

Name it in the settings to use it: ``NEWEID_PRODUCTION_CENTRE =
"neweid.server.exchange.centre.ExchangeProductionCentre"``.

Sending a batch (inside :func:`~neweid.server.cards.batching.do_send_batch`'s transaction):

1. each card gets one of the blank chips the centre pre-produced (its serial and 4 CSRs), oldest first;
   not enough chips and nothing changes (:class:`NotEnoughBlankChipsError`);
2. the citizen CA certifies the chip's keys of the cards that asked for a certificate (the CA's
   ``issue`` is idempotent per card, so the production step issuing "again" gets the same certificates);
3. one package line per card: personal data, the photo (base64) and the certificates (PEM), and for a
   re-production the defective card's serial and chip serial.

The lines are deleted with the batch's transfer records once every card is accounted for (see
:mod:`neweid.server.exchange.wiring`). Polling returns the latest posted status of each card; cards the
centre reports defective have the certificates issued for their chip revoked at once.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from django.utils import timezone

from neweid.server.applications.models import Application
from neweid.server.cards.ca import CardRef, CertificateRequest, CitizenCa, RevocationReason, get_citizen_ca
from neweid.server.cards.errors import BatchStateError
from neweid.server.cards.models import Card, ProductionBatch
from neweid.server.cards.production import BatchFile, CardStatus, ProductionOutcome
from neweid.server.cards.states import CardState
from neweid.server.cards.transitions import INSERT_BATCH, chunks
from neweid.server.exchange.errors import FileGoneError, NotEnoughBlankChipsError
from neweid.server.exchange.fileformat import (
    CardPerson,
    FileType,
    PackageRecord,
    encode_header,
    encode_record,
)
from neweid.server.exchange.models import BlankChip, PackageFile, PackageLine, StatusReply

PHOTO_CHUNK = 200  # photos read per query (each up to 5 MB)
_PERSON_FIELDS = tuple(f for f in CardPerson.__dataclass_fields__)


@runtime_checkable
class CertificateSource(Protocol):
    """A CA that can hand out the certificates it issued for a card (PEM), for the package."""

    def certificate_pems(self, card_serial: str) -> tuple[str, ...]: ...


def _chip_assignments(batch: ProductionBatch, cards: Sequence[tuple[int, str]],
                      now: datetime.datetime) -> dict[str, BlankChip]:
    """serial -> blank chip: chips already assigned (a retried send) and new ones, oldest first."""
    assigned = {chip.card_id: chip for chip in BlankChip.objects.filter(card__batch=batch)}
    missing = [(pk, serial) for pk, serial in cards if pk not in assigned]
    free = list(BlankChip.objects.select_for_update(skip_locked=True).filter(card__isnull=True)
                .order_by("received_at", "pk")[:len(missing)])
    if len(free) < len(missing):
        raise NotEnoughBlankChipsError()
    for chip, (pk, _) in zip(free, missing, strict=True):
        chip.card_id, chip.assigned_at = pk, now
        assigned[pk] = chip
    BlankChip.objects.bulk_update(free, ["card", "assigned_at"], batch_size=INSERT_BATCH)
    return {serial: assigned[pk] for pk, serial in cards}


def _photos(application_ids: Sequence[int]) -> Iterator[tuple[int, bytes]]:
    for chunk in chunks(list(application_ids), PHOTO_CHUNK):
        for pk, photo in Application.objects.filter(pk__in=chunk).values_list("pk", "photo"):
            yield pk, bytes(photo)


def _person(data: Mapping[str, Any]) -> CardPerson:
    values = {name: data[name] for name in _PERSON_FIELDS}
    values["birth_date"] = datetime.date.fromisoformat(str(values["birth_date"]))
    return CardPerson(**values)


def _date(value: object) -> datetime.date | None:
    return None if value is None else datetime.date.fromisoformat(str(value))


class ExchangeProductionCentre:
    """See the module's docstring."""

    def __init__(self, *, ca: Callable[[], CitizenCa] = get_citizen_ca,
                 clock: Callable[[], datetime.datetime] = timezone.now) -> None:
        self._ca = ca
        self._clock = clock

    def send_batch(self, batch: BatchFile) -> None:
        row = ProductionBatch.objects.filter(reference=batch.reference).first()
        if row is None:
            raise BatchStateError()
        known = PackageFile.objects.filter(batch=row).first()
        if known is not None:
            if known.batch_digest != batch.digest:
                raise BatchStateError()
            return
        now = self._clock()
        cards = {serial: (pk, app, again) for pk, serial, app, again in Card.objects.filter(
            batch=row, serial__in=[r.serial for r in batch.records])
            .values_list("pk", "serial", "application_id", "reproduction_of__serial")}
        if len(cards) != len(batch.records):
            raise BatchStateError()
        chips = _chip_assignments(row, [(cards[r.serial][0], r.serial) for r in batch.records], now)
        defective_chips = dict(BlankChip.objects.filter(
            card__serial__in=[again for _, _, again in cards.values() if again])
            .values_list("card__serial", "chip_serial"))
        pems = self._certify(batch, cards)
        photos = dict(_photos([app for _, app, _ in cards.values()]))
        hasher = hashlib.sha256()
        lines = []
        for record in batch.records:
            _, app, again = cards[record.serial]
            data = record.data
            line = encode_record(PackageRecord(
                serial=record.serial, pickup_office=record.pickup_office,
                chip_serial=chips[record.serial].chip_serial, reproduction_of=again,
                defective_chip_serial=defective_chips.get(again) if again else None,
                issue_date=datetime.date.fromisoformat(str(data["issue_date"])),
                renewal_date=_date(data.get("renewal_date")), certificate=bool(data.get("certificate")),
                person=_person(data), photo_jpeg=base64.b64encode(photos.get(app, b"")).decode("ascii"),
                certificates=pems.get(record.serial, ())))
            hasher.update(line)
            lines.append((record.serial, line))
        package = PackageFile.objects.create(batch=row, batch_digest=batch.digest, created_at=now,
                                             count=len(lines), sha256=hasher.hexdigest())
        PackageLine.objects.bulk_create((PackageLine(package=package, serial=serial, line=line)
                                         for serial, line in lines), batch_size=INSERT_BATCH)

    def _certify(self, batch: BatchFile,
                 cards: Mapping[str, tuple[int, int, str | None]]) -> dict[str, tuple[str, ...]]:
        requests = [CertificateRequest(CardRef(cards[r.serial][0], r.serial),
                                       datetime.date.fromisoformat(str(r.data["issue_date"])),
                                       _date(r.data.get("renewal_date")))
                    for r in batch.records if r.data.get("certificate")]
        if not requests:
            return {}
        ca = self._ca()
        ca.issue(requests)
        if not isinstance(ca, CertificateSource):
            return {}
        return {r.card.serial: ca.certificate_pems(r.card.serial) for r in requests}

    def poll_status(self, reference: str) -> tuple[CardStatus, ...]:
        replies = list(StatusReply.objects.filter(batch__reference=reference).order_by("serial")
                       .values_list("serial", "outcome", "shipment"))
        defective = [serial for serial, outcome, _ in replies if outcome == ProductionOutcome.DEFECTIVE]
        if defective:
            newly = [CardRef(pk, serial) for pk, serial in Card.objects.filter(
                batch__reference=reference, serial__in=defective,
                state__in=(CardState.IN_PRODUCTION, CardState.PRODUCED)).values_list("pk", "serial")]
            if newly and PackageFile.objects.filter(batch__reference=reference).exists():
                self._ca().revoke(newly, RevocationReason.CESSATION_OF_OPERATION)
        return tuple(CardStatus(serial, ProductionOutcome(outcome), shipment)
                     for serial, outcome, shipment in replies)


def package_stream(reference: str, *, now: datetime.datetime) -> tuple[PackageFile, Iterator[bytes]]:
    """The production package of a batch: its header and lines, read from the transfer area."""
    package = PackageFile.objects.select_related("batch").filter(batch__reference=reference).first()
    if package is None:
        raise FileGoneError()
    PackageFile.objects.filter(pk=package.pk).update(fetched_at=now)
    header = encode_header(FileType.PACKAGE, office=None, created=package.created_at, count=package.count,
                           sha256=package.sha256, batch=reference)

    def lines() -> Iterator[bytes]:
        yield header
        for line in PackageLine.objects.filter(package=package).order_by("serial").values_list(
                "line", flat=True).iterator(chunk_size=100):
            yield bytes(line)

    return package, lines()
