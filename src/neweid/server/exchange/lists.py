"""The per-office daily lists for the household registration system (Ch.6 肆.二(一), (四), (五)).

Each list is built from the management system's own records for one office and one local (Taipei) day;
a row carries the ID number so the register can match it, and personal data beyond it only in the
accepted list (換發證申請成功名單與個人資料), which is the one the report says carries it. Which office a row
belongs to: applications by the office that took them; cards by their pickup office.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from django.db.models import Q

from neweid.server.accounts.models import Office
from neweid.server.applications.models import Application, Kind, ReplacementReason, Status
from neweid.server.cards.models import Card, CardEvent
from neweid.server.cards.states import CardState
from neweid.server.errors import NotFoundError
from neweid.server.exchange.errors import ExchangeFileError
from neweid.server.exchange.fileformat import (
    AcceptedRecord,
    CancellationFlagRecord,
    DefectiveReturnRecord,
    FaceChangeRecord,
    FailedRecord,
    FileType,
    LossFlagRecord,
    Record,
    RoutineRecord,
    WithdrawnRecord,
    encode_file,
)
from neweid.server.operations.models import LossReport
from neweid.server.operations.rules import TAIPEI
from neweid.server.registry.values import PersonStatus

REGISTERED = [s.value for s in PersonStatus if s.is_registered]
ROUTINE_KINDS = (Kind.FIRST_ISSUANCE, Kind.REISSUE_LOSS, Kind.REPLACEMENT)
_CANCELLATION_FLAGS = {CardState.VOIDED: "voided", CardState.REISSUED: "invalidated",
                       CardState.REPLACED: "invalidated"}


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the local day in Taipei, as aware datetimes."""
    start = datetime.datetime.combine(day, datetime.time(), tzinfo=TAIPEI)
    return start, start + datetime.timedelta(days=1)


def _accepted(office: Office, day: datetime.date) -> list[Record]:
    cards = (Card.objects.filter(batch__production_date=day, reproduction_of__isnull=True,
                                 application__office=office)
             .select_related("person", "application", "pickup_office").order_by("serial"))
    return [AcceptedRecord(
        application_id=c.application_id, kind=c.application.kind, id_number=c.person.id_number,
        surname=c.person.surname, given_name=c.person.given_name, romanised_name=c.person.romanised_name,
        sex=c.person.sex, birth_date=c.person.birth_date, card_serial=c.serial,
        pickup_office=c.pickup_office.code, issue_date=c.issue_date, renewal_date=c.renewal_date,
        certificate=c.certificate_state) for c in cards]


def _cancelled(office: Office, day: datetime.date, *, registered: bool) -> list[Application]:
    start, end = day_bounds(day)
    rows = (Application.objects.defer("photo").select_related("person")
            .filter(office=office, status=Status.CANCELLED, cancelled_at__gte=start, cancelled_at__lt=end)
            .order_by("pk"))
    condition = Q(person__status__in=REGISTERED)
    return list(rows.filter(condition) if registered else rows.exclude(condition))


def _failed(office: Office, day: datetime.date) -> list[Record]:
    """Applications cancelled because the person is no longer on the register (found at batch time)."""
    return [FailedRecord(application_id=a.pk, kind=a.kind, id_number=a.person.id_number,
                         reason=a.person.status, cancelled_at=_aware(a.cancelled_at))
            for a in _cancelled(office, day, registered=False)]


def _withdrawn(office: Office, day: datetime.date) -> list[Record]:
    """Applications withdrawn (撤銷請領) by the applicant while the person is still registered."""
    return [WithdrawnRecord(application_id=a.pk, kind=a.kind, id_number=a.person.id_number,
                            cancelled_at=_aware(a.cancelled_at))
            for a in _cancelled(office, day, registered=True)]


def _events(office: Office, day: datetime.date, states: Sequence[CardState]) -> list[CardEvent]:
    start, end = day_bounds(day)
    return list(CardEvent.objects.filter(card__pickup_office=office, to_state__in=[s.value for s in states],
                                         at__gte=start, at__lt=end)
                .select_related("card", "card__person", "card__application", "card__reproduction")
                .order_by("card__serial", "at", "pk"))


def _defective_returns(office: Office, day: datetime.date) -> list[Record]:
    records: list[Record] = []
    for event in _events(office, day, (CardState.DEFECTIVE,)):
        card = event.card
        again = getattr(card, "reproduction", None)
        records.append(DefectiveReturnRecord(
            card_serial=card.serial, id_number=card.person.id_number, defect_source=card.defect_source,
            defect_note=card.defect_note, defective_at=event.at,
            reproduced_as=again.serial if isinstance(again, Card) else None))
    return records


def _routine(office: Office, day: datetime.date) -> list[Record]:
    return [RoutineRecord(card_serial=e.card.serial, id_number=e.card.person.id_number,
                          application_id=e.card.application_id, kind=e.card.application.kind,
                          replacement_reason=e.card.application.replacement_reason, issued_at=e.at)
            for e in _events(office, day, (CardState.ISSUED,))
            if e.from_state == CardState.NOTIFIED and e.card.application.kind in ROUTINE_KINDS]


def _face_changes(office: Office, day: datetime.date) -> list[Record]:
    start, end = day_bounds(day)
    rows = (Application.objects.defer("photo").select_related("person")
            .filter(office=office, kind=Kind.REPLACEMENT, replacement_reason=ReplacementReason.FACE_CHANGE,
                    submitted_at__gte=start, submitted_at__lt=end).order_by("pk"))
    return [FaceChangeRecord(application_id=a.pk, id_number=a.person.id_number, status=a.status,
                             submitted_at=a.submitted_at) for a in rows]


def _loss_flags(office: Office, day: datetime.date) -> list[Record]:
    start, end = day_bounds(day)
    reports = (LossReport.objects.filter(card__pickup_office=office)
               .filter(Q(reported_at__gte=start, reported_at__lt=end)
                       | Q(revoked_at__gte=start, revoked_at__lt=end))
               .select_related("card", "person").order_by("card__serial", "pk"))
    flags: list[tuple[datetime.datetime, Record]] = []
    for report in reports:
        if start <= report.reported_at < end:
            flags.append((report.reported_at, LossFlagRecord(
                card_serial=report.card.serial, id_number=report.person.id_number, flag="lost",
                channel=report.channel, at=report.reported_at)))
        if report.revoked_at is not None and start <= report.revoked_at < end:
            flags.append((report.revoked_at, LossFlagRecord(
                card_serial=report.card.serial, id_number=report.person.id_number, flag="loss_revoked",
                channel=report.revoked_channel, at=report.revoked_at)))
    return [record for _, record in sorted(flags, key=lambda item: item[0])]


def _cancellation_flags(office: Office, day: datetime.date) -> list[Record]:
    return [CancellationFlagRecord(card_serial=e.card.serial, id_number=e.card.person.id_number,
                                   flag=_CANCELLATION_FLAGS[CardState(e.to_state)],
                                   reason=e.card.void_reason or e.to_state, at=e.at)
            for e in _events(office, day, tuple(_CANCELLATION_FLAGS))]


_BUILDERS: dict[FileType, Callable[[Office, datetime.date], list[Record]]] = {
    FileType.ACCEPTED: _accepted, FileType.FAILED: _failed, FileType.DEFECTIVE_RETURNS: _defective_returns,
    FileType.ROUTINE: _routine, FileType.FACE_CHANGES: _face_changes, FileType.WITHDRAWN: _withdrawn,
    FileType.LOSS_FLAGS: _loss_flags, FileType.CANCELLATION_FLAGS: _cancellation_flags,
}
REGISTRY_LISTS = frozenset(_BUILDERS)


def _aware(moment: datetime.datetime | None) -> datetime.datetime:
    if moment is None:  # pragma: no cover (cancelled applications always have the time)
        raise ExchangeFileError("a cancelled application without its time")
    return moment


def registry_list(file_type: FileType, office_code: str, day: datetime.date, *,
                  now: datetime.datetime) -> bytes:
    """The file ``file_type`` of office ``office_code`` for ``day`` (see :mod:`fileformat`)."""
    builder = _BUILDERS.get(FileType(file_type))
    if builder is None:
        raise ExchangeFileError(f"{file_type} is not a list for the household registration system")
    office = Office.objects.filter(code=office_code).first()
    if office is None:
        raise NotFoundError()
    return encode_file(FileType(file_type), builder(office, day), office=office.code, created=now)
